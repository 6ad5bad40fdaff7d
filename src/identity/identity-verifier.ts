// The one entry point the server needs: a device identity from whichever proof the request
// carries. All methods are synchronous; for a certificate seen before they cost a hash, a cache
// lookup and (for Mdm-Signature) one signature check.
import type { DeviceCertVerifier, DeviceIdentity } from './device-cert-verifier.ts';
import { decodeForwardedCert } from './forwarded-cert.ts';
import { checkMdmSignature, parseMdmSignature } from './mdm-signature.ts';

export class IdentityVerifier {
  readonly #certificates: DeviceCertVerifier;

  constructor(certificates: DeviceCertVerifier) {
    this.#certificates = certificates;
  }

  /** A request signed with an `Mdm-Signature` header over its exact body bytes. */
  fromMdmSignature(headerValue: string, body: Uint8Array, now: Date = new Date()): DeviceIdentity {
    const signature = parseMdmSignature(headerValue);
    // Trust first: it is cached, and it supplies the parsed public key the signature check needs.
    const identity = this.#certificates.verify(signature.signerCertDer, now, signature.otherCertificatesDer);
    checkMdmSignature(signature, body, identity.publicKey);
    return identity;
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
