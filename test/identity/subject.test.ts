import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { subjectCommonNames } from '../../src/identity/index.ts';
import { OpensslPki } from '../helpers/openssl-pki.ts';

describe('subjectCommonNames', () => {
  const pki = new OpensslPki();
  after(() => pki.cleanup());
  const selfSigned = (subject: string) => {
    const key = pki.newKey('k', 'ec');
    const der = pki.openssl(['req', '-x509', '-key', key, '-subj', subject, '-days', '1', '-outform', 'DER']);
    return new X509Certificate(der).raw;
  };

  it('reads each CN as structured data', () => {
    assert.deepEqual(subjectCommonNames(selfSigned('/CN=device-1')), ['device-1']);
    assert.deepEqual(subjectCommonNames(selfSigned('/O=Acme/CN=a/CN=b')), ['a', 'b']);
  });

  it('is not fooled by ", CN=" inside another attribute', () => {
    const der = selfSigned('/O=Acme\\, CN=VICTIM/CN=legit');
    assert.match(new X509Certificate(der).subject, /CN=VICTIM/, 'the text form does contain it');
    assert.deepEqual(subjectCommonNames(der), ['legit']);
  });
});
