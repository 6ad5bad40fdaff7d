// Matching a CMS SignerInfo's `sid` to one of the certificates in the SignedData. A SignedData may
// carry several certificates (intermediates, or junk an attacker added), so "the first one" is not
// the signer: RFC 5652 §5.3 names it by issuer and serial number, or by subject key identifier.
import { childrenOf, contentOf, decodeBer, encodingOf, expectTag, hasTag, oidOf, Tag, type BerNode } from './ber.ts';

export type SignerIdentifier =
  | { readonly issuer: Uint8Array; readonly serialNumber: Uint8Array }
  | { readonly subjectKeyIdentifier: Uint8Array };

const SUBJECT_KEY_IDENTIFIER = '2.5.29.14';

export function parseSignerIdentifier(sid: BerNode | undefined): SignerIdentifier {
  if (hasTag(sid, Tag.context(0))) {
    return { subjectKeyIdentifier: contentOf(sid, Tag.context(0), 'SignerInfo.sid') };
  }
  const [issuer, serial] = childrenOf(sid, Tag.SEQUENCE, 'SignerInfo.sid');
  return {
    issuer: encodingOf(expectTag(issuer, Tag.SEQUENCE, 'SignerInfo.sid.issuer')),
    serialNumber: contentOf(serial, Tag.INTEGER, 'SignerInfo.sid.serialNumber'),
  };
}

/**
 * True if `certificate` (a decoded X.509 Certificate) is the one `sid` names. Names are compared
 * byte for byte: signer and certificate come from the same software, which encodes them alike.
 */
export function identifiesCertificate(sid: SignerIdentifier, certificate: BerNode): boolean {
  const [tbsCertificate] = childrenOf(certificate, Tag.SEQUENCE, 'Certificate');
  const tbs = childrenOf(tbsCertificate, Tag.SEQUENCE, 'TBSCertificate');
  // version is an optional [0]; serialNumber, signature, issuer follow it.
  const first = hasTag(tbs[0], Tag.context(0)) ? 1 : 0;
  if ('subjectKeyIdentifier' in sid) {
    const keyId = subjectKeyIdentifierOf(tbs);
    return keyId !== undefined && sameBytes(keyId, sid.subjectKeyIdentifier);
  }
  const serial = contentOf(tbs[first], Tag.INTEGER, 'TBSCertificate.serialNumber');
  const issuer = encodingOf(expectTag(tbs[first + 2], Tag.SEQUENCE, 'TBSCertificate.issuer'));
  return sameBytes(serial, sid.serialNumber) && sameBytes(issuer, sid.issuer);
}

function subjectKeyIdentifierOf(tbs: readonly BerNode[]): Uint8Array | undefined {
  const extensionsField = tbs.find((field) => hasTag(field, Tag.context(3)));
  if (extensionsField === undefined) return undefined;
  const [extensions] = childrenOf(extensionsField, Tag.context(3), 'TBSCertificate.extensions');
  for (const extension of childrenOf(extensions, Tag.SEQUENCE, 'Extensions')) {
    const parts = childrenOf(extension, Tag.SEQUENCE, 'Extension');
    if (oidOf(parts[0], 'Extension.extnID') !== SUBJECT_KEY_IDENTIFIER) continue;
    // extnValue wraps the DER of the KeyIdentifier, itself an OCTET STRING.
    const extnValue = contentOf(parts[parts.length - 1], Tag.OCTET_STRING, 'Extension.extnValue');
    return contentOf(decodeBer(extnValue, 'SubjectKeyIdentifier'), Tag.OCTET_STRING, 'SubjectKeyIdentifier');
  }
  return undefined;
}

/** Byte equality without copying into Buffers first. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
