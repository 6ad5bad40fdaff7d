// Who is calling, and may it speak for this enrollment? Every device request carries a certificate
// (in an Mdm-Signature header, as the TLS client certificate, or forwarded by a TLS-terminating
// proxy) that must chain to a trusted device CA and be bound to the enrollment it speaks for.
//
// A certificate is bound to one device. These cases bind a new one, and no others:
// 1. first use: the device has no bound certificate yet (a new enrollment, or one enrolled before
//    identity checks were on);
// 2. at Authenticate, when the bound certificates can no longer speak: the device checked out, or
//    every bound certificate has expired;
// 3. at Authenticate, within the renewal window opened when the device (speaking with its bound
//    certificate) was handed an InstallProfile command carrying an MDM payload: replacing the MDM
//    profile re-enrolls the device with a new identity. The window closes once used;
// 4. only with IDENTITY_TRUST_COMMON_NAME=true: the certificate's subject CN is the device's UDID,
//    EnrollmentID or stored serial number. Safe only when the CA issues a CN to nobody but that
//    device (many SCEP servers sign whatever subject a request asks for).
// Anything else, notably a fresh certificate trying to Authenticate as an enrolled device, is
// refused: only the holder of a bound key can speak for an enrollment.
import { IdentityError, subjectCommonNames, type DeviceIdentity, type IdentityVerifier } from '../identity/index.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import type { Storage } from '../storage/storage.ts';
import { DeviceRequestError } from './device-reply.ts';

/** The identity material of one request, as the HTTP layer found it (the first present of the
 *  three, in this order), or null when the request carries none. */
export type DeviceCredentials =
  /** The Mdm-Signature header. */
  | { kind: 'signature'; value: string }
  /** A client certificate forwarded by a proxy, in the configured header. */
  | { kind: 'forwarded'; value: string }
  /** The TLS client certificate (DER), with mTLS, and the chain the client sent after it. */
  | { kind: 'peer'; der: Uint8Array; chain: readonly Uint8Array[] }
  | null;

export interface DeviceAuthOptions {
  renewalWindowMs: number;
  trustCommonName: boolean;
}

/** Why a new certificate may be bound; `bound` when it already is. */
export type Authorization = 'bound' | 'first-use' | 're-enrollment' | 'renewal' | 'names-device';

export class DeviceAuth {
  constructor(
    private readonly verifier: IdentityVerifier,
    private readonly storage: Storage,
    private readonly options: DeviceAuthOptions,
  ) {}

  /** Step 1, before the body is parsed: a valid certificate, and a signature over these bytes. */
  async identify(credentials: DeviceCredentials, body: Uint8Array, now: Date): Promise<DeviceIdentity> {
    if (credentials === null) throw new DeviceRequestError(403, 'no device identity: no Mdm-Signature header or client certificate');
    try {
      switch (credentials.kind) {
        case 'signature':
          return await this.verifier.fromMdmSignatureOfAnySize(credentials.value, body, now);
        case 'forwarded':
          return this.verifier.fromForwardedCertificate(credentials.value, now);
        case 'peer':
          return this.verifier.fromPeerCertificate(credentials.der, now, credentials.chain);
      }
    } catch (err) {
      if (err instanceof IdentityError) throw new DeviceRequestError(403, `device identity refused: ${err.reason}: ${err.message}`);
      throw err;
    }
  }

  /** Step 2, once the body says which enrollment it speaks for; throws a 403 when it may not. */
  async authorize(identity: DeviceIdentity, who: ResolvedEnrollment, authenticate: boolean, now: Date): Promise<Authorization> {
    const bound = await this.storage.getIdentityBinding(identity.fingerprint);
    if (bound !== undefined) {
      if (bound.deviceId === who.deviceId) return 'bound';
      throw this.refuse(`certificate is bound to another enrollment (${bound.deviceId})`, who);
    }
    const bindings = await this.storage.listIdentityBindings(who.deviceId);
    if (bindings.length === 0) return 'first-use';
    const device = await this.storage.getEnrollment(who.deviceId);
    if (authenticate) {
      const at = now.toISOString();
      if (device?.state === 'checked-out' || bindings.every((b) => b.notAfter <= at)) return 're-enrollment';
      if (device?.identityRenewalUntil && device.identityRenewalUntil > at) return 'renewal';
    }
    if (this.options.trustCommonName && this.namesDevice(identity, who.deviceId, device?.serialNumber ?? null)) return 'names-device';
    throw this.refuse('certificate is not bound to this enrollment', who);
  }

  /** Binds the certificate to the device (before the request runs, so the two cannot be split by a
   *  crash into "state changed, certificate not bound"; `unbind` undoes it if the request fails). */
  async bind(identity: DeviceIdentity, deviceId: string, now: Date): Promise<void> {
    const bound = await this.storage.bindIdentity({
      fingerprint: identity.fingerprint,
      deviceId,
      subject: identity.subject,
      notAfter: identity.notAfter.toISOString(),
      boundAt: now.toISOString(),
    });
    if (!bound) throw new DeviceRequestError(403, 'device identity refused: certificate was just bound to another enrollment');
  }

  async unbind(identity: DeviceIdentity, deviceId: string): Promise<void> {
    await this.storage.unbindIdentity(identity.fingerprint, deviceId);
  }

  /** Opens the window in which the device may re-Authenticate with a new certificate. */
  async openRenewal(deviceId: string, now: Date): Promise<void> {
    await this.storage.setIdentityRenewal(deviceId, new Date(now.getTime() + this.options.renewalWindowMs).toISOString());
  }

  async closeRenewal(deviceId: string): Promise<void> {
    await this.storage.setIdentityRenewal(deviceId, null);
  }

  private namesDevice(identity: DeviceIdentity, deviceId: string, serialNumber: string | null): boolean {
    const names = subjectCommonNames(identity.certDer);
    return names.length === 1 && (names[0] === deviceId || (serialNumber !== null && names[0] === serialNumber));
  }

  private refuse(reason: string, who: ResolvedEnrollment): DeviceRequestError {
    return new DeviceRequestError(403, `device identity refused: ${reason}`, { enrollmentId: who.id });
  }
}
