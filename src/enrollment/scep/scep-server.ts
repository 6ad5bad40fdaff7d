// The SCEP server (RFC 8894) as one framework-free function: the HTTP layer passes the
// `operation` query parameter and the message (GET's `message` parameter or POST's body) and
// sends back the status, content type and body it gets. Routing, body limits and logging stay in
// the HTTP layer; what was issued comes back in `outcome` for the caller to record.
import { pkiOperation, type PkiOperationOutcome, type ScepDependencies } from './pki-operation.ts';

/**
 * What GetCACaps advertises. POSTPKIOperation and SCEPStandard make clients POST their requests;
 * SHA-256 and AES are what a SCEPStandard client must then use; Renewal allows RenewalReq.
 * Older algorithms (SHA-1, DES3, DES) are still accepted from clients that use them anyway.
 */
export const SCEP_CAPABILITIES = ['POSTPKIOperation', 'SHA-256', 'AES', 'SCEPStandard', 'Renewal'] as const;

/** Real requests are 2-5 KiB; a CSR with every extension still fits many times over. */
export const MAX_SCEP_MESSAGE_BYTES = 64 * 1024;

export interface ScepRequest {
  /** The `operation` query parameter. */
  readonly operation: string | undefined;
  /**
   * PKIOperation only: the GET `message` query parameter after URL decoding (base64 of the DER),
   * or the POST body.
   */
  readonly message?: string | Uint8Array;
}

export interface ScepResponse {
  /** 200 for every CertRep, FAILURE included; 4xx only for a request that cannot be answered. */
  readonly status: 200 | 400 | 413;
  readonly contentType: string;
  readonly body: Buffer;
  /** PKIOperation only: what happened, for the caller to record and log. */
  readonly outcome?: PkiOperationOutcome;
}

const TEXT = 'text/plain; charset=utf-8';

export async function handleScepRequest(request: ScepRequest, deps: ScepDependencies): Promise<ScepResponse> {
  switch (request.operation) {
    case 'GetCACert':
      // A single DER certificate: no RA, so devices encrypt to the CA itself.
      return { status: 200, contentType: 'application/x-x509-ca-cert', body: deps.ca.certificateDer };
    case 'GetCACaps':
      return { status: 200, contentType: 'text/plain', body: Buffer.from(SCEP_CAPABILITIES.join('\n') + '\n') };
    case 'PKIOperation':
      return pkiOperationResponse(request.message, deps);
    default:
      return refusal(400, request.operation === undefined ? 'missing SCEP operation' : `unsupported SCEP operation ${JSON.stringify(request.operation.slice(0, 40))}`);
  }
}

async function pkiOperationResponse(message: string | Uint8Array | undefined, deps: ScepDependencies): Promise<ScepResponse> {
  const bytes = typeof message === 'string' ? decodeMessageParameter(message) : message;
  if (bytes === undefined || bytes.length === 0) return refusal(400, 'PKIOperation needs a message: base64 in the GET query, or the POST body');
  if (bytes.length > MAX_SCEP_MESSAGE_BYTES) return refusal(413, `PKIOperation message larger than ${MAX_SCEP_MESSAGE_BYTES} bytes`);
  const result = await pkiOperation(bytes, deps);
  if (result.certRep === undefined) return { ...refusal(400, `not a SCEP request: ${result.outcome.reason}`), outcome: result.outcome };
  return { status: 200, contentType: 'application/x-pki-message', body: result.certRep, outcome: result.outcome };
}

/**
 * GET's message is base64 of the DER. Clients differ: some use the URL-safe alphabet, some leave
 * out the padding, and some do not percent-encode `+`, which query decoding then turns into a space.
 */
function decodeMessageParameter(text: string): Buffer | undefined {
  const standard = text.replace(/ /g, '+').replace(/-/g, '+').replace(/_/g, '/').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(standard) || standard.replace(/=+$/, '').length % 4 === 1) return undefined;
  return Buffer.from(standard, 'base64');
}

function refusal(status: 400 | 413, reason: string): ScepResponse {
  return { status, contentType: TEXT, body: Buffer.from(`${reason}\n`) };
}
