// Reading helpers over decoded BER for the CMS structures Aspen accepts.
import { childrenOf, contentOf, hasTag, oidOf, Tag, type BerNode, type BerTag } from '../../identity/ber.ts';
import { CmsError } from './errors.ts';

/**
 * The value of an OCTET STRING (or one under an implicit tag). BER senders such as Apple devices
 * and `openssl cms -stream` split long values into a constructed string of segments; those are
 * joined here.
 */
export function octetsOf(node: BerNode | undefined, tag: BerTag, what: string): Buffer {
  if (node === undefined || !hasTag(node, tag)) throw malformed(what, `expected ${tag.name}`);
  if (!node.constructed) return Buffer.from(contentOf(node, tag, what));
  return Buffer.concat(node.children.map((segment) => octetsOf(segment, Tag.OCTET_STRING, `${what} segment`)));
}

export interface Algorithm {
  readonly oid: string;
  readonly parameters: BerNode | undefined;
}

/** AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
export function algorithmOf(node: BerNode | undefined, what: string): Algorithm {
  const [oid, parameters] = childrenOf(node, Tag.SEQUENCE, what);
  return { oid: oidOf(oid, `${what}.algorithm`), parameters };
}

export function malformed(what: string, detail: string): CmsError {
  return new CmsError('malformed', `${what}: ${detail}`);
}
