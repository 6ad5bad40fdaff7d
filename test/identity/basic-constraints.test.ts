// pathLengthLimit against certificates the openssl CLI made: the limit it wrote, none, and bytes
// that are no certificate at all (read as the strictest limit).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pathLengthLimit } from '../../src/identity/basic-constraints.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

let pki: OpensslPki;
let root: Issued;
before(() => {
  pki = new OpensslPki();
  root = pki.rootCa('Path Length Root');
});
after(() => pki.cleanup());

const caWithPathLength = (length: number) => [`basicConstraints=critical,CA:TRUE,pathlen:${length}`, 'keyUsage=critical,keyCertSign,cRLSign'];

test('the pathLenConstraint a CA certificate carries', () => {
  for (const length of [0, 2, 300]) {
    assert.equal(pathLengthLimit(pki.issue(`CA pathlen ${length}`, root, { extensions: caWithPathLength(length), days: 30 }).der), length);
  }
});

test('no limit without a pathLenConstraint or without basicConstraints', () => {
  assert.equal(pathLengthLimit(pki.issue('CA no pathlen', root, { extensions: ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign'], days: 30 }).der), Infinity);
  assert.equal(pathLengthLimit(pki.issue('no basicConstraints', root, { extensions: ['keyUsage=critical,digitalSignature'], days: 30 }).der), Infinity);
});

test('bytes that do not read as a certificate allow no intermediates', () => {
  assert.equal(pathLengthLimit(Buffer.from('not a certificate')), 0);
  assert.equal(pathLengthLimit(root.der.subarray(0, root.der.length - 1)), 0);
});
