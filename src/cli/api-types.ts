// The admin API's JSON shapes, taken from the server's own schemas so the CLI cannot drift from them.
import type { z } from 'zod';
import type { commandSchema, enrollmentDetailSchema, enrollmentSummarySchema, queueSchema } from '../http/admin/views.ts';

export type EnrollmentSummary = z.infer<typeof enrollmentSummarySchema>;
export type EnrollmentDetail = z.infer<typeof enrollmentDetailSchema>;
export type QueueJson = z.infer<typeof queueSchema>;
export type CommandJson = z.infer<typeof commandSchema>;
/** GET /v1/commands/{uuid}: a page of the command's targets. */
export type CommandPage = CommandJson & { next_cursor: string | null };

export interface EnrollmentPage {
  enrollments: EnrollmentSummary[];
  next_cursor: string | null;
}

export interface PushResult {
  status: 'pushed' | 'failed' | 'skipped';
  reason?: string;
  apns_id?: string;
}

export interface SubmitResponse {
  command_uuid: string;
  request_type: string;
  targets: Record<string, { status: 'queued' | 'unknown_enrollment' | 'not_allowed'; reason?: string; push?: PushResult }>;
  push_error?: string;
}

/** `/v1/push/{ids}`, NanoMDM's shape: push_result is the APNs id of a sent push. */
export interface PushResponse {
  status: Record<string, { push_result?: string; push_error?: string }>;
  push_error?: string;
}

export interface CancelResponse {
  cancelled: number;
}

/** GET and PUT /v1/pushcert. */
export interface PushCertificateJson {
  topic: string;
  not_after: string;
}

/** DELETE /v1/enrollments/{id}/identities. */
export interface UnbindResponse {
  unbound: number;
}
