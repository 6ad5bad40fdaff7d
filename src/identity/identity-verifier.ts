// The one entry point the server needs: a device identity from whichever proof the request
// carries. For a certificate seen before they cost a hash, a cache lookup and (for Mdm-Signature)
// one signature check, done on the thread pool for a large body.
//
// A signature check that passed is remembered: a device polls with the same Idle report, byte
// for byte, after every push, and its signature is the same each time (RSA PKCS#1 v1.5 is
// deterministic; Apple's Mdm-Signature signs the body itself, without signed attributes). The
// same header over the same body then costs a SHA-256 of both (a few µs) instead of reading the
// header (base64 and DER: 10-15 µs) and an RSA verification (25-30 µs here). The header holds
// everything the check reads (the signer certificate and so its key, the algorithms, any signed
// attributes, the signature), so the remembered outcome is exactly the one the check would give
// again. The certificate is still checked on every request (trust, validity, as the certificate
// verifier caches them). What it trades: VERIFIED_SIGNATURES entries of memory (about 150 bytes
// each: the identity they point to is the one the certificate verifier keeps anyway), and nothing
// for security: a signed message could always be replayed as it was, and that is all an entry
// lets through.
import { createHash } from 'node:crypto';
import type { DeviceCertVerifier, DeviceIdentity } from './device-cert-verifier.ts';
import { decodeForwardedCert } from './forwarded-cert.ts';
import { LruCache } from './lru-cache.ts';
import { checkMdmSignature, checkMdmSignatureOffThread, parseMdmSignature, type MdmSignature } from './mdm-signature.ts';

/** Bodies up to this size are hashed on the event loop (a few µs); larger ones on the thread pool. */
export const OFF_THREAD_BODY_BYTES = 64 * 1024;

/** Passed signature checks remembered (about one per device polling with an Idle). */
const VERIFIED_SIGNATURES = 4_000;

export class IdentityVerifier {
  readonly #certificates: DeviceCertVerifier;
  /** Digests of (header, body) pairs whose signature verified: the signer, and the other
   *  certificates the header carried (its path to DEVICE_CA may go through them). */
  readonly #verified = new LruCache<string, { signer: DeviceIdentity; presented: readonly Uint8Array[] }>(VERIFIED_SIGNATURES);

  constructor(certificates: DeviceCertVerifier) {
    this.#certificates = certificates;
  }

  /** A request signed with an `Mdm-Signature` header over its exact body bytes. */
  fromMdmSignature(headerValue: string, body: Uint8Array, now: Date = new Date()): DeviceIdentity {
    // A NUL cannot occur in the (base64) header, so header and body cannot run into each other.
    const checked = createHash('sha256').update(headerValue).update('\0').update(body).digest('base64');
    const remembered = this.#verified.get(checked);
    if (remembered !== undefined) return this.#certificates.verify(remembered.signer.certDer, now, remembered.presented);
    const { signature, identity } = this.#trustedSigner(headerValue, now);
    checkMdmSignature(signature, body, identity.publicKey);
    this.#verified.set(checked, { signer: identity, presented: signature.otherCertificatesDer ?? [] });
    return identity;
  }

  /** The same, with a body larger than OFF_THREAD_BODY_BYTES hashed off the event loop. */
  async fromMdmSignatureOfAnySize(headerValue: string, body: Uint8Array, now: Date = new Date()): Promise<DeviceIdentity> {
    if (body.length <= OFF_THREAD_BODY_BYTES) return this.fromMdmSignature(headerValue, body, now);
    const { signature, identity } = this.#trustedSigner(headerValue, now);
    await checkMdmSignatureOffThread(signature, body, identity.publicKey);
    return identity;
  }

  #trustedSigner(headerValue: string, now: Date): { signature: MdmSignature; identity: DeviceIdentity } {
    const signature = parseMdmSignature(headerValue);
    // Trust first: it is cached, and it supplies the parsed public key the signature check needs.
    return { signature, identity: this.#certificates.verify(signature.signerCertDer, now, signature.otherCertificatesDer) };
  }

  /** The peer certificate of a mutually authenticated TLS connection, with the chain the client
   *  sent after it (nearest issuer first). */
  fromPeerCertificate(certDer: Uint8Array, now: Date = new Date(), chain: readonly Uint8Array[] = []): DeviceIdentity {
    return this.#certificates.verify(certDer, now, chain);
  }

  /** A client certificate forwarded by a TLS-terminating proxy (RFC 9440 or nginx form). The
   *  header carries the leaf alone, so its issuer must be in DEVICE_CA. */
  fromForwardedCertificate(headerValue: string, now: Date = new Date()): DeviceIdentity {
    return this.#certificates.verify(decodeForwardedCert(headerValue), now);
  }
}
