// Admin routes for push: the push certificate (NanoMDM-compatible upload) and pushing on demand.
import { z } from 'zod';
import { loadPushCertificate, PushCertificateError, splitPemPair } from '../../push/push-certificate.ts';
import type { EnrollmentPushResult } from '../../service/push-gateway.ts';
import { CertificateNotInForceError, NeedsForceError, type PushService } from '../../service/push-service.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { flagParam } from './query-params.ts';

export const certificateSchema = z.object({ topic: z.string(), not_after: z.string().describe('ISO 8601') });
export const pushStatusSchema = z.object({
  status: z.record(z.string(), z.object({ push_result: z.string().optional(), push_error: z.string().optional() })),
  push_error: z.string().optional(),
});

export function nanoPushStatus(results: Map<string, EnrollmentPushResult>): z.infer<typeof pushStatusSchema>['status'] {
  const status: z.infer<typeof pushStatusSchema>['status'] = {};
  for (const [id, r] of results) {
    status[id] = r.status === 'pushed' ? { push_result: r.apnsId ?? 'pushed' } : { push_error: r.reason ?? r.status };
  }
  return status;
}

export function pushRoutes(push: PushService): ApiRoute[] {
  const pushIds = async (idList: string) => {
    const ids = idList.split(',').filter((id) => id !== '');
    const results = await push.push(ids);
    return { status: nanoPushStatus(results), ...((await push.configured()) ? {} : { push_error: 'push is not configured' }) };
  };
  const idsParam = z.object({ ids: z.string().min(1).describe('comma-separated enrollment ids') });
  const pushResponses = { 200: { description: 'per-id push outcome (NanoMDM shape)', schema: pushStatusSchema } };

  return [
    defineRoute({
      method: 'GET',
      path: '/v1/pushcert',
      tag: 'push',
      summary: "The push certificate's topic and expiry",
      responses: { 200: { description: 'loaded', schema: certificateSchema }, 404: { description: 'no push certificate' } },
      handler: async (_input, reply) => {
        const current = await push.current();
        if (current === null) return sendApiError(reply, 'not_found', 'no push certificate is loaded');
        return { topic: current.topic, not_after: current.notAfter.toISOString() };
      },
    }),

    defineRoute({
      method: 'PUT',
      path: '/v1/pushcert',
      tag: 'push',
      summary: 'Upload the MDM push certificate (NanoMDM-compatible)',
      description:
        'The body is the PEM certificate followed by its unencrypted PEM private key. It is stored in the database and ' +
        'used at once. An expired or not yet valid certificate is refused. A certificate for another topic, or one that ' +
        'expires before the current one, is refused unless force=1: every enrolled device listens on the current topic.',
      query: z.object({ force: flagParam }),
      body: {
        raw: '-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----',
        contentType: 'application/x-pem-file',
      },
      responses: {
        200: { description: 'stored and in use', schema: certificateSchema },
        400: { description: 'not a certificate and key, no com.apple.mgmt UID, a key that does not match, or a certificate expired or not yet valid' },
        409: { description: 'the topic differs from the current one, or the certificate expires before it (use force=1)' },
      },
      handler: async ({ query, body }, reply) => {
        const pem = splitPemPair(Buffer.isBuffer(body) ? body.toString('utf8') : '');
        if (pem === undefined) return sendApiError(reply, 'bad_request', 'the body must hold a PEM certificate and its PEM private key');
        try {
          const certificate = loadPushCertificate(pem);
          await push.upload(certificate, query.force);
          return { topic: certificate.topic, not_after: certificate.notAfter.toISOString() };
        } catch (err) {
          if (err instanceof PushCertificateError || err instanceof CertificateNotInForceError) return sendApiError(reply, 'bad_request', err.message);
          if (err instanceof NeedsForceError) return sendApiError(reply, 'conflict', err.message);
          throw err;
        }
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/push/{ids}',
      tag: 'push',
      summary: 'Push enrollments now (NanoMDM-compatible)',
      params: idsParam,
      responses: pushResponses,
      handler: async ({ params }) => pushIds(params.ids),
    }),

    defineRoute({
      method: 'POST',
      path: '/v1/push/{ids}',
      tag: 'push',
      summary: 'Push enrollments now',
      params: idsParam,
      responses: pushResponses,
      handler: async ({ params }) => pushIds(params.ids),
    }),
  ];
}
