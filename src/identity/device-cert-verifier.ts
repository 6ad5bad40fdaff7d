// Decides whether a device certificate (from mTLS, a proxy header or an Mdm-Signature) is one of
// ours: it chains to a trusted device CA, every certificate on the way is within its validity
// period and path length, and it may be used for TLS client authentication.
//
// The path is built from the certificates in DEVICE_CA and, when the leaf's issuer is not among
// them, from the intermediates the request itself carries (the CMS certificates of an
// Mdm-Signature, the TLS client's chain): with only the root in DEVICE_CA, a device whose
// identity an issuing CA under that root signed is still accepted. Presented certificates are
// untrusted candidates until signatures link them to a trusted one, and both their number and the
// path's length are bounded.
//
// A new certificate issued straight by a trusted CA, in the shape CAs issue device identities in,
// is read by certificate-reader.ts and its signature checked against the CA's key prepared once:
// `new X509Certificate` costs most of a new device's first request (OpenSSL decodes the key through
// its provider framework). Everything else, and every refusal, goes through X509Certificate as
// before, so the two ways agree on every certificate the direct one accepts (see #direct).
//
// Path building costs a few signature checks, so its outcome is cached. A device sends the same
// certificate on every request, so the steady-state cost is one SHA-256 over the DER plus a map
// lookup. The outcome depends on the leaf and, when it needed them, on the presented certificates,
// so those are part of the key. Validity periods are the only part that depends on time: the cache
// keeps the path's combined window and compares it with `now` on every call.
import { createHash, verify as verifySignature, X509Certificate, type KeyObject } from 'node:crypto';
import { pathLengthLimit } from './basic-constraints.ts';
import { readCertificate, type ReadCertificate } from './certificate-reader.ts';
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

/** Presented certificates looked at per request; the rest are ignored. */
export const MAX_PRESENTED_CERTIFICATES = 8;
/** Presented intermediates a path may go through before it reaches a trusted certificate. */
export const MAX_PRESENTED_PATH_LENGTH = 4;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** A trusted CA that certificates it issued directly can be verified against without X509Certificate. */
interface DirectIssuer {
  readonly certificate: X509Certificate;
  readonly read: ReadCertificate;
  /** The CA and the trusted CAs above it, nearest first, path lengths already checked. */
  readonly chain: readonly X509Certificate[];
  /** Whether a CA before it in the bundle has the same key, and so might be found first. */
  readonly keyShared: boolean;
}

type CachedOutcome =
  | { identity: DeviceIdentity; validFrom: number; validUntil: number }
  | { failure: IdentityFailure; message: string };

