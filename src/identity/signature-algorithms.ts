// The CMS digest and signature algorithms we accept, by OID. Anything not listed (RSA-PSS, MD5,
// EdDSA, ...) is refused as 'unsupported-algorithm' rather than guessed at.

export type DigestName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** Key type as reported by KeyObject.asymmetricKeyType. */
export type SignerKeyType = 'rsa' | 'ec';

const DIGESTS: ReadonlyMap<string, DigestName> = new Map([
  ['1.3.14.3.2.26', 'sha1'], // Apple devices sign with SHA-1
  ['2.16.840.1.101.3.4.2.1', 'sha256'],
  ['2.16.840.1.101.3.4.2.2', 'sha384'],
  ['2.16.840.1.101.3.4.2.3', 'sha512'],
]);

interface SignatureAlgorithm {
  keyType: SignerKeyType;
  /** Set when the OID names a hash too (sha256WithRSAEncryption); it must match the digest. */
  digest?: DigestName;
}

// CMS signers write either the bare key algorithm (openssl: rsaEncryption) or the combined
// hash-with-key OID (Apple devices: sha1WithRSAEncryption); both mean PKCS#1 v1.5 / ECDSA.
const SIGNATURES: ReadonlyMap<string, SignatureAlgorithm> = new Map<string, SignatureAlgorithm>([
  ['1.2.840.113549.1.1.1', { keyType: 'rsa' }],
  ['1.2.840.113549.1.1.5', { keyType: 'rsa', digest: 'sha1' }],
  ['1.2.840.113549.1.1.11', { keyType: 'rsa', digest: 'sha256' }],
  ['1.2.840.113549.1.1.12', { keyType: 'rsa', digest: 'sha384' }],
  ['1.2.840.113549.1.1.13', { keyType: 'rsa', digest: 'sha512' }],
  ['1.2.840.10045.2.1', { keyType: 'ec' }],
  ['1.2.840.10045.4.1', { keyType: 'ec', digest: 'sha1' }],
  ['1.2.840.10045.4.3.2', { keyType: 'ec', digest: 'sha256' }],
  ['1.2.840.10045.4.3.3', { keyType: 'ec', digest: 'sha384' }],
  ['1.2.840.10045.4.3.4', { keyType: 'ec', digest: 'sha512' }],
]);

export function digestByOid(oid: string): DigestName | undefined {
  return DIGESTS.get(oid);
}

export function signatureByOid(oid: string): SignatureAlgorithm | undefined {
  return SIGNATURES.get(oid);
}
