// One SCEP PKIOperation: a PKCSReq (first enrollment, authorized by the CSR's challenge password)
// or a RenewalReq (signed by the identity being renewed, no challenge), answered with a CertRep.
//
// Order matters. Everything that can be checked without the caller comes first, so a bad request
// never reaches the challenge callback (which may consume a single-use invite). The certificate is
// built before the callback runs and handed to it: the caller can then consume the invite and
// record the identity in one transaction. A certificate the callback refuses is discarded unseen.
import type { KeyObject, X509Certificate } from 'node:crypto';
import type { DigestName } from '../../identity/signature-algorithms.ts';
import type { ContentCipher } from '../cms/content-ciphers.ts';
import { openEnvelope, readEnvelope } from '../cms/enveloped-data.ts';
import { parseCertificateRequest, type CertificateRequest } from './certificate-request.ts';
import { failureCertRep, successCertRep, type Requester } from './cert-rep.ts';
import { failureOf, isMessageError, ScepFailure, type ScepFailInfo } from './failure.ts';
import { DEFAULT_VALIDITY_DAYS, describeCertificate, issueCertificate, type IssuedCertificate } from './issue.ts';
import { readPkiMessage, verifyPkiMessage, type PkiMessage, type VerifiedSigner } from './pki-message.ts';
import type { ScepCa } from './scep-ca.ts';

export type ScepMessageType = 'PKCSReq' | 'RenewalReq';
const MESSAGE_TYPES: ReadonlyMap<string, ScepMessageType> = new Map([
  ['19', 'PKCSReq'],
  ['17', 'RenewalReq'],
]);

/** RSA only (SCEP replies are encrypted to the key), at least 2048 bits; 8192 bounds the work. */
const MIN_RSA_BITS = 2048;
const MAX_RSA_BITS = 8192;

/** A callback's answer: deliver the certificate, or refuse with this failInfo. */
export type ScepVerdict = 'ok' | ScepFailInfo;

/** What a callback decides on: the request, and the certificate it would receive. */
export interface ScepIssuance {
  readonly messageType: ScepMessageType;
  readonly transactionId: string;
  /** Delivered only if the callback answers 'ok'; otherwise discarded, never sent. */
  readonly certificate: IssuedCertificate;
}

export interface ScepDependencies {
  /** The issuing CA (see scepCa). */
  readonly ca: ScepCa;
  /**
   * PKCSReq: decides on the CSR's challengePassword (undefined if it has none). Compare in constant
   * time (timingSafeStringEqual). A rejection (a thrown error) is not a refusal: it propagates, so
   * the caller answers 500 and the device retries later.
   */
  checkChallenge(challenge: string | undefined, issuance: ScepIssuance): Promise<ScepVerdict>;
  /**
   * RenewalReq: decides whether `signer` (the certificate that signed the request, which has
   * proven it holds its key and is within its validity) is a current Aspen-issued identity:
   * issued by a trusted device CA, recorded, not revoked. Usually 'badCertId' when it is not.
   */
  checkRenewal(signer: IssuedCertificate, issuance: ScepIssuance): Promise<ScepVerdict>;
  /** Validity of issued certificates; default 365 days, never beyond the CA's own. */
  readonly validityDays?: number;
  readonly now?: () => Date;
}

export type PkiOperationOutcome =
  | {
      readonly result: 'issued';
      readonly messageType: ScepMessageType;
      readonly transactionId: string;
      readonly certificate: IssuedCertificate;
      /** PKCSReq: the challenge password that authorized it. A secret: do not log it. */
      readonly challenge?: string;
      /** RenewalReq: the identity that signed the renewal. */
      readonly renewed?: IssuedCertificate;
    }
  | {
      readonly result: 'failed';
      /** As sent, in decimal ('19', '17', ...). */
      readonly messageType: string;
      readonly transactionId: string;
      readonly failInfo: ScepFailInfo;
      /** For the log. Every decryption problem has the same reason, on purpose. */
      readonly reason: string;
    }
  | { readonly result: 'refused'; readonly reason: string };

type Refused = Extract<PkiOperationOutcome, { result: 'refused' }>;

/** A CertRep (SUCCESS or FAILURE), or none for a message that cannot be answered. */
export type PkiOperationResult =
  | { readonly certRep: Buffer; readonly outcome: Exclude<PkiOperationOutcome, Refused> }
  | { readonly certRep?: undefined; readonly outcome: Refused };

export async function pkiOperation(bytes: Uint8Array, deps: ScepDependencies): Promise<PkiOperationResult> {
  let request: PkiMessage;
  try {
    request = readPkiMessage(bytes);
  } catch (error) {
    if (isMessageError(error)) return { outcome: { result: 'refused', reason: error.message } };
    throw error;
  }
  let digest: DigestName = 'sha256'; // until the request's own is known
  try {
    const signer = verifyPkiMessage(request);
    digest = signer.digest;
    return await enroll(request, signer, deps);
  } catch (error) {
    const failure = failureOf(error);
    if (failure === undefined) throw error;
    return {
      certRep: failureCertRep(deps.ca, request, digest, failure.failInfo),
      outcome: {
        result: 'failed',
        messageType: request.messageType,
        transactionId: request.transactionId,
        failInfo: failure.failInfo,
        reason: failure.reason,
      },
    };
  }
}

