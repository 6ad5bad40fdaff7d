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
// refused: only the holder of a bound key can speak for an enrollment. A certificate Aspen issued
// and then revoked is refused in every case.
import { IdentityError, subjectCommonNames, type DeviceIdentity, type IdentityVerifier } from '../identity/index.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import type { AdmissionChange, AdmissionFacts, AuthenticateRecord, EnrollmentStore, IdentityBinding, IdentityStore } from '../storage/storage.ts';
import { BindingCache } from './binding-cache.ts';
import { DeviceRequestError, type IdentityRefusal } from './device-reply.ts';

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
  /** How long a binding read from storage is trusted before it is read again: the longest an
   *  unbind made by another instance can go unseen here. */
  bindingCacheMs: number;
}

/** Why a new certificate may be bound; `bound` when it already is. */
export type Authorization = 'bound' | 'first-use' | 're-enrollment' | 'renewal' | 'names-device';

/** A certificate admitted for a request. */
export interface Admission {
  authorization: Authorization;
  /** Undoes what admitting changed (a new binding, a used renewal window), for a request that failed. */
  undo(): Promise<void>;
}

const BOUND: Admission = { authorization: 'bound', undo: async () => {} };

/** The Authenticate an admission writes, made once its authorization is known (checkin.ts). */
export type AuthenticateWrite = (authorization: Authorization) => AuthenticateRecord;

/** An admission decision: `authorization` when admitted, `refusal` (and its kind) when not. */
type Decision = AdmissionChange &
  ({ authorization: Authorization; renewalBefore: string | null } | { refusal: string; kind: IdentityRefusal });

function refusal(reason: string, kind: IdentityRefusal): Decision {
  return { refusal: reason, kind, bind: false, consumeRenewal: false };
}

export class DeviceAuth {
  private readonly bindings: BindingCache;

  constructor(
    private readonly verifier: IdentityVerifier,
    private readonly storage: IdentityStore & Pick<EnrollmentStore, 'authenticate'>,
    private readonly options: DeviceAuthOptions,
  ) {
    this.bindings = new BindingCache(options.bindingCacheMs);
  }

