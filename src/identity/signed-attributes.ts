// The signed attributes of a CMS SignerInfo (RFC 5652 §5.3), as both Mdm-Signature and SCEP read
// them: each attribute's values by OID, and the bytes the signature covers.
import { assertDerLengths, childrenOf, encodingOf, malformed, oidOf, Tag, type BerNode } from './ber.ts';

export interface SignedAttributes {
  /** What the signature covers: the attributes' DER with the SET tag, not the [0] they travel under. */
  readonly der: Buffer;
  /** Each attribute's values, by attribute type OID (an attribute may appear only once). */
  readonly values: ReadonlyMap<string, readonly BerNode[]>;
}

/**
 * Reads `signedAttrs` (the [0] IMPLICIT field of a SignerInfo). RFC 5652 requires signers to
 * DER-encode the attributes, so the received encoding with its tag byte swapped is exactly what
 * was signed, provided its lengths are DER: anything else is refused rather than re-encoded.
 */
export function readSignedAttributes(signedAttrs: BerNode): SignedAttributes {
  assertDerLengths(signedAttrs, 'SignerInfo.signedAttrs');
  const der = Buffer.from(encodingOf(signedAttrs));
  der[0] = 0x31;
  const values = new Map<string, readonly BerNode[]>();
  for (const attribute of childrenOf(signedAttrs, Tag.context(0), 'SignerInfo.signedAttrs')) {
    const [type, attrValues] = childrenOf(attribute, Tag.SEQUENCE, 'Attribute');
    const oid = oidOf(type, 'Attribute.attrType');
    if (values.has(oid)) throw malformed('SignerInfo.signedAttrs', `attribute ${oid} appears twice`);
    values.set(oid, childrenOf(attrValues, Tag.SET, 'Attribute.attrValues'));
  }
  return { der, values };
}