export class DeviceCertVerifier {
  readonly #authorities: X509Certificate[];
  readonly #outcomes: LruCache<string, CachedOutcome>;
  /** Prepared on the first verification (it checks the signatures between trusted CAs). */
  #directIssuers: DirectIssuer[] | undefined;

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
    return this.#authorities.map((ca) => factsOf(ca).fingerprint);
  }

  /**
   * Returns the device identity for `certDer`, or throws IdentityError saying why it is refused.
   * `presented`: other certificates the request carries (nearest issuer first, in any order),
   * consulted only when DEVICE_CA alone does not reach the leaf's issuer.
   */
  verify(certDer: Uint8Array, now: Date = new Date(), presented: readonly Uint8Array[] = []): DeviceIdentity {
    const fingerprint = sha256(certDer);
    let outcome = this.#outcome(fingerprint, () => this.#evaluate(Buffer.from(certDer), fingerprint, []));
    if ('failure' in outcome && outcome.failure === 'unknown-ca' && presented.length > 0) {
      const candidates = presented.slice(0, MAX_PRESENTED_CERTIFICATES);
      const key = `${fingerprint}+${sha256(Buffer.from(candidates.map(sha256).join(',')))}`;
      outcome = this.#outcome(key, () => this.#evaluate(Buffer.from(certDer), fingerprint, candidates));
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

  #outcome(key: string, evaluate: () => CachedOutcome): CachedOutcome {
    let outcome = this.#outcomes.get(key);
    if (outcome === undefined) {
      outcome = evaluate();
      this.#outcomes.set(key, outcome);
    }
    return outcome;
  }

  /** Everything about a certificate and the path above it that does not depend on the time. */
  #evaluate(certDer: Buffer, fingerprint: string, presented: readonly Uint8Array[]): CachedOutcome {
    return (presented.length === 0 && this.#direct(certDer, fingerprint)) || this.#evaluateWithOpenssl(certDer, fingerprint, presented);
  }

  /**
   * The outcome for a device certificate a trusted CA issued directly, read without X509Certificate;
   * undefined for anything else (other shapes, other paths, every refusal). It accepts only what
   * #evaluateWithOpenssl accepts, with the same identity: the leaf is no CA (basicConstraints) and
   * allows clientAuth; the issuer is the first trusted CA (bundle order) that X509Certificate's
   * checkIssued and verify would find: a CA (basicConstraints, keyUsage allowing keyCertSign), whose
   * subject is byte for byte the leaf's issuer, whose key identifier matches the leaf's authority key
   * identifier, whose key type fits the signature algorithm and whose key verifies the signature.
   * An earlier CA in the bundle could only also verify it with the same key, so a CA sharing its
   * key with an earlier one is left to X509Certificate.
   */
  #direct(certDer: Buffer, fingerprint: string): CachedOutcome | undefined {
    const leaf = readCertificate(certDer);
    if (leaf === undefined || leaf.basicConstraints?.ca === true || !allowsClientAuth(leaf.extendedKeyUsage)) return undefined;
    const issuer = this.#directIssuersPrepared().find((ca) => issuedDirectly(ca, leaf));
    if (issuer === undefined || issuer.keyShared) return undefined;
    const identity: DeviceIdentity = Object.freeze({
      fingerprint,
      subject: leaf.subject,
      // The same Name bytes as the CA's subject, so the same text.
      issuer: issuer.certificate.subject,
      serialNumber: leaf.serialNumber,
      notBefore: new Date(leaf.notBefore),
      notAfter: new Date(leaf.notAfter),
      certDer,
      publicKey: leaf.publicKey,
      anchor: factsOf(issuer.chain.at(-1)!).fingerprint,
    });
    return accepted(identity, issuer.chain);
  }

  #directIssuersPrepared(): DirectIssuer[] {
    if (this.#directIssuers === undefined) {
      // Their keys as SPKI DER, to tell CAs sharing a key from the others.
      const keys = this.#authorities.map((ca) => factsOf(ca).publicKey.export({ type: 'spki', format: 'der' }));
      this.#directIssuers = this.#authorities.flatMap((certificate, index): DirectIssuer[] => {
        const read = readCertificate(certificate.raw);
        if (read === undefined || !certificate.ca || read.keyCertSign === false) return [];
        const chain = [certificate, ...this.#issuersOf(certificate)];
        if (chain.some((ca, below) => factsOf(ca).pathLength < below)) return [];
        const keyShared = keys.slice(0, index).some((key) => key.equals(keys[index]!));
        return [{ certificate, read, chain, keyShared }];
      });
    }
    return this.#directIssuers;
  }

  /** The general path: X509Certificate's parsing, checkIssued and verify, presented intermediates. */
  #evaluateWithOpenssl(certDer: Buffer, fingerprint: string, presented: readonly Uint8Array[]): CachedOutcome {
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
    if (usages !== undefined && !allowsClientAuth(usages)) {
      return { failure: 'not-client-auth', message: `extended key usage ${usages.join(',')} excludes clientAuth` };
    }

    const chain = this.#pathAbove(leaf, presented.flatMap(parseCa));
    if (chain === undefined) {
      const carried = presented.length === 0 ? '' : ` (nor do the ${presented.length} certificates the request carries lead to one)`;
      return { failure: 'unknown-ca', message: `no trusted device CA issued "${oneLine(leaf.issuer)}"${carried}` };
    }
    const tooLong = chain.findIndex((ca, below) => factsOf(ca).pathLength < below);
    if (tooLong !== -1) {
      return { failure: 'unknown-ca', message: `"${oneLine(chain[tooLong]!.subject)}" allows fewer intermediate CAs below it than the path has` };
    }

    const identity: DeviceIdentity = Object.freeze({
      fingerprint,
      subject: leaf.subject,
      issuer: leaf.issuer,
      serialNumber: leaf.serialNumber,
      notBefore: new Date(leaf.validFrom),
      notAfter: new Date(leaf.validTo),
      certDer,
      publicKey,
      anchor: factsOf(chain.at(-1)!).fingerprint,
    });
    return accepted(identity, chain);
  }

  /**
   * The CAs above `leaf`, nearest first: presented intermediates (at most
   * MAX_PRESENTED_PATH_LENGTH) until one is issued by a trusted certificate, then trusted ones up
   * through the bundle. Undefined when no trusted certificate is reached.
   */
  #pathAbove(leaf: X509Certificate, presented: readonly X509Certificate[]): X509Certificate[] | undefined {
    const path: X509Certificate[] = [];
    let current = leaf;
    for (;;) {
      const trusted = this.#authorities.find((ca) => issued(ca, current));
      if (trusted !== undefined) return [...path, trusted, ...this.#issuersOf(trusted)];
      if (path.length === MAX_PRESENTED_PATH_LENGTH) return undefined;
      const next = presented.find((ca) => !path.includes(ca) && issued(ca, current));
      if (next === undefined) return undefined;
      path.push(next);
      current = next;
    }
  }

  /**
   * The trusted certificates above `certificate`, nearest first, following issuer links through
   * the bundle until a self-signed root or a certificate whose issuer is not in the bundle.
   */
  #issuersOf(certificate: X509Certificate): X509Certificate[] {
    const chain: X509Certificate[] = [];
    let current = certificate;
    for (;;) {
      // A cross-signed pair in the bundle must not loop.
      const issuer = this.#authorities.find((ca) => !chain.includes(ca) && issued(ca, current));
      if (issuer === undefined) return chain;
      chain.push(issuer);
      current = issuer;
    }
  }
}

