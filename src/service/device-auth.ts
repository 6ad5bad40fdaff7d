// Who is calling, and may it speak for this enrollment? Every device request carries a certificate
// (in an Mdm-Signature header, as the TLS client certificate, or forwarded by a TLS-terminating
// proxy) that must chain to a trusted device CA and be bound to the enrollment it speaks for.
//
// A certificate is bound to one device. These cases bind a new one, and no others:
// 1. first use: the device has no bound certificate yet (a new enrollment, or one enrolled before
//    identity checks were on);
// 2. the certificate names the device (its subject CN is the UDID, EnrollmentID or serial number):
//    the CA vouched for that device when it issued it, so renewal needs nothing more;
// 3. at Authenticate, when the bound certificates can no longer speak: the device checked out, or
//    every bound certificate has expired;
// 4. at Authenticate, within the renewal window opened when the device (speaking with its bound
//    certificate) was handed an InstallProfile command: replacing the MDM profile re-enrolls the
//    device with a new identity.
// Anything else, notably a fresh certificate trying to Authenticate as an enrolled device, is
// refused: only the holder of a bound key, or the device it names, can speak for an enrollment.
import { IdentityError, type DeviceIdentity, type IdentityVerifier } from '../identity/index.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import type { Storage } from '../storage/storage.ts';
import { DeviceRequestError } from './device-reply.ts';

/** The identity material of one request, as the HTTP layer found it. */
export interface DeviceCredentials {
  /** The Mdm-Signature header. */
  signature?: string;
  /** A client certificate forwarded by a proxy, in the configured header. */
  forwardedCertificate?: string;
  /** The TLS client certificate (DER), with mTLS. */
  peerCertificate?: Uint8Array;
}

export class DeviceAuth {
  constructor(
    private readonly verifier: IdentityVerifier,
    private readonly storage: Storage,
    private readonly renewalWindowMs: number,
  ) {}

  /** Step 1, before the body is parsed: a valid certificate, and a signature over these bytes. */
  identify(credentials: DeviceCredentials, body: Uint8Array, now: Date): DeviceIdentity {
    try {
      if (credentials.signature !== undefined) return this.verifier.fromMdmSignature(credentials.signature, body, now);
      if (credentials.forwardedCertificate !== undefined) return this.verifier.fromForwardedCertificate(credentials.forwardedCertificate, now);
      if (credentials.peerCertificate !== undefined) return this.verifier.fromPeerCertificate(credentials.peerCertificate, now);
    } catch (err) {
      if (err instanceof IdentityError) throw new DeviceRequestError(403, `device identity refused: ${err.reason}: ${err.message}`);
      throw err;
    }
    throw new DeviceRequestError(403, 'no device identity: no Mdm-Signature header or client certificate');
  }

  /** Step 2, once the body says which enrollment it speaks for. Returns whether the certificate
   *  must be bound once the request succeeds. */
  async authorize(identity: DeviceIdentity, who: ResolvedEnrollment, facts: { authenticate: boolean; serialNumber?: string }, now: Date): Promise<boolean> {
    const bound = await this.storage.getIdentityBinding(identity.fingerprint);
    if (bound !== undefined) {
      if (bound.deviceId === who.deviceId) return false;
      throw this.refuse(`certificate is bound to another enrollment (${bound.deviceId})`, who);
    }
    const bindings = await this.storage.listIdentityBindings(who.deviceId);
    if (bindings.length === 0) return true;
    if (namesDevice(identity, who.deviceId, facts.serialNumber)) return true;
    if (facts.authenticate) {
      const device = await this.storage.getEnrollment(who.deviceId);
      const at = now.toISOString();
      if (device?.state === 'checked-out') return true;
      if (bindings.every((b) => b.notAfter <= at)) return true;
      if (device?.identityRenewalUntil && device.identityRenewalUntil > at) return true;
    }
    throw this.refuse('certificate is not bound to this enrollment', who);
  }

  async bind(identity: DeviceIdentity, deviceId: string, now: Date): Promise<void> {
    const bound = await this.storage.bindIdentity({
      fingerprint: identity.fingerprint,
      deviceId,
      subject: identity.subject,
      notAfter: identity.notAfter.toISOString(),
      boundAt: now.toISOString(),
    });
    // Lost a race against another device binding the same certificate: the request that got here
    // first keeps it. This one has already been answered by storage; say so loudly.
    if (!bound) throw new Error(`certificate ${identity.fingerprint} was bound to another device concurrently`);
  }

  /** Opens the window in which the device may re-Authenticate with a new certificate. */
  async openRenewal(deviceId: string, now: Date): Promise<void> {
    await this.storage.openIdentityRenewal(deviceId, new Date(now.getTime() + this.renewalWindowMs).toISOString());
  }

  private refuse(reason: string, who: ResolvedEnrollment): DeviceRequestError {
    return new DeviceRequestError(403, `device identity refused: ${reason}`, { enrollmentId: who.id });
  }
}

function namesDevice(identity: DeviceIdentity, deviceId: string, serialNumber: string | undefined): boolean {
  const cn = /(?:^|\n|, )CN=([^\n,]+)/.exec(identity.subject)?.[1];
  return cn !== undefined && (cn === deviceId || (serialNumber !== undefined && cn === serialNumber));
}
