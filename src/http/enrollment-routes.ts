// Enrollment endpoints, for devices and the people holding them: the profile (open enrollment at
// /mdm/enroll, an invite's at /enroll/<token>) and the SCEP server at /scep. No API key: an
// invite's token, and the challenge in the profile, are what authorize. Only translates HTTP to
// the services and back; refusals are plain text a person reading them in a browser understands.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MAX_SCEP_MESSAGE_BYTES, PROFILE_CONTENT_TYPE } from '../enrollment/index.ts';
import { EnrollmentUnavailableError, NoPushCertificateError, type EnrollmentProfiles } from '../service/enrollment-profiles.ts';
import type { Invites } from '../service/invites.ts';
import type { ScepService } from '../service/scep-service.ts';

export interface EnrollmentRoutesOptions {
  profiles: EnrollmentProfiles;
  invites: Invites;
  /** null when enrollment is off (no PUBLIC_URL). */
  scep: ScepService | null;
  /** ENROLLMENT_OPEN with its static challenge; null when open enrollment is off. */
  openChallenge: string | null;
}

const TEXT = 'text/plain; charset=utf-8';

export async function enrollmentRoutes(app: FastifyInstance, opts: EnrollmentRoutesOptions): Promise<void> {
  // SCEP clients POST the message as bytes, with application/x-pki-message or (scepclient) no
  // Content-Type at all: any body is taken as it comes. Twice the SCEP limit, so that a message
  // just over it gets SCEP's own 413.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 2 * MAX_SCEP_MESSAGE_BYTES }, (_request, body, done) => done(null, body));

  app.get('/mdm/enroll', async (request, reply) => {
    if (opts.scep === null) return refuse(reply, 503, new EnrollmentUnavailableError().message);
    if (opts.openChallenge === null) {
      return refuse(reply, 403, 'open enrollment is off (ENROLLMENT_OPEN=false): enroll with an invite link from your administrator');
    }
    return sendProfile(request, reply, opts.profiles, opts.openChallenge, { open: true });
  });

  app.get<{ Params: { token: string } }>('/enroll/:token', async (request, reply) => {
    if (opts.scep === null) return refuse(reply, 503, new EnrollmentUnavailableError().message);
    const found = await opts.invites.forToken(request.params.token);
    if (found === undefined) return refuse(reply, 404, 'this enrollment link is not valid: unknown, expired, used up or revoked; ask your administrator for a new one');
    return sendProfile(request, reply, opts.profiles, found.challenge, { invite: found.invite.id });
  });

  const scep = async (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply: FastifyReply) => {
    if (opts.scep === null) return refuse(reply, 503, new EnrollmentUnavailableError().message);
    const operation = request.query.operation;
    const message = request.method === 'POST' ? (request.body as Buffer | undefined) : request.query.message;
    const { response, summary } = await opts.scep.handle({ operation, ...(message !== undefined && { message }) });
    request.log[response.status === 200 && !summary.outcome.startsWith('failed') ? 'info' : 'warn']({ ...summary, status: response.status }, 'scep request');
    return reply.code(response.status).type(response.contentType).send(response.body);
  };
  app.get('/scep', scep);
  app.post('/scep', scep);

  // The body limit above, and anything unexpected: plain text too, and a 500 (never a 401) for a
  // failure inside, which devices retry.
  app.setErrorHandler(async (err: Error & { statusCode?: number }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500 && status !== 401) return refuse(reply, status, err.message);
    request.log.error({ err }, 'enrollment request failed');
    return refuse(reply, 500, 'internal server error');
  });
}

async function sendProfile(
  request: FastifyRequest,
  reply: FastifyReply,
  profiles: EnrollmentProfiles,
  challenge: string,
  origin: { open: true } | { invite: string },
): Promise<FastifyReply> {
  let profile: Buffer;
  try {
    profile = await profiles.build(challenge);
  } catch (err) {
    if (err instanceof NoPushCertificateError) return refuse(reply, 409, err.message);
    throw err;
  }
  request.log.info({ ...origin, signed: profiles.signed }, 'enrollment profile served');
  return reply
    .type(PROFILE_CONTENT_TYPE)
    .header('content-disposition', 'attachment; filename="enroll.mobileconfig"')
    .header('cache-control', 'no-store')
    .send(profile);
}

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).type(TEXT).send(`${message}\n`);
}
