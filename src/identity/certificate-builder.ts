// Builds and signs X.509 certificates in-process, so the server never needs the openssl CLI.
// pkijs provides the ASN.1 structures; the signature is made with node:crypto over pkijs's TBS
// encoding, which keeps every key a plain KeyObject (no WebCrypto CryptoKey conversions).
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';
import type * as Asn1js from 'asn1js';
import type * as Pkijs from 'pkijs';
import { asn1js, pkijs } from '../on-first-use.ts';

export interface CertificateIssuer {
  /** The issuer's subject Name. */
  readonly name: Pkijs.RelativeDistinguishedNames;
  /** The issuer's subject key identifier, repeated as our authority key identifier. */
  readonly keyIdentifier: Uint8Array;
  readonly privateKey: KeyObject;
}

interface CertificateFields {
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** The CA that signs, or for a self-signed certificate the subject's own private key. */
  readonly issuer: CertificateIssuer | { readonly selfSignedWith: KeyObject };
  /** A CA gets basicConstraints CA:true and may sign certificates and CRLs; others sign data. */
  readonly isCa: boolean;
  readonly extendedKeyUsage?: readonly string[];
  /** Content octets of a positive DER INTEGER; without one a random serial is chosen. */
  readonly serialNumber?: Uint8Array;
}

/** The subject is a single CN, or a DER Name taken verbatim (e.g. from a certificate request). */
export type CertificateSpec = CertificateFields & ({ readonly commonName: string } | { readonly subjectDer: Uint8Array });

const KEY_USAGE_DIGITAL_SIGNATURE = 0x80; // bit 0
const KEY_USAGE_KEY_ENCIPHERMENT = 0x20; // bit 2
const KEY_USAGE_CA = 0x06; // bits 5 and 6: keyCertSign, cRLSign

const SIGNATURE_ALGORITHMS = {
  ec: () => new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.10045.4.3.2' }), // ecdsa-with-SHA256
  rsa: () => new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.11', algorithmParams: new asn1js.Null() }),
};

/** Returns the DER of a new certificate built from `spec`. */
export function buildCertificate(spec: CertificateSpec): Buffer {
  const subject =
    'subjectDer' in spec ? pkijs.RelativeDistinguishedNames.fromBER(spec.subjectDer) : nameWithCommonName(spec.commonName);
  const subjectPublicKeyInfo = new pkijs.PublicKeyInfo({
    schema: asn1js.fromBER(spec.publicKey.export({ type: 'spki', format: 'der' })).result,
  });
  const subjectKeyIdentifier = keyIdentifierOf(subjectPublicKeyInfo);
  const issuer =
    'selfSignedWith' in spec.issuer
      ? { name: subject, keyIdentifier: subjectKeyIdentifier, privateKey: spec.issuer.selfSignedWith }
      : spec.issuer;
  const signatureAlgorithm = signatureAlgorithmFor(issuer.privateKey);

  const certificate = new pkijs.Certificate({
    version: 2,
    serialNumber: new asn1js.Integer({ valueHex: spec.serialNumber ?? serialNumber() }),
    signature: signatureAlgorithm,
    issuer: issuer.name,
    notBefore: timeOf(spec.notBefore),
    notAfter: timeOf(spec.notAfter),
    subject,
    subjectPublicKeyInfo,
    extensions: extensionsFor(spec, subjectKeyIdentifier, issuer.keyIdentifier),
    signatureAlgorithm,
  });
  const signature = sign('sha256', new Uint8Array(certificate.encodeTBS().toBER()), issuer.privateKey);
  certificate.signatureValue = new asn1js.BitString({ valueHex: signature });
  return Buffer.from(certificate.toSchema(true).toBER());
}

/** Reads what a certificate signed by `certificate`'s key needs to name its issuer. */
export function issuerFrom(certificateDer: Uint8Array, privateKey: KeyObject): CertificateIssuer {
  const certificate = pkijs.Certificate.fromBER(certificateDer);
  // The authority key identifier must repeat the issuer's own SKI byte for byte, whatever method
  // produced it; only a CA without one gets ours computed.
  const ski = certificate.extensions?.find((e) => e.extnID === '2.5.29.14')?.parsedValue;
  const keyIdentifier =
    ski instanceof asn1js.OctetString ? ski.valueBlock.valueHexView : keyIdentifierOf(certificate.subjectPublicKeyInfo);
  return { name: certificate.subject, keyIdentifier, privateKey };
}

function extensionsFor(spec: CertificateSpec, subjectKeyId: Uint8Array, authorityKeyId: Uint8Array): Pkijs.Extension[] {
  const keyUsage = spec.isCa
    ? KEY_USAGE_CA
    : // RSA device keys may also be asked to decrypt (e.g. SCEP's encrypted responses).
      KEY_USAGE_DIGITAL_SIGNATURE | (spec.publicKey.asymmetricKeyType === 'rsa' ? KEY_USAGE_KEY_ENCIPHERMENT : 0);
  const extensions = [
    extension('2.5.29.19', true, new pkijs.BasicConstraints({ cA: spec.isCa }).toSchema()),
    extension('2.5.29.15', true, namedBitString(keyUsage)),
    extension('2.5.29.14', false, new asn1js.OctetString({ valueHex: subjectKeyId })),
    extension(
      '2.5.29.35',
      false,
      new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: authorityKeyId }) }).toSchema(),
    ),
  ];
  if (spec.extendedKeyUsage) {
    const ekus = new pkijs.ExtKeyUsage({ keyPurposes: [...spec.extendedKeyUsage] });
    extensions.push(extension('2.5.29.37', false, ekus.toSchema()));
  }
  return extensions;
}

function extension(extnID: string, critical: boolean, value: Asn1js.BaseBlock): Pkijs.Extension {
  return new pkijs.Extension({ extnID, critical, extnValue: value.toBER() });
}

/** DER of a named bit list drops trailing zero bits, and says how many it dropped. */
function namedBitString(bits: number): Asn1js.BitString {
  let unusedBits = 0;
  while (unusedBits < 7 && (bits & (1 << unusedBits)) === 0) unusedBits++;
  return new asn1js.BitString({ valueHex: new Uint8Array([bits]), unusedBits });
}

function nameWithCommonName(commonName: string): Pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName }) })],
  });
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdentifierOf(publicKeyInfo: Pkijs.PublicKeyInfo): Uint8Array {
  return createHash('sha1').update(publicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
}

function signatureAlgorithmFor(key: KeyObject): Pkijs.AlgorithmIdentifier {
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`cannot sign certificates with a ${type} key`);
  return SIGNATURE_ALGORITHMS[type]();
}

/** A positive 127-bit random serial: unpredictable, and never needs a leading zero byte. */
function serialNumber(): Uint8Array {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x40;
  return bytes;
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
function timeOf(date: Date): Pkijs.Time {
  return new pkijs.Time({ type: date.getUTCFullYear() < 2050 ? 0 : 1, value: date });
}
