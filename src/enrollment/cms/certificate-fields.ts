// The fields of an X.509 certificate that CMS uses to name it (IssuerAndSerialNumber), read as the
// exact bytes the certificate carries: a recipient or signer finds its certificate by comparing them.
import { childrenOf, contentOf, decodeBer, encodingOf, expectTag, hasTag, Tag } from '../../identity/ber.ts';
import { integerFromContent, sequence } from './der.ts';

export interface CertificateName {
  /** DER of the issuer Name. */
  readonly issuer: Uint8Array;
  /** Content octets of the serialNumber INTEGER. */
  readonly serialNumber: Uint8Array;
}

export function certificateName(certificateDer: Uint8Array): CertificateName {
  const [tbsCertificate] = childrenOf(decodeBer(certificateDer, 'certificate'), Tag.SEQUENCE, 'Certificate');
  const tbs = childrenOf(tbsCertificate, Tag.SEQUENCE, 'TBSCertificate');
  // version is an optional [0]; serialNumber, signature, issuer follow it.
  const first = hasTag(tbs[0], Tag.context(0)) ? 1 : 0;
  return {
    serialNumber: contentOf(tbs[first], Tag.INTEGER, 'TBSCertificate.serialNumber'),
    issuer: encodingOf(expectTag(tbs[first + 2], Tag.SEQUENCE, 'TBSCertificate.issuer')),
  };
}

/** IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber CertificateSerialNumber } */
export function issuerAndSerialNumber(certificateDer: Uint8Array): Buffer {
  const { issuer, serialNumber } = certificateName(certificateDer);
  return sequence(issuer, integerFromContent(serialNumber));
}
