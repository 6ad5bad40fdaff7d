// What the CMS layer reports about a structure it refuses. Every case is the sender's fault; the
// SCEP layer turns it into a failInfo. (The BER reader it builds on throws IdentityError
// 'malformed' for undecodable bytes, which counts as 'malformed' here too.)
export type CmsFailure =
  | 'malformed' // not the structure it claims to be
  | 'unsupported-algorithm' // well-formed, but an algorithm Aspen does not accept
  | 'wrong-recipient'; // encrypted, but not to the certificate Aspen decrypts with

export class CmsError extends Error {
  override readonly name = 'CmsError';

  constructor(
    readonly reason: CmsFailure,
    message: string,
  ) {
    super(message);
  }
}
