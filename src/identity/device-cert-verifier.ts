// Decides whether a device certificate (from mTLS, a proxy header or an Mdm-Signature) is one of
// ours: it chains to a trusted device CA, every certificate on the way is within its validity
// period, and it may be used for TLS client authentication.
//
// Chain building costs a few signature checks, so its outcome is cached per certificate
// fingerprint. A device sends the same certificate on every request, so the steady-state cost is
// one SHA-256 over the DER plus a map lookup. Validity periods are the only part that depends on
// time: the cache keeps the chain's combined window and compares it with `now` on every call.
import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { IdentityError, type IdentityFailure } from './errors.ts';
import { LruCache } from './lru-cache.ts';

/** A device certificate that passed verification. Shared between calls: treat as read-only. */
export interface DeviceIdentity {
  /** SHA-256 of the certificate DER, lowercase hex: the stable key for a device's identity. */
  readonly fingerprint: string;
  /** Subject distinguished name in OpenSSL's one-attribute-per-line form. */
  readonly subject: string;
  readonly issuer: string;
  /** Uppercase hex, as X509Certificate reports it. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly certDer: Buffer;
  /** Parsed once and kept so Mdm-Signature checks need not parse the certificate again. */
  readonly publicKey: KeyObject;
  /** SHA-256 (lowercase hex) of the trusted CA certificate the chain ends at. */
  readonly anchor: string;
}

export interface DeviceCertVerifierOptions {
  /** Distinct certificates whose verification outcome is remembered. */
  cacheSize?: number;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

type CachedOutcome =
  | { identity: DeviceIdentity; validFrom: number; validUntil: number }
  | { failure: IdentityFailure; message: string };

export class DeviceCertVerifier {
  readonly #authorities: X509Certificate[];
  readonly #outcomes: LruCache<string, CachedOutcome>;

  /**
   * @param trustedPem PEM bundle of device CAs (the DEVICE_CA setting). Every certificate in it is
   *   trusted to issue device certificates; intermediates may sit next to their roots.
   */
  constructor(trustedPem: string, options: DeviceCertVerifierOptions = {}) {
    this.#authorities = (trustedPem.match(PEM_CERTIFICATE) ?? []).map((pem) => new X509Certificate(pem));
    if (this.#authorities.length === 0) throw new Error('device CA bundle contains no certificates');
    this.#outcomes = new LruCache(options.cacheSize ?? 10_000);
  }

  /** SHA-256 (lowercase hex) of every trusted CA certificate: what a DeviceIdentity's `anchor` can be. */
  anchors(): string[] {
    return this.#authorities.map(fingerprintOf);
  }

  /** Returns the device identity for `certDer`, or throws IdentityError saying why it is refused. */
  verify(certDer: Uint8Array, now: Date = new Date()): DeviceIdentity {
    const fingerprint = createHash('sha256').update(certDer).digest('hex');
    let outcome = this.#outcomes.get(fingerprint);
    if (outcome === undefined) {
      outcome = this.#evaluate(Buffer.from(certDer), fingerprint);
      this.#outcomes.set(fingerprint, outcome);
    }
    if ('failure' in outcome) throw new IdentityError(outcome.failure, outcome.message);

    const time = now.getTime();
    if (time < outcome.validFrom) {
      throw new IdentityError('not-yet-valid', `certificate chain is not valid before ${new Date(outcome.validFrom).toISOString()}`);
    }
    if (time > outcome.validUntil) {
      throw new IdentityError('expired', `certificate chain expired at ${new Date(outcome.validUntil).toISOString()}`);
    }
    return outcome.identity;
  }

  /** Everything about a certificate that does not depend on the time. */
  #evaluate(certDer: Buffer, fingerprint: string): CachedOutcome {
    let leaf: X509Certificate;
    let publicKey: KeyObject;
    try {
      leaf = new X509Certificate(certDer);
      publicKey = leaf.publicKey;
    } catch {
      return { failure: 'malformed', message: 'device certificate does not parse as X.509' };
    }
    if (leaf.ca) return { failure: 'not-client-auth', message: 'device certificate is a CA certificate' };
    const usages = leaf.keyUsage; // despite the name: the extended key usage OIDs, undefined if absent
    if (usages !== undefined && !usages.includes(CLIENT_AUTH) && !usages.includes(ANY_EXTENDED_KEY_USAGE)) {
      return { failure: 'not-client-auth', message: `extended key usage ${usages.join(',')} excludes clientAuth` };
    }

    const chain = this.#issuersOf(leaf);
    if (chain.length === 0) return { failure: 'unknown-ca', message: `no trusted device CA issued "${oneLine(leaf.issuer)}"` };

    const certificates = [leaf, ...chain];
    const identity: DeviceIdentity = Object.freeze({
      fingerprint,
      subject: leaf.subject,
      issuer: leaf.issuer,
      serialNumber: leaf.serialNumber,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      certDer,
      publicKey,
      anchor: fingerprintOf(chain.at(-1)!),
    });
    return {
      identity,
      validFrom: Math.max(...certificates.map((c) => Date.parse(c.validFrom))),
      validUntil: Math.min(...certificates.map((c) => Date.parse(c.validTo))),
    };
  }

  /**
   * The trusted certificates above `certificate`, nearest first, following issuer links through
   * the bundle until a self-signed root or a certificate whose issuer is not in the bundle.
   */
  #issuersOf(certificate: X509Certificate): X509Certificate[] {
    const chain: X509Certificate[] = [];
    let current = certificate;
    for (;;) {
      const issuer = this.#authorities.find(
        (ca) =>
          ca !== current &&
          !chain.includes(ca) && // a cross-signed pair in the bundle must not loop
          ca.ca &&
          current.checkIssued(ca) &&
          current.verify(ca.publicKey),
      );
      if (issuer === undefined) return chain;
      chain.push(issuer);
      current = issuer;
    }
  }
}

function fingerprintOf(certificate: X509Certificate): string {
  return certificate.fingerprint256.replaceAll(':', '').toLowerCase();
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.replaceAll('\n', ', ');
}
