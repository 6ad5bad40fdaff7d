// The CertRep reply (RFC 8894 §3.3.2): a SignedData by the CA whose signed attributes echo the
// request's transactionID, return its senderNonce as recipientNonce, add a fresh senderNonce and
// give the pkiStatus. On SUCCESS the content is the issued certificate in a degenerate SignedData,
// encrypted to the requester's certificate with the requester's own content cipher; on FAILURE
// there is no content, and failInfo says why.
import { randomBytes, type KeyObject } from 'node:crypto';
import type { DigestName } from '../../identity/signature-algorithms.ts';
import type { ContentCipher } from '../cms/content-ciphers.ts';
import { octetString, printableString } from '../cms/der.ts';
import { envelopedData } from '../cms/enveloped-data.ts';
import { attribute, degenerateSignedData, signedData } from '../cms/signed-data.ts';
import { FAIL_INFO_CODE, type ScepFailInfo } from './failure.ts';
import { SCEP_ATTRIBUTE, type PkiMessage } from './pki-message.ts';
import type { ScepCa } from './scep-ca.ts';

const CERT_REP = '3';
const SUCCESS = '0';
const FAILURE = '2';

export interface Requester {
  readonly certificateDer: Uint8Array;
  readonly publicKey: KeyObject;
}

export function successCertRep(
  ca: ScepCa,
  request: PkiMessage,
  digest: DigestName,
  issuedDer: Uint8Array,
  requester: Requester,
  cipher: ContentCipher,
): Buffer {
  const content = envelopedData(degenerateSignedData([issuedDer]), requester.certificateDer, requester.publicKey, cipher);
  return certRep(ca, request, digest, [attribute(SCEP_ATTRIBUTE.pkiStatus, printableString(SUCCESS))], content);
}

export function failureCertRep(ca: ScepCa, request: PkiMessage, digest: DigestName, failInfo: ScepFailInfo): Buffer {
  return certRep(ca, request, digest, [
    attribute(SCEP_ATTRIBUTE.pkiStatus, printableString(FAILURE)),
    attribute(SCEP_ATTRIBUTE.failInfo, printableString(FAIL_INFO_CODE[failInfo])),
  ]);
}

function certRep(ca: ScepCa, request: PkiMessage, digest: DigestName, status: Uint8Array[], content?: Uint8Array): Buffer {
  return signedData({
    signer: { certificateDer: ca.certificateDer, privateKey: ca.privateKey },
    digest,
    ...(content && { content }),
    attributes: [
      attribute(SCEP_ATTRIBUTE.messageType, printableString(CERT_REP)),
      attribute(SCEP_ATTRIBUTE.transactionID, request.transactionIdValue),
      attribute(SCEP_ATTRIBUTE.senderNonce, octetString(randomBytes(16))),
      attribute(SCEP_ATTRIBUTE.recipientNonce, octetString(request.senderNonce)),
      ...status,
    ],
  });
}
