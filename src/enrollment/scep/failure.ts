// SCEP's failInfo values (RFC 8894 §3.2.1.4.5) and the error that carries one out of a
// PKIOperation. A failure becomes a signed CertRep with pkiStatus FAILURE, never an HTTP error:
// the client learns why, and nothing else.
import { IdentityError } from '../../identity/errors.ts';
import { CmsError } from '../cms/errors.ts';

export type ScepFailInfo = 'badAlg' | 'badMessageCheck' | 'badRequest' | 'badTime' | 'badCertId';

export const FAIL_INFO_CODE: Readonly<Record<ScepFailInfo, string>> = {
  badAlg: '0', // unrecognized or unsupported algorithm
  badMessageCheck: '1', // integrity check (signature verification) failed
  badRequest: '2', // transaction not permitted or supported
  badTime: '3', // the message time was not close enough to the system time
  badCertId: '4', // no certificate could be identified matching the provided criteria
};

export class ScepFailure extends Error {
  override readonly name = 'ScepFailure';

  constructor(
    readonly failInfo: ScepFailInfo,
    /** For the server's log; the client only ever sees failInfo. */
    readonly reason: string,
  ) {
    super(`${failInfo}: ${reason}`);
  }
}

/**
 * The failure a refused request gets, or undefined for an error that is not about the request
 * (a bug, a storage outage), which must surface as a server error instead.
 */
export function failureOf(error: unknown): ScepFailure | undefined {
  if (error instanceof ScepFailure) return error;
  if (error instanceof CmsError || error instanceof IdentityError) {
    const failInfo = error.reason === 'unsupported-algorithm' ? 'badAlg' : 'badMessageCheck';
    return new ScepFailure(failInfo, error.message);
  }
  return undefined;
}

/** True for the errors that mean "this message is not what it should be". */
export function isMessageError(error: unknown): error is CmsError | IdentityError {
  return error instanceof CmsError || error instanceof IdentityError;
}
