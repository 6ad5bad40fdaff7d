import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, parse } from 'plist';
import { decodePlistDict, encodePlist, isDict, MAX_PLIST_DEPTH, PlistError, plistToJson, type PlistDict, type PlistValue } from '../../src/protocol/plist.ts';
import { fixture, FIXTURES } from '../helpers/device.ts';

const doc = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>${inner}</dict></plist>`;
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : name.endsWith('.plist') ? [join(dir, name)] : []));
const nested = (depth: number) => `<plist>${'<dict><key>k</key>'.repeat(depth - 1)}<dict/>${'</dict>'.repeat(depth - 1)}</plist>`;

describe('plist codec', () => {
  it('decodes a real device message from bytes, with <data> as bytes', () => {
    const msg = decodePlistDict(fixture('nanomdm/mdm/testdata/TokenUpdate.2.plist'));
    assert.equal(msg.MessageType, 'TokenUpdate');
    assert.ok(msg.Token instanceof Uint8Array);
    assert.equal(Buffer.from(msg.Token).toString('base64'), 'G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw=');
  });

  it('reads every element as the plist package does, for real messages and Apple examples', () => {
    for (const name of ['nanomdm/mdm/testdata/Authenticate.2.plist', 'nanomdm/mdm/testdata/TokenUpdate.1.plist', 'apple-examples/mdm/commands/information.device/example2.plist', 'apple-examples/mdm/commands/certificate.list/example2.plist', 'apple-examples/mdm/profiles/com.apple.mdm/example1.plist']) {
      const text = fixture(name).toString('utf8');
      assert.deepEqual(decodePlistDict(text), parse(text), name);
    }
  });

  it('writes the very bytes the plist package writes, for every fixture and the awkward values', () => {
    const fixtures = files(fileURLToPath(FIXTURES));
    assert.ok(fixtures.length > 100);
    const awkward: PlistValue[] = [
      {},
      [],
      'top-level string',
      { empty: '', list: [], dict: {}, data: new Uint8Array(0), key: { '': 'empty key' } },
      { numbers: [0, -0, 1, -1, 1.5, -2.25, 1e21, 2 ** 53 + 2, 0.1 + 0.2], flags: [true, false] },
      { text: 'a&b<c>d"e\'f\r\ng\tx]]>y 😀', 'k&<>"': 1 },
      { when: new Date('2024-01-02T03:04:05.678Z'), bytes: Buffer.from([0, 255, 7]) },
    ];
    for (const value of [...fixtures.map((f) => decodePlistDict(readFileSync(f))), ...awkward]) {
      assert.equal(encodePlist(value), build(value as Parameters<typeof build>[0]));
    }
    assert.throws(() => encodePlist({ bad: 'a\u0001b' }), PlistError);
  });

  it('round-trips what it encodes', () => {
    const value: PlistDict = { a: 'x < y & "z"\n', n: 3, f: 1.5, t: true, u: false, d: new Date('2024-01-02T03:04:05Z'), b: Buffer.from([1, 2, 3]), l: [{ k: 'v' }, [], {}], e: '' };
    const back = decodePlistDict(encodePlist(value));
    assert.deepEqual(plistToJson(back), plistToJson(value));
  });

  it('reads text as XML does: entities, character references, CDATA, comments, CR LF', () => {
    const body = doc('<key>a</key><string>&lt;&amp;&gt;&quot;&apos;&#65;&#x1F600;</string><key>b</key><string><![CDATA[<x>&amp;]]>!<!-- note --></string><key>c</key><string>one\r\ntwo\rthree</string>');
    assert.deepEqual(decodePlistDict(body), { a: '<&>"\'A😀', b: '<x>&amp;!', c: 'one\ntwo\nthree' });
  });

  it('turns data into base64 and dates into ISO 8601 for JSON', () => {
    assert.deepEqual(plistToJson({ d: new Uint8Array([0xff]), t: new Date(0), n: [1] }), { d: '/w==', t: '1970-01-01T00:00:00.000Z', n: [1] });
  });

  it('accepts a byte order mark and the standard Apple DOCTYPE', () => {
    const body = '\ufeff' + fixture('nanomdm/mdm/testdata/Authenticate.2.plist').toString();
    assert.equal(decodePlistDict(body).MessageType, 'Authenticate');
  });

  describe('values it cannot interpret', () => {
    const unreadable: [string, string][] = [
      ['date', 'not-a-date'],
      ['date', '0000-00-00T00:00:00Z'],
      ['date', '2024-13-45T25:61:61Z'],
      ['date', '+275760-09-13T00:00:00.001Z'],
      ['date', '2023-02-29T00:00:00Z'],
      ['date', ''],
      ['integer', 'twelve'],
      ['integer', '1.5'],
      ['real', 'nan'],
      ['real', '1e999'],
      ['data', 'not base64!'],
    ];
    for (const [type, text] of unreadable) {
      it(`keeps <${type}>${text}</${type}> as its text by default, and refuses it naming the key path when asked`, () => {
        const body = doc(`<key>Outer</key><array><string>x</string><dict><key>When</key><${type}>${text}</${type}></dict></array>`);
        const value = decodePlistDict(body);
        assert.deepEqual(value, { Outer: ['x', { When: text }] });
        assert.doesNotThrow(() => JSON.stringify(plistToJson(value)));
        assert.throws(
          () => decodePlistDict(body, { unreadable: 'refuse' }),
          (err: unknown) => err instanceof PlistError && err.keyPath === 'Outer[1].When' && err.message.startsWith(`Outer[1].When: <${type}>`),
        );
      });
    }

    it('reads what is readable: leap days, fractions, hex and 64-bit integers', () => {
      const body = doc('<key>a</key><date>2024-02-29T23:59:59Z</date><key>b</key><date>2024-01-01T00:00:00.250Z</date><key>c</key><integer>0x1F</integer><key>d</key><integer>18446744073709551615</integer><key>e</key><real>-2.5e3</real><key>f</key><data>AQID\n BA==</data>');
      const value = decodePlistDict(body, { unreadable: 'refuse' });
      assert.deepEqual(value, {
        a: new Date('2024-02-29T23:59:59Z'),
        b: new Date('2024-01-01T00:00:00.250Z'),
        c: 31,
        // More than a JS number holds exactly: kept as its digits rather than rounded.
        d: '18446744073709551615',
        e: -2500,
        f: new Uint8Array([1, 2, 3, 4]),
      });
    });
  });

  describe('nesting', () => {
    it(`reads ${MAX_PLIST_DEPTH} levels and refuses one more while parsing, without recursion`, () => {
      let value: PlistValue = decodePlistDict(nested(MAX_PLIST_DEPTH));
      for (let level = 1; level < MAX_PLIST_DEPTH; level++) value = (value as { k: PlistValue }).k;
      assert.deepEqual(value, {});
      assert.throws(() => decodePlistDict(nested(MAX_PLIST_DEPTH + 1)), (err: unknown) => err instanceof PlistError && /nested deeper than 128 levels/.test(err.message));
      // What the fuzzer sent: far too deep for any recursive walk.
      assert.throws(() => decodePlistDict(nested(5000)), PlistError);
    });
  });

  describe('reading only the top level', () => {
    const topLevel = { onlyTopLevel: { except: ['ErrorChain'] } };
    /** The full read, with the root's dictionaries and arrays other than ErrorChain left out. */
    const expected = (full: PlistDict) => Object.fromEntries(Object.entries(full).filter(([k, v]) => k === 'ErrorChain' || !(Array.isArray(v) || (isDict(v)))));

    it('keeps the top-level values and ErrorChain, and leaves the other containers out', () => {
      const body = doc('<key>Status</key><string>Error</string><key>N</key><integer>3</integer><key>QueryResponses</key><dict><key>A</key><array><string>x</string></array></dict>' +
        '<key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>1</integer></dict></array><key>Empty</key><array/>');
      assert.deepEqual(decodePlistDict(body, topLevel), { Status: 'Error', N: 3, ErrorChain: [{ ErrorCode: 1 }] });
    });

    it('accepts and refuses exactly what a full read does', () => {
      const bodies = [
        ...files(fileURLToPath(FIXTURES)).map((f) => readFileSync(f, 'utf8')),
        nested(MAX_PLIST_DEPTH), nested(MAX_PLIST_DEPTH + 1),
        doc('<key>R</key><dict><key>__proto__</key><string>x</string></dict>'),
        doc('<key>R</key><dict><key>__pro&#116;o__</key><string>x</string></dict>'),
        doc('<key>R</key><dict><key><![CDATA[__proto__]]></key><string>x</string></dict>'),
        doc('<key>R</key><dict><key>a</key><string>a &amp; b</string></dict>'),
        doc('<key>R</key><dict><key>a</key><string>a & b</string></dict>'),
        doc('<key>R</key><dict><key>a</key><string>&#0;</string></dict>'),
        doc('<key>R</key><array><true>x</true></array>'),
        doc('<key>R</key><array><string>x<b/></string></array>'),
        doc('<key>R</key><array><null/></array>'),
        doc('<key>R</key><dict><key>a</key></dict>'),
        doc('<key>R</key><dict><string>a</string></dict>'),
        doc('<key>R</key><array><![CDATA[x]]></array>'),
        doc('<key>R</key><array><string><![CDATA[x</string>]]></string></array>'),
        doc('<key>R</key><array><date>not-a-date</date><data>!!</data></array>'),
        doc('<key>R</key><array></dict>'),
      ];
      for (const body of bodies) {
        let full: PlistDict | Error;
        try {
          full = decodePlistDict(body);
        } catch (err) {
          full = err as Error;
        }
        if (full instanceof Error) assert.throws(() => decodePlistDict(body, topLevel), PlistError, body.slice(0, 200));
        else assert.deepEqual(decodePlistDict(body, topLevel), expected(full), body.slice(0, 200));
      }
    });
  });

  for (const [name, body] of [
    ['an entity declaration', '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "b">]><plist><dict/></plist>'],
    ['an internal DTD subset', '<!DOCTYPE plist [ ]><plist><dict/></plist>'],
    ['an undefined entity', doc('<key>a</key><string>&x;</string>')],
    ['a bare ampersand', doc('<key>a</key><string>a & b</string>')],
    ['an OpenStep plist', '{ a = b; }'],
    ['a binary plist', 'bplist00'],
    ['unclosed tags', '<plist><dict><key>a</key><string>b</string></plist>'],
    ['mismatched tags', '<plist><dict><key>a</key><string>b</integer></dict></plist>'],
    ['a key without a value', doc('<key>a</key>')],
    ['a value without a key', doc('<string>a</string>')],
    ['an element inside a string', doc('<key>a</key><string>x<b/></string>')],
    ['text between elements', doc('<key>a</key>oops<string>b</string>')],
    ['an unknown element', doc('<key>a</key><null/>')],
    ['two root values', '<plist><dict/><dict/></plist>'],
    ['content after the document', '<plist><dict/></plist><plist/>'],
    ['a __proto__ key', doc('<key>__proto__</key><dict><key>polluted</key><true/></dict>')],
    ['an array root', '<plist><array/></plist>'],
    ['an empty plist', '<plist/>'],
    ['an empty body', ''],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => decodePlistDict(body), PlistError);
    });
  }

  it('refuses invalid UTF-8', () => {
    assert.throws(() => decodePlistDict(new Uint8Array([0x3c, 0xff])), PlistError);
  });
});
