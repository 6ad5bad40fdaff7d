import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePlistDict, encodePlist, PlistError, plistToJson } from '../../src/protocol/plist.ts';
import { fixture } from '../helpers/device.ts';

describe('plist codec', () => {
  it('decodes a real device message from bytes, with <data> as bytes', () => {
    const msg = decodePlistDict(fixture('nanomdm/mdm/testdata/TokenUpdate.2.plist'));
    assert.equal(msg.MessageType, 'TokenUpdate');
    assert.ok(msg.Token instanceof Uint8Array);
    assert.equal(Buffer.from(msg.Token).toString('base64'), 'G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw=');
  });

  it('round-trips what it encodes', () => {
    const value = { a: 'x', n: 3, f: 1.5, t: true, d: new Date('2024-01-02T03:04:05Z'), b: Buffer.from([1, 2, 3]), l: [{ k: 'v' }] };
    const back = decodePlistDict(encodePlist(value));
    assert.deepEqual(plistToJson(back), plistToJson(value));
  });

  it('turns data into base64 and dates into ISO 8601 for JSON', () => {
    assert.deepEqual(plistToJson({ d: new Uint8Array([0xff]), t: new Date(0), n: [1] }), { d: '/w==', t: '1970-01-01T00:00:00.000Z', n: [1] });
  });

  it('accepts a byte order mark and the standard Apple DOCTYPE', () => {
    const body = '\ufeff' + fixture('nanomdm/mdm/testdata/Authenticate.2.plist').toString();
    assert.equal(decodePlistDict(body).MessageType, 'Authenticate');
  });

  for (const [name, body] of [
    ['an entity declaration', '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY a "b">]><plist><dict/></plist>'],
    ['an internal DTD subset', '<!DOCTYPE plist [ ]><plist><dict/></plist>'],
    ['an OpenStep plist', '{ a = b; }'],
    ['a binary plist', 'bplist00'],
    ['unclosed tags', '<plist><dict><key>a</key><string>b</string></plist>'],
    ['an array root', '<plist><array/></plist>'],
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
