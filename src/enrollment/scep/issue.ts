// Issuing the certificate a SCEP request asks for: the requested subject and key, Aspen's own
// extensions (clientAuth, no CA), a 128-bit random serial and a bounded validity.
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { issueDeviceCertificate } from '../../identity/device-ca.ts';
import type { CertificateRequest } from './certificate-request.ts';
import type { ScepCa } from './scep-ca.ts';

/** What was issued, as the caller records it. */
export interface IssuedCertificate {
  readonly der: Buffer;
  readonly pem: string;
  /** Uppercase hex, as X509Certificate (and DeviceIdentity.serialNumber) reports it. */
  readonly serialNumber: string;
  /** SHA-256 of the DER, lowercase hex (as DeviceIdentity.fingerprint). */
  readonly fingerprint: string;
  /** Subject in OpenSSL's one-attribute-per-line form, as X509Certificate reports it. */
  readonly subject: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

export const DEFAULT_VALIDITY_DAYS = 365;

export function issueCertificate(ca: ScepCa, request: CertificateRequest, validityDays: number, now: Date): IssuedCertificate {
  const { certPem } = issueDeviceCertificate(ca.deviceCa, {
    subjectDer: request.subjectDer,
    publicKey: request.publicKey,
    validityDays,
    now,
    serialNumber: randomSerial(),
  });
  return describeCertificate(new X509Certificate(certPem), certPem);
}

export function describeCertificate(certificate: X509Certificate, pem = certificate.toString()): IssuedCertificate {
  return {
    der: certificate.raw,
    pem,
    serialNumber: certificate.serialNumber,
    fingerprint: createHash('sha256').update(certificate.raw).digest('hex'),
    subject: certificate.subject,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
  };
}

/**
 * 128 random bits as the content octets of a positive DER INTEGER: leading zero bytes dropped,
 * one put back where the top bit is set so the number stays positive.
 */
export function randomSerial(): Buffer {
  for (;;) {
    const bits = randomBytes(16);
    let first = 0;
    while (first < bits.length && bits[first] === 0) first++;
    if (first === bits.length) continue; // zero is not a serial number (RFC 5280 §4.1.2.2)
    const digits = bits.subarray(first);
    return digits[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), digits]) : digits;
  }
}
