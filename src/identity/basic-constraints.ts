// The pathLenConstraint of a CA certificate's basicConstraints, read with the BER reader
// (node:crypto's X509Certificate tells whether a certificate is a CA but not this). It used to be
// read with pkijs, which builds the whole certificate as objects: most of the CPU of verifying a
// device's certificate the first time it is seen.
import { childrenOf, contentOf, decodeBer, hasTag, oidOf, Tag, type BerNode } from './ber.ts';

const BASIC_CONSTRAINTS = '2.5.29.19';
const BOOLEAN = { tagClass: 0, tagNumber: 1, name: 'BOOLEAN' };

/**
 * How many intermediate CAs may follow this CA in a path: Infinity when the certificate sets no
 * limit, 0 when its encoding cannot be read (the strictest reading of a certificate that
 * X509Certificate accepted but this reader does not).
 */
export function pathLengthLimit(certDer: Uint8Array): number {
  try {
    const extension = extensionsOf(certDer).find((e) => oidOf(childrenOf(e, Tag.SEQUENCE, 'Extension')[0], 'extnID') === BASIC_CONSTRAINTS);
    if (extension === undefined) return Infinity;
    const fields = childrenOf(extension, Tag.SEQUENCE, 'Extension');
    const value = decodeBer(contentOf(fields.at(-1), Tag.OCTET_STRING, 'extnValue'), 'basicConstraints');
    // BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL }
    const limit = childrenOf(value, Tag.SEQUENCE, 'basicConstraints').find((n) => !hasTag(n, BOOLEAN));
    return limit === undefined ? Infinity : unsignedInteger(contentOf(limit, Tag.INTEGER, 'pathLenConstraint'));
  } catch {
    return 0;
  }
}

/** Certificate ::= SEQUENCE { tbsCertificate, ... }; the extensions are its [3], when present. */
function extensionsOf(certDer: Uint8Array): readonly BerNode[] {
  const [tbs] = childrenOf(decodeBer(certDer, 'certificate'), Tag.SEQUENCE, 'Certificate');
  const extensions = childrenOf(tbs, Tag.SEQUENCE, 'TBSCertificate').find((n) => hasTag(n, Tag.context(3)));
  return extensions === undefined ? [] : childrenOf(childrenOf(extensions, Tag.context(3), 'extensions')[0], Tag.SEQUENCE, 'Extensions');
}

/** A non-negative INTEGER; negative (malformed here) reads as 0, huge as Infinity. */
function unsignedInteger(bytes: Uint8Array): number {
  if (bytes.length === 0 || (bytes[0]! & 0x80) !== 0) return 0;
  if (bytes.length > 6) return Infinity;
  return bytes.reduce((n, b) => n * 256 + b, 0);
}
