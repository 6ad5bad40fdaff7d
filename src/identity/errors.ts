// The one error type the identity module throws. Every failure here is the client's fault, so the
// server maps it to a 4xx. It must never become a 401: Apple devices treat 401 as "unenrolled" and
// drop their MDM profile, which would turn a transient misconfiguration into a fleet re-enrollment.

/** Short, stable, machine-readable cause; the server logs it and may put it in metrics. */
export type IdentityFailure =
  | 'malformed' // not parseable as what it claims to be, or outside our size/nesting limits
  | 'unsupported-algorithm' // well-formed, but an algorithm we deliberately do not accept
  | 'bad-signature' // the CMS signature or message digest does not match the body
  | 'unknown-ca' // the certificate does not chain to a trusted device CA
  | 'expired' // the certificate or a CA in its chain is past notAfter
  | 'not-yet-valid' // the certificate or a CA in its chain is before notBefore
  | 'not-client-auth'; // the certificate's extended key usage excludes TLS client authentication

export class IdentityError extends Error {
  override readonly name = 'IdentityError';

  constructor(
    readonly reason: IdentityFailure,
    message: string,
  ) {
    super(message);
  }
}
