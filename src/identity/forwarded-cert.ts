// The client certificate as forwarded by a TLS-terminating proxy in a request header. Two forms
// are in use: RFC 9440's Client-Cert (a structured-field byte sequence, `:<base64 DER>:`) and
// nginx's $ssl_client_escaped_cert (the PEM, URL-encoded). Either way the result is DER; anything
// else is refused rather than guessed at, since this header is the device's whole identity.
import { decodeBase64Strict } from './base64.ts';
import { decodeBer } from './ber.ts';
import { IdentityError } from './errors.ts';

/** A certificate is a few KiB at most; URL-encoded PEM roughly doubles that. */
export const MAX_FORWARDED_CERT_LENGTH = 64 * 1024;

const RFC9440 = /^:([A-Za-z0-9+/=]*):$/;
const PEM = /^-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\r?\n?$/;

/** Returns the DER certificate carried by a forwarded-certificate header value. */
export function decodeForwardedCert(headerValue: string): Buffer {
  if (headerValue.length > MAX_FORWARDED_CERT_LENGTH) throw refused(`longer than ${MAX_FORWARDED_CERT_LENGTH} characters`);
  const der = headerValue.startsWith(':') ? fromRfc9440(headerValue) : fromEscapedPem(headerValue);
  if (der === undefined) throw refused('neither RFC 9440 nor URL-encoded PEM');
  // Only the outer shape is checked here; whether it is a usable certificate is the verifier's job.
  if (der[0] !== 0x30) throw refused('not a DER SEQUENCE');
  decodeBer(der, 'forwarded certificate');
  return der;
}

function fromRfc9440(value: string): Buffer | undefined {
  const base64 = RFC9440.exec(value)?.[1];
  return base64 === undefined ? undefined : decodeBase64Strict(base64);
}

function fromEscapedPem(value: string): Buffer | undefined {
  let pem: string;
  try {
    pem = decodeURIComponent(value);
  } catch {
    return undefined; // a stray % that does not start an escape
  }
  const body = PEM.exec(pem)?.[1];
  return body === undefined ? undefined : decodeBase64Strict(body.replace(/\r?\n/g, ''));
}

function refused(detail: string): IdentityError {
  return new IdentityError('malformed', `forwarded client certificate: ${detail}`);
}