/** Whether `ca` is a CA certificate that issued and signed `certificate`. */
function issued(ca: X509Certificate, certificate: X509Certificate): boolean {
  return ca !== certificate && ca.ca && certificate.checkIssued(ca) && certificate.verify(factsOf(ca).publicKey);
}

/** What verifying a certificate below a CA reads of the CA. */
interface CaFacts {
  publicKey: KeyObject;
  /** How many intermediate CAs may follow it in a path (basicConstraints pathLenConstraint). */
  pathLength: number;
  /** SHA-256 of its DER, lowercase hex (what a DeviceIdentity's `anchor` is). */
  fingerprint: string;
  validFrom: number;
  validUntil: number;
}

/** Facts of CAs already read. Each read of an X509Certificate property asks OpenSSL again (the
 *  public key is parsed anew each time); the trusted CAs live as long as the verifier, so a new
 *  device certificate reads none of them again. */
const caFacts = new WeakMap<X509Certificate, CaFacts>();

function factsOf(ca: X509Certificate): CaFacts {
  let facts = caFacts.get(ca);
  if (facts === undefined) {
    facts = {
      publicKey: ca.publicKey,
      pathLength: pathLengthLimit(ca.raw),
      fingerprint: ca.fingerprint256.replaceAll(':', '').toLowerCase(),
      validFrom: Date.parse(ca.validFrom),
      validUntil: Date.parse(ca.validTo),
    };
    caFacts.set(ca, facts);
  }
  return facts;
}

/** The outcome of an accepted path: its identity, valid while the leaf and every CA above it are. */
function accepted(identity: DeviceIdentity, chain: readonly X509Certificate[]): CachedOutcome {
  return {
    identity,
    validFrom: Math.max(identity.notBefore.getTime(), ...chain.map((ca) => factsOf(ca).validFrom)),
    validUntil: Math.min(identity.notAfter.getTime(), ...chain.map((ca) => factsOf(ca).validUntil)),
  };
}

/** An extended key usage (absent: any use) that allows TLS client authentication. */
function allowsClientAuth(usages: readonly string[] | undefined): boolean {
  return usages === undefined || usages.includes(CLIENT_AUTH) || usages.includes(ANY_EXTENDED_KEY_USAGE);
}

/** What X509Certificate's checkIssued and verify decide, on certificates read by certificate-reader.ts. */
function issuedDirectly(ca: DirectIssuer, leaf: ReadCertificate): boolean {
  if (Buffer.compare(ca.read.subjectDer, leaf.issuerDer) !== 0) return false;
  const keyId = ca.read.subjectKeyId;
  if (leaf.authorityKeyId !== undefined && keyId !== undefined && Buffer.compare(keyId, leaf.authorityKeyId) !== 0) return false;
  const key = factsOf(ca.certificate).publicKey;
  if (key.asymmetricKeyType !== leaf.signatureKeyType) return false;
  try {
    return verifySignature(leaf.signatureDigest, leaf.tbs, key, leaf.signature);
  } catch {
    return false;
  }
}

/** A presented certificate that could be an intermediate, or nothing (unparseable, not a CA). */
function parseCa(der: Uint8Array): X509Certificate[] {
  try {
    const certificate = new X509Certificate(der);
    return certificate.ca ? [certificate] : [];
  } catch {
    return [];
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function oneLine(distinguishedName: string): string {
  return distinguishedName.replaceAll('\n', ', ');
}
