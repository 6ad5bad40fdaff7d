// Admin routes for enrollments: list and inspect them, and see, cancel or clear their queues and
// command history.
import { z } from 'zod';
import type { CommandQueue } from '../../service/command-queue.ts';
import type { EnrollmentDirectory } from '../../service/enrollment-directory.ts';
import { PLATFORMS } from '../../protocol/commands/platform.ts';
import { CHANNELS, ENROLLMENT_TYPES } from '../../protocol/enrollment-id.ts';
import { ENROLLMENT_STATES } from '../../storage/storage.ts';
import { defineRoute, type ApiRoute } from './api-route.ts';
import { sendApiError } from './errors.ts';
import { cursorParam, limitParam, nextCursor } from './query-params.ts';
import {
  enrollmentDetail,
  enrollmentDetailSchema,
  enrollmentSummary,
  enrollmentSummarySchema,
  historyEntry,
  historySchema,
  queueJson,
  queueSchema,
} from './views.ts';

export interface EnrollmentRoutesDeps {
  directory: EnrollmentDirectory;
  commands: CommandQueue;
}

const isoTime = z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString());
const idParam = z.object({ id: z.string().min(1).describe('enrollment id (URL-encoded; user channels contain ":")') });

export function enrollmentRoutes({ directory, commands }: EnrollmentRoutesDeps): ApiRoute[] {
  const notFound = (id: string) => `no enrollment ${id}`;
  return [
    defineRoute({
      method: 'GET',
      path: '/v1/enrollments',
      tag: 'enrollments',
      summary: 'List enrollments',
      description: 'Ordered by id. Pass next_cursor back as cursor for the next page; it is null on the last page.',
      query: z.object({
        type: z.enum(ENROLLMENT_TYPES).optional(),
        channel: z.enum(CHANNELS).optional(),
        state: z.enum(ENROLLMENT_STATES).optional(),
        device_id: z.string().optional().describe('a device and its user channels'),
        serial_number: z.string().optional().describe("the device's serial number (its user channels come with it)"),
        platform: z.enum(PLATFORMS).optional().describe("the device's platform (a user channel has its device's)"),
        topic: z.string().optional().describe('the push topic the channel enrolled on'),
        last_seen_before: isoTime.optional(),
        last_seen_after: isoTime.optional(),
        cursor: cursorParam('string'),
        limit: limitParam,
      }),
      responses: {
        200: { description: 'a page of enrollments', schema: z.object({ enrollments: z.array(enrollmentSummarySchema), next_cursor: z.string().nullable() }) },
        400: { description: 'a bad filter or cursor' },
      },
      handler: async ({ query }) => {
        const page = await directory.list(
          {
            type: query.type,
            channel: query.channel,
            state: query.state,
            deviceId: query.device_id,
            serialNumber: query.serial_number,
            platform: query.platform,
            topic: query.topic,
            lastSeenBefore: query.last_seen_before,
            lastSeenAfter: query.last_seen_after,
          },
          { after: query.cursor, limit: query.limit },
        );
        return { enrollments: page.map(enrollmentSummary), next_cursor: nextCursor(page, query.limit, (last) => last.id) };
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/enrollments/{id}',
      tag: 'enrollments',
      summary: 'One enrollment: device facts, channels, push topic, state and timestamps',
      params: idParam,
      responses: { 200: { description: 'the enrollment', schema: enrollmentDetailSchema }, 404: { description: 'no such enrollment' } },
      handler: async ({ params }, reply) => {
        const detail = await directory.get(params.id);
        if (detail === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return enrollmentDetail(detail);
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/enrollments/{id}',
      tag: 'enrollments',
      summary: 'Forget an enrollment',
      description:
        'Deletes the enrollment and, for a device channel, its user channels, with their queues, command history and results, ' +
        'push state and the certificates bound to the device. Export what you need first (GET .../commands). A device that ' +
        'still holds its MDM profile is then unknown: its requests are refused until it enrolls again.',
      params: idParam,
      responses: {
        200: { description: 'forgotten', schema: z.object({ deleted: z.literal(true) }) },
        404: { description: 'no such enrollment' },
      },
      handler: async ({ params }, reply) => {
        if (!(await directory.forget(params.id))) return sendApiError(reply, 'not_found', notFound(params.id));
        return { deleted: true as const };
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/enrollments/{id}/identities',
      tag: 'enrollments',
      summary: "Forget the device's bound certificates",
      description:
        'Lets a device that lost its identity re-enroll: its next Authenticate binds the certificate it presents. ' +
        'Until then, the first trusted certificate to speak for this device takes it; use only right before re-enrolling.',
      params: idParam,
      responses: {
        200: { description: 'how many bindings were removed', schema: z.object({ unbound: z.number().int() }) },
        404: { description: 'no such device enrollment (user channels have no identity of their own)' },
      },
      handler: async ({ params }, reply) => {
        const unbound = await directory.unbindIdentities(params.id);
        if (unbound === undefined) return sendApiError(reply, 'not_found', `no device enrollment ${params.id}`);
        return { unbound };
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/enrollments/{id}/queue',
      tag: 'queues',
      summary: 'Pending commands in the order the device will get them',
      params: idParam,
      responses: { 200: { description: 'the queue', schema: queueSchema }, 404: { description: 'no such enrollment' } },
      handler: async ({ params }, reply) => {
        const queue = await commands.queue(params.id);
        if (queue === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return queueJson(params.id, queue);
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/enrollments/{id}/queue',
      tag: 'queues',
      summary: 'Clear the queue: cancel every pending command',
      params: idParam,
      responses: { 200: { description: 'how many were cancelled', schema: z.object({ cancelled: z.number().int() }) }, 404: { description: 'no such enrollment' } },
      handler: async ({ params }, reply) => {
        const cancelled = await commands.cancel(params.id, null);
        if (cancelled === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return { cancelled };
      },
    }),

    defineRoute({
      method: 'DELETE',
      path: '/v1/enrollments/{id}/queue/{uuid}',
      tag: 'queues',
      summary: 'Cancel one pending command',
      description: 'A device that already received the command may still run it; its result is stored all the same.',
      params: idParam.extend({ uuid: z.string().min(1) }),
      responses: {
        200: { description: 'cancelled', schema: z.object({ cancelled: z.number().int() }) },
        404: { description: 'no such enrollment, or the command is not pending for it' },
      },
      handler: async ({ params }, reply) => {
        const cancelled = await commands.cancel(params.id, params.uuid);
        if (cancelled === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        if (cancelled === 0) return sendApiError(reply, 'not_found', `command ${params.uuid} is not pending for ${params.id}`);
        return { cancelled };
      },
    }),

    defineRoute({
      method: 'GET',
      path: '/v1/enrollments/{id}/commands',
      tag: 'queues',
      summary: "An enrollment's command history, newest first, with results",
      params: idParam,
      query: z.object({ cursor: cursorParam('number'), limit: limitParam }),
      responses: { 200: { description: 'a page of history', schema: historySchema }, 400: { description: 'a bad cursor' }, 404: { description: 'no such enrollment' } },
      handler: async ({ params, query }, reply) => {
        const page = await commands.history(params.id, { before: query.cursor, limit: query.limit });
        if (page === undefined) return sendApiError(reply, 'not_found', notFound(params.id));
        return { commands: page.map(historyEntry), next_cursor: nextCursor(page, query.limit, (last) => last.seq) };
      },
    }),
  ];
}
