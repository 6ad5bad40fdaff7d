// CMS signature of an enrollment profile: a SignedData with the plist as its encapsulated content,
// the signer certificate and its chain included, so a device can show the profile as verified
// when the chain ends at a root it trusts. RSA and EC signers both work; SHA-256 throughout.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { signedData } from './cms/signed-data.ts';

export interface ProfileSigner {
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  /** Intermediates up to (not necessarily including) the root, DER. */
  readonly chain: readonly Uint8Array[];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * A signer from PEM: `certificatesPem` holds the signing certificate first and then its chain
 * (a "fullchain" file, as TLS certificates usually come). Throws if the key does not match.
 */
export function profileSignerFromPem(certificatesPem: string, keyPem: string): ProfileSigner {
  const [certificate, ...chain] = (certificatesPem.match(PEM_CERTIFICATE) ?? []).map((pem) => new X509Certificate(pem));
  if (certificate === undefined) throw new Error('the profile signing certificate file holds no certificate');
  const privateKey = createPrivateKey(keyPem);
  if (!certificate.publicKey.equals(createPublicKey(privateKey))) {
    throw new Error(`the profile signing key does not belong to certificate "${certificate.subject}"`);
  }
  return { certificate, privateKey, chain: chain.map((c) => c.raw) };
}

/** The signed profile (DER), served as is with the same content type as the plain one. */
export function signProfile(profile: string | Uint8Array, signer: ProfileSigner): Buffer {
  return signedData({
    signer: { certificateDer: signer.certificate.raw, privateKey: signer.privateKey },
    digest: 'sha256',
    content: typeof profile === 'string' ? Buffer.from(profile, 'utf8') : profile,
    certificates: signer.chain,
  });
}