  /** Step 1, before the body is parsed: a valid certificate, and a signature over these bytes. */
  async identify(credentials: DeviceCredentials, body: Uint8Array, now: Date): Promise<DeviceIdentity> {
    if (credentials === null) {
      throw new DeviceRequestError(403, 'no device identity: no Mdm-Signature header or client certificate', { refusal: 'no-identity' });
    }
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
      if (err instanceof IdentityError) throw new DeviceRequestError(403, `device identity refused: ${err.reason}: ${err.message}`, { refusal: err.reason });
      throw err;
    }
  }

  /**
   * Step 2, once the body says which enrollment it speaks for: may this certificate speak for it?
   * Binds a new certificate when one of the cases above holds, deciding and binding in one atomic
   * storage step; throws a 403 when it may not. The returned admission undoes what it changed if
   * the request then fails. For every message but Authenticate (see `authenticate`).
   */
  async admit(identity: DeviceIdentity, who: ResolvedEnrollment, now: Date): Promise<Admission> {
    if (await this.isBound(identity, who, now)) return BOUND;
    const binding = bindingOf(identity, who, now);
    const decision = await this.storage.admitIdentity(binding, (facts) => this.decide(facts, identity, who.deviceId, false, binding.boundAt));
    return this.admitted(decision, identity.fingerprint, who, now);
  }

  /**
   * Step 2 for an Authenticate, together with its write: as `admit`, but a certificate still to
   * be bound is decided, bound and the Authenticate `write` makes of its authorization stored in
   * one storage step, so enrolling with a new certificate costs one commit. Throws a 403 (having
   * written nothing) when the certificate may not speak for the device.
   */
  async authenticate(identity: DeviceIdentity, who: ResolvedEnrollment, now: Date, write: AuthenticateWrite): Promise<{ admission: Admission; created: boolean }> {
    if (this.bindings.get(identity.fingerprint, now) === who.deviceId) return { admission: BOUND, ...(await this.storage.authenticate(write('bound'))) };
    // No read of the binding first: an Authenticate writes anyway, and the admission's own reads
    // find a bound certificate as well.
    const binding = bindingOf(identity, who, now);
    const { decision, created } = await this.storage.admitAuthenticate(
      binding,
      (facts) => this.decide(facts, identity, who.deviceId, true, binding.boundAt),
      (d) => ('refusal' in d ? null : write(d.authorization)),
    );
    return { admission: this.admitted(decision, identity.fingerprint, who, now), created: created! };
  }

  /** Whether the certificate is already bound to this device (nearly every request: a cached or
   *  plain read); throws a 403 when it is bound to another. */
  private async isBound({ fingerprint }: DeviceIdentity, who: ResolvedEnrollment, now: Date): Promise<boolean> {
    if (this.bindings.get(fingerprint, now) === who.deviceId) return true;
    const bound = await this.storage.getIdentityBinding(fingerprint);
    if (bound?.deviceId === who.deviceId) {
      this.bindings.set(fingerprint, who.deviceId, now);
      return true;
    }
    if (bound !== undefined) throw this.refuse(`certificate is bound to another enrollment (${bound.deviceId})`, 'bound-elsewhere', who);
    return false;
  }

  /** The admission a stored decision makes, or its refusal (thrown). */
  private admitted(decision: Decision, fingerprint: string, who: ResolvedEnrollment, now: Date): Admission {
    if ('refusal' in decision) throw this.refuse(decision.refusal, decision.kind, who);
    // The device's next request (a TokenUpdate right after Authenticate) need not read it back.
    this.bindings.set(fingerprint, who.deviceId, now);
    return {
      authorization: decision.authorization,
      undo: async () => {
        this.bindings.forget(fingerprint);
        if (decision.bind) await this.storage.unbindIdentity(fingerprint, who.deviceId);
        if (decision.consumeRenewal) await this.storage.setIdentityRenewal(who.deviceId, decision.renewalBefore);
      },
    };
  }

  /** The policy of the cases above, judged on facts read atomically with it (pure). */
  private decide(facts: AdmissionFacts, identity: DeviceIdentity, deviceId: string, authenticate: boolean, at: string): Decision {
    const admit = (authorization: Authorization, consumeRenewal = false): Decision => ({
      authorization,
      bind: authorization !== 'bound',
      consumeRenewal,
      renewalBefore: facts.device?.identityRenewalUntil ?? null,
    });
    // A certificate Aspen revoked is refused like one it never issued (its binding went with it).
    if (facts.revoked) return refusal('certificate was revoked', 'revoked');
    if (facts.boundTo === deviceId) return admit('bound');
    if (facts.boundTo !== undefined) return refusal(`certificate is bound to another enrollment (${facts.boundTo})`, 'bound-elsewhere');
    if (facts.deviceBindings.length === 0) return admit('first-use');
    const device = facts.device;
    if (authenticate) {
      if (device?.state === 'checked-out' || facts.deviceBindings.every((b) => b.notAfter <= at)) return admit('re-enrollment');
      if (device?.identityRenewalUntil && device.identityRenewalUntil > at) return admit('renewal', true);
    }
    if (this.options.trustCommonName && this.namesDevice(identity, deviceId, device?.serialNumber ?? null)) return admit('names-device');
    return refusal('certificate is not bound to this enrollment', 'not-bound');
  }

  /**
   * The device a request speaks for, from its certificate alone: for requests that name no
   * enrollment (a device fetching a data asset). Only a certificate already bound to a device
   * counts; nothing is bound here. Throws a 403 otherwise.
   */
  async boundDevice(credentials: DeviceCredentials, now: Date): Promise<string> {
    const { fingerprint } = await this.identify(credentials, new Uint8Array(0), now);
    const cached = this.bindings.get(fingerprint, now);
    if (cached !== undefined) return cached;
    const bound = await this.storage.getIdentityBinding(fingerprint);
    if (bound === undefined) throw new DeviceRequestError(403, 'device identity refused: certificate is not bound to an enrollment', { refusal: 'not-bound' });
    this.bindings.set(fingerprint, bound.deviceId, now);
    return bound.deviceId;
  }

  /** Opens the window in which the device may re-Authenticate with a new certificate. */
  async openRenewal(deviceId: string, now: Date): Promise<void> {
    await this.storage.setIdentityRenewal(deviceId, new Date(now.getTime() + this.options.renewalWindowMs).toISOString());
  }

  /** Forgets what this instance remembers of a certificate's binding (it was just revoked here). */
  forget(fingerprint: string): void {
    this.bindings.forget(fingerprint);
  }

  /** Forgets a device's certificates (an admin letting it re-enroll); returns how many. */
  async release(deviceId: string): Promise<number> {
    const released = await this.storage.unbindIdentities(deviceId);
    this.bindings.clear();
    return released;
  }

  private namesDevice(identity: DeviceIdentity, deviceId: string, serialNumber: string | null): boolean {
    const names = subjectCommonNames(identity.certDer);
    return names.length === 1 && (names[0] === deviceId || (serialNumber !== null && names[0] === serialNumber));
  }

  private refuse(reason: string, refusal: IdentityRefusal, who: ResolvedEnrollment): DeviceRequestError {
    return new DeviceRequestError(403, `device identity refused: ${reason}`, { enrollmentId: who.id, refusal });
  }
}

/** The binding a new certificate would get (bound now). */
function bindingOf(identity: DeviceIdentity, who: ResolvedEnrollment, now: Date): IdentityBinding {
  return {
    fingerprint: identity.fingerprint,
    deviceId: who.deviceId,
    subject: identity.subject,
    notAfter: identity.notAfter.toISOString(),
    boundAt: now.toISOString(),
    anchor: identity.anchor,
  };
}
