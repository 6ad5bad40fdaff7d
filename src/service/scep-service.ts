// The built-in SCEP server wired to storage: a PKCSReq is authorized by an invite's challenge (one
// use taken, atomically with recording the certificate) or the static challenge; a RenewalReq by
// the current Aspen-issued identity that signed it. The certificate is recorded before it is sent,
// and a refused one is never sent. A failure inside (the database) rejects, and the HTTP layer
// answers 500: the device retries later rather than giving up.
import { createHash } from 'node:crypto';
import {
  handleScepRequest,
  timingSafeStringEqual,
  type IssuedCertificate,
  type ScepCa,
  type ScepIssuance,
  type ScepRequest,
  type ScepResponse,
  type ScepVerdict,
} from '../enrollment/index.ts';
import { identityChanged } from '../events/drafts.ts';
import type { IssuanceStore, IssuedIdentity, IssueRefusal, NewIssuedIdentity } from '../storage/issuance.ts';
import { secretHash } from './invites.ts';

export interface ScepServiceOptions {
  /** ENROLLMENT_CHALLENGE, accepted besides invites. */
  staticChallenge: string | undefined;
  validityDays: number;
}

/** What one SCEP request came to, for the log line (never the challenge). */
export interface ScepSummary {
  operation: string | undefined;
  outcome: string;
  messageType?: string;
  serial?: string;
  /** Why storage refused the challenge or renewal: unknown, used, expired or revoked. */
  refusal?: IssueRefusal | 'no-challenge';
}

export class ScepService {
  private readonly anchor: string;

  constructor(
    private readonly ca: ScepCa,
    private readonly storage: IssuanceStore,
    private readonly options: ScepServiceOptions,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.anchor = createHash('sha256').update(ca.certificateDer).digest('hex');
  }

  async handle(request: ScepRequest): Promise<{ response: ScepResponse; summary: ScepSummary }> {
    let refusal: ScepSummary['refusal'];
    const refuse = (why: NonNullable<ScepSummary['refusal']>, verdict: ScepVerdict): ScepVerdict => {
      refusal = why;
      return verdict;
    };
    const response = await handleScepRequest(request, {
      ca: this.ca,
      validityDays: this.options.validityDays,
      now: this.now,
      checkChallenge: async (challenge, issuance) => {
        if (challenge === undefined) return refuse('no-challenge', 'badRequest');
        const record = this.record(issuance);
        const fixed = this.options.staticChallenge;
        if (fixed !== undefined && timingSafeStringEqual(challenge, fixed)) {
          await this.storage.issueWithStaticChallenge(record, issuedEvent);
          return 'ok';
        }
        // Found by its SHA-256: the lookup compares digests, never the secret itself.
        const outcome = await this.storage.issueWithChallenge(secretHash(challenge), record, issuedEvent);
        return 'issued' in outcome ? 'ok' : refuse(outcome.refused, 'badRequest');
      },
      checkRenewal: async (signer: IssuedCertificate, issuance) => {
        const outcome = await this.storage.issueRenewal(signer.fingerprint, this.record(issuance), issuedEvent);
        return 'issued' in outcome ? 'ok' : refuse(outcome.refused, 'badCertId');
      },
    });
    return { response, summary: summarize(request.operation, response, refusal) };
  }

  private record({ certificate }: ScepIssuance): NewIssuedIdentity {
    return {
      serial: certificate.serialNumber,
      fingerprint: certificate.fingerprint,
      subject: certificate.subject,
      notBefore: certificate.notBefore.toISOString(),
      notAfter: certificate.notAfter.toISOString(),
      issuedAt: this.now().toISOString(),
      anchor: this.anchor,
    };
  }
}

const issuedEvent = (identity: IssuedIdentity) => identityChanged('identity.issued', identity);

function summarize(operation: string | undefined, response: ScepResponse, refusal: ScepSummary['refusal']): ScepSummary {
  const outcome = response.outcome;
  if (outcome === undefined) return { operation, outcome: response.status === 200 ? 'answered' : `refused: ${response.body.toString().trim()}` };
  switch (outcome.result) {
    case 'issued':
      return { operation, outcome: 'issued', messageType: outcome.messageType, serial: outcome.certificate.serialNumber };
    case 'failed':
      return { operation, outcome: `failed: ${outcome.failInfo}: ${outcome.reason}`, messageType: outcome.messageType, ...(refusal && { refusal }) };
    case 'refused':
      return { operation, outcome: `refused: ${outcome.reason}` };
  }
}
