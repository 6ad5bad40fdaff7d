// The one entry point the server needs: a device identity from whichever proof the request
// carries. For a certificate seen before they cost a hash, a cache lookup and (for Mdm-Signature)
// one signature check, done on the thread pool for a large body.
import type { DeviceCertVerifier, DeviceIdentity } from './device-cert-verifier.ts';
import { decodeForwardedCert } from './forwarded-cert.ts';
import { checkMdmSignature, checkMdmSignatureOffThread, parseMdmSignature, type MdmSignature } from './mdm-signature.ts';

/** Bodies up to this size are hashed on the event loop (a few µs); larger ones on the thread pool. */
export const OFF_THREAD_BODY_BYTES = 64 * 1024;

export class IdentityVerifier {
  readonly #certificates: DeviceCertVerifier;

  constructor(certificates: DeviceCertVerifier) {
    this.#certificates = certificates;
  }

  /** A request signed with an `Mdm-Signature` header over its exact body bytes. */
  fromMdmSignature(headerValue: string, body: Uint8Array, now: Date = new Date()): DeviceIdentity {
    const { signature, identity } = this.#trustedSigner(headerValue, now);
    checkMdmSignature(signature, body, identity.publicKey);
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