async function enroll(
  request: PkiMessage,
  signer: VerifiedSigner,
  deps: ScepDependencies,
): Promise<PkiOperationResult> {
  const messageType = MESSAGE_TYPES.get(request.messageType);
  if (messageType === undefined) throw new ScepFailure('badRequest', `messageType ${request.messageType} is not supported`);
  const now = deps.now?.() ?? new Date();
  checkSigner(messageType, signer.certificate, now);
  const { csr, cipher } = decryptRequest(request.content, deps.ca);
  const requester = requesterOf(messageType, signer.certificate, csr);

  const certificate = issueCertificate(deps.ca, csr, deps.validityDays ?? DEFAULT_VALIDITY_DAYS, now);
  const issuance: ScepIssuance = { messageType, transactionId: request.transactionId, certificate };
  const renewed = messageType === 'RenewalReq' ? describeCertificate(signer.certificate) : undefined;
  const verdict = renewed ? await deps.checkRenewal(renewed, issuance) : await deps.checkChallenge(csr.challengePassword, issuance);
  if (verdict !== 'ok') throw new ScepFailure(verdict, renewed ? 'renewal signer refused' : 'challenge refused');
  return {
    certRep: successCertRep(deps.ca, request, signer.digest, certificate.der, requester, cipher),
    outcome: {
      result: 'issued',
      messageType,
      transactionId: request.transactionId,
      certificate,
      ...(renewed ? { renewed } : csr.challengePassword !== undefined && { challenge: csr.challengePassword }),
    },
  };
}

/**
 * A PKCSReq is signed with a throwaway self-signed certificate (the requester has no other); a
 * RenewalReq with the identity it renews, which must be within its validity. Whether that identity
 * is one of ours is the checkRenewal callback's decision.
 */
function checkSigner(messageType: ScepMessageType, certificate: X509Certificate, now: Date): void {
  if (messageType === 'PKCSReq') {
    // Signed by its own key is what matters: with that key equal to the requested one (checked
    // later) it binds the message to the requester. Names and key usage are whatever the client
    // chose (scepclient's lacks keyCertSign, so OpenSSL's checkIssued would refuse it).
    if (!verifiesWith(certificate, certificate.publicKey)) {
      throw new ScepFailure('badRequest', 'a PKCSReq must be signed with a self-signed certificate');
    }
    return;
  }
  if (now.getTime() < Date.parse(certificate.validFrom) || now.getTime() > Date.parse(certificate.validTo)) {
    throw new ScepFailure('badTime', 'the renewed certificate is not within its validity');
  }
}

/**
 * Opens the envelope and parses the CSR inside. Everything the sender stated in the clear may be
 * refused precisely; past that point every problem (wrong key, bad padding, garbage, a CSR that
 * does not parse or verify) is the same badMessageCheck by the same path, so that the answers
 * and their timing do not become a decryption oracle.
 */
function decryptRequest(content: Buffer, ca: ScepCa): { csr: CertificateRequest; cipher: ContentCipher } {
  const envelope = readEnvelope(content, ca.certificateNode);
  const { plaintext, paddingOk } = openEnvelope(envelope, ca.privateKey);
  let csr: CertificateRequest | undefined;
  try {
    csr = parseCertificateRequest(plaintext);
  } catch (error) {
    if (!isMessageError(error)) throw error;
  }
  if (!paddingOk || csr === undefined) throw new ScepFailure('badMessageCheck', 'the envelope does not decrypt to a valid certificate request');
  return { csr, cipher: envelope.cipher };
}

/** Checks the requested key, and returns who the reply is encrypted to: the signer certificate. */
function requesterOf(messageType: ScepMessageType, signer: X509Certificate, csr: CertificateRequest): Requester {
  const key = csr.publicKey;
  if (key.asymmetricKeyType !== 'rsa') throw new ScepFailure('badAlg', `a ${key.asymmetricKeyType} key was requested; only RSA is issued`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw new ScepFailure('badRequest', `a ${bits}-bit RSA key was requested`);
  if (messageType === 'PKCSReq' && !signer.publicKey.equals(key)) {
    throw new ScepFailure('badRequest', 'the signer certificate is not for the requested key');
  }
  if (signer.publicKey.asymmetricKeyType !== 'rsa') throw new ScepFailure('badAlg', 'the reply cannot be encrypted to a non-RSA signer');
  return { certificateDer: signer.raw, publicKey: signer.publicKey };
}

function verifiesWith(certificate: X509Certificate, key: KeyObject): boolean {
  try {
    return certificate.verify(key);
  } catch {
    return false; // OpenSSL throws for signature algorithms it cannot check
  }
}
