import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePlistDict, MAX_PLIST_DEPTH, PlistError } from '../../src/protocol/plist.ts';
import { decodeDeviceBody, OFF_THREAD_BODY_BYTES } from '../../src/threads/plist-decoder.ts';

const doc = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><plist version="1.0"><dict>${inner}</dict></plist>`;
const entries = (n: number) =>
  Array.from({ length: n }, (_, i) => `<key>K${i}</key><array><integer>${i}</integer><string>v${i}</string><date>2024-0${1 + (i % 9)}-01T00:00:00Z</date><data>AAEC</data></array>`).join('');

describe('decodeDeviceBody', () => {
  it('reads a large body on the decoder thread to exactly what an in-place read gives, dates and data included', async () => {
    const body = Buffer.from(doc(`<key>Status</key><string>Acknowledged</string><key>Items</key><dict>${entries(5_000)}</dict>${entries(3_000)}`));
    assert.ok(body.length > OFF_THREAD_BODY_BYTES);
    const read = await decodeDeviceBody(body);
    assert.deepEqual(read, decodePlistDict(body));
    assert.ok(read.K2999 instanceof Array && read.K2999[2] instanceof Date && read.K2999[3] instanceof Uint8Array);
    assert.deepEqual([...(read.K2999[3] as Uint8Array)], [0, 1, 2]);
    // A report builds only its top level and the keys it acts on, there as here.
    const topLevel = { onlyTopLevel: { except: ['K7'] } };
    assert.deepEqual(await decodeDeviceBody(body, topLevel), decodePlistDict(body, topLevel));
    assert.equal((await decodeDeviceBody(body, topLevel)).Items, undefined);
    // The caller keeps its bytes (they are what a result stores).
    assert.equal(body.length > 0 && body.toString('utf8', 0, 5), '<?xml');
  });

  it('refuses a large malformed body with the PlistError a read in place gives, key path included', async () => {
    const padding = ' '.repeat(OFF_THREAD_BODY_BYTES);
    const bodies = [
      Buffer.from(doc(`<key>Items</key><array>${entries(2_000)}<key>x</key></array>`)),
      Buffer.from(`<plist>${'<dict><key>k</key>'.repeat(MAX_PLIST_DEPTH)}<dict/>${'</dict>'.repeat(MAX_PLIST_DEPTH)}</plist>${padding}`),
      Buffer.concat([Buffer.from(doc(`<key>a</key><string>${padding}`)), Buffer.from([0xff]), Buffer.from('</string>')]),
      Buffer.from(doc(`<key>a</key><string>${padding}</string><key>b</key><string>&x;</string>`)),
    ];
    for (const body of bodies) {
      assert.ok(body.length > OFF_THREAD_BODY_BYTES);
      const inPlace = (() => {
        try {
          decodePlistDict(body);
        } catch (err) {
          return err as PlistError;
        }
        assert.fail('expected a refusal');
      })();
      await assert.rejects(decodeDeviceBody(body), (err: unknown) => err instanceof PlistError && err.message === inPlace.message && err.keyPath === inPlace.keyPath);
    }
  });

  it('reads many large bodies at once, each to its own value', async () => {
    const bodies = Array.from({ length: 6 }, (_, n) => Buffer.from(doc(`<key>N</key><integer>${n}</integer>${entries(2_000)}`)));
    const read = await Promise.all(bodies.map((body) => decodeDeviceBody(body)));
    assert.deepEqual(read.map((dict) => dict.N), [0, 1, 2, 3, 4, 5]);
  });
});
