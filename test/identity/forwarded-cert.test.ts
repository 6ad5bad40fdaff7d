import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { IdentityError } from '../../src/identity/errors.ts';
import { decodeForwardedCert, MAX_FORWARDED_CERT_LENGTH } from '../../src/identity/forwarded-cert.ts';
import { OpensslPki, type Issued } from '../helpers/openssl-pki.ts';

let pki: OpensslPki;
let device: Issued;

before(() => {
  pki = new OpensslPki();
  device = pki.issue('forwarded-device', pki.rootCa('Forwarding CA'));
});
after(() => pki.cleanup());

const malformed = (error: unknown) => error instanceof IdentityError && error.reason === 'malformed';

test('RFC 9440 Client-Cert decodes to the original DER', () => {
  assert.deepEqual(decodeForwardedCert(`:${device.der.toString('base64')}:`), device.der);
});

test('nginx $ssl_client_escaped_cert decodes to the original DER', () => {
  // nginx escapes with its own table; accept both a full component escape and a minimal one that
  // leaves the base64 alphabet alone.
  assert.deepEqual(decodeForwardedCert(encodeURIComponent(device.pem)), device.der);
  const minimal = device.pem.replaceAll(' ', '%20').replaceAll('\n', '%0A');
  assert.deepEqual(decodeForwardedCert(minimal), device.der);
  const crlf = device.pem.replaceAll('\n', '\r\n');
  assert.deepEqual(decodeForwardedCert(encodeURIComponent(crlf)), device.der);
});

test('anything else is refused', () => {
  const base64 = device.der.toString('base64');
  const pem = device.pem;
  const cases: [string, string][] = [
    ['empty', ''],
    ['nginx "no certificate"', '-'],
    ['bare base64 without colons', base64],
    ['missing closing colon', `:${base64}`],
    ['RFC 9440 with junk base64', `:${base64.slice(0, 40)}!${base64.slice(40)}:`],
    ['RFC 9440 of something that is not DER', `:${Buffer.from('hello world').toString('base64')}:`],
    ['RFC 9440 of a truncated certificate', `:${device.der.subarray(0, device.der.length - 10).toString('base64')}:`],
    ['unescaped PEM with a stray %', pem.replace('-----END', '%zz-----END')],
    ['escaped private key', encodeURIComponent(pem.replaceAll('CERTIFICATE', 'PRIVATE KEY'))],
    ['two certificates', encodeURIComponent(pem + pem)],
    ['PEM with trailing text', encodeURIComponent(pem + 'extra')],
    ['oversized', `:${'A'.repeat(MAX_FORWARDED_CERT_LENGTH)}:`],
  ];
  for (const [name, value] of cases) {
    assert.throws(() => decodeForwardedCert(value), malformed, name);
  }
});
