// The MDM push certificate: the client certificate Aspen presents to APNs, whose subject UID is
// the push topic every enrolled device was told about. Loading checks what would otherwise only
// surface as a failed push much later: a topic is present and is an MDM topic, and the private
// key belongs to the certificate.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { pkijs } from '../on-first-use.ts';
import { readPkcs12 } from './pkcs12.ts';

/** Stored by the core as is and handed back to `loadPushCertificate` when reloading. */
export interface PushCertificate {
  certPem: string;
  /** Unencrypted PKCS#8 PEM, whatever form it arrived in. */
  keyPem: string;
  /** The subject UID, e.g. com.apple.mgmt.External.<uuid>. */
  topic: string;
  notAfter: Date;
}

export class PushCertificateError extends Error {
  override name = 'PushCertificateError';
}

const UID_OID = '0.9.2342.19200300.100.1.1';
const MDM_TOPIC_PREFIX = 'com.apple.mgmt.';

function topicOf(certificate: X509Certificate): string {
  const parsed = pkijs.Certificate.fromBER(certificate.raw);
  const uid = parsed.subject.typesAndValues.find((attribute) => attribute.type === UID_OID);
  const topic: unknown = uid?.value.valueBlock.value;
  if (typeof topic !== 'string' || topic === '') {
    throw new PushCertificateError(
      'the push certificate has no UID in its subject, so it names no APNs topic; ' +
        'use the MDM push certificate issued by Apple (identity.apple.com)',
    );
  }
  if (!topic.startsWith(MDM_TOPIC_PREFIX)) {
    throw new PushCertificateError(
      `the push certificate's topic "${topic}" does not start with "${MDM_TOPIC_PREFIX}"; ` +
        'it is not an MDM push certificate',
    );
  }
  return topic;
}

function parseCertificate(certPem: string): X509Certificate {
  try {
    return new X509Certificate(certPem);
  } catch (error) {
    throw new PushCertificateError(`cannot read the push certificate: ${(error as Error).message}`);
  }
}

function parsePrivateKey(keyPem: string, passphrase: string | undefined): KeyObject {
  try {
    return createPrivateKey({ key: keyPem, format: 'pem', passphrase });
  } catch (error) {
    // OpenSSL's own message for a missing passphrase is "interrupted or cancelled".
    const hint = passphrase === undefined && /ENCRYPTED/.test(keyPem) ? ' (the key is encrypted: give its passphrase)' : '';
    throw new PushCertificateError(`cannot read the push certificate's private key: ${(error as Error).message}${hint}`);
  }
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** The certificate and the private key of a PEM text holding both (in either order, e.g. two files joined). */
export function splitPemPair(text: string): { certPem: string; keyPem: string } | undefined {
  const blocks = [...text.matchAll(PEM_BLOCK)];
  const cert = blocks.find((b) => b[1] === 'CERTIFICATE');
  const key = blocks.find((b) => b[1]!.endsWith('PRIVATE KEY'));
  return cert && key ? { certPem: cert[0], keyPem: key[0] } : undefined;
}

// Expired certificates are accepted: `notAfter` lets the caller warn or refuse, and APNs has the
// final word anyway.
function build(certificate: X509Certificate, key: KeyObject): PushCertificate {
  const topic = topicOf(certificate);
  if (!certificate.checkPrivateKey(key)) {
    throw new PushCertificateError('the private key does not belong to the push certificate');
  }
  return {
    certPem: certificate.toString(),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    topic,
    notAfter: new Date(certificate.validTo),
  };
}

/** From a PEM certificate and a PEM private key (PKCS#1, PKCS#8 or encrypted PKCS#8 with `passphrase`). */
export function loadPushCertificate(input: { certPem: string; keyPem: string; passphrase?: string }): PushCertificate {
  return build(parseCertificate(input.certPem), parsePrivateKey(input.keyPem, input.passphrase));
}

/** From a .p12/.pfx bundle, e.g. exported from Keychain Access. Extra CA certificates in it are ignored. */
export function loadPushCertificateFromPkcs12(data: Uint8Array, passphrase?: string): PushCertificate {
  let contents;
  try {
    contents = readPkcs12(data, passphrase);
  } catch (error) {
    throw new PushCertificateError((error as Error).message);
  }
  const [keyDer, ...otherKeys] = contents.privateKeysDer;
  if (keyDer === undefined || otherKeys.length > 0) {
    throw new PushCertificateError(
      `the PKCS#12 file must hold exactly one private key, it holds ${contents.privateKeysDer.length}`,
    );
  }
  const key = createPrivateKey({ key: keyDer, format: 'der', type: 'pkcs8' });
  const certificates = contents.certificatesDer.map((der) => new X509Certificate(der));
  // The bundle may carry the issuing chain too; the push certificate is the one the key signs for.
  const leaf = certificates.find((certificate) => certificate.checkPrivateKey(key));
  if (leaf === undefined) {
    throw new PushCertificateError('the PKCS#12 file holds no certificate for its private key');
  }
  return build(leaf, key);
}
