// The admin API's JSON shapes, taken from the server's own schemas so the CLI cannot drift from them.
import type { z } from 'zod';
import type { submitResponse } from '../http/admin/command-routes.ts';
import type { assetSchema, declarationEnrollmentsSchema, enrollmentDeclarationsSchema } from '../http/admin/declaration-routes.ts';
import type { declarationDocumentSchema, kmfddmDeclarationStatusSchema, kmfddmStatusErrorSchema, kmfddmStatusValueSchema } from '../http/admin/kmfddm-routes.ts';
import type { certificateSchema, pushStatusSchema } from '../http/admin/push-routes.ts';
import type { deliverySchema as webhookDeliverySchema, endpointSchema as webhookEndpointSchema } from '../http/admin/webhook-routes.ts';
import type { createdInviteSchema, inviteSchema, issuedIdentitySchema, renewalSchema } from '../http/admin/enrollment-views.ts';
import type { commandSchema, commandSummarySchema, enrollmentDetailSchema, enrollmentSummarySchema, queueSchema } from '../http/admin/views.ts';

export type EnrollmentSummary = z.infer<typeof enrollmentSummarySchema>;
export type EnrollmentDetail = z.infer<typeof enrollmentDetailSchema>;
export type QueueJson = z.infer<typeof queueSchema>;
export type CommandJson = z.infer<typeof commandSchema>;
/** GET /v1/commands/{uuid}: a page of the command's targets. */
export type CommandPage = CommandJson & { next_cursor: string | null };

/** An endpoint of GET /v1/webhooks. */
export type WebhookEndpointJson = z.infer<typeof webhookEndpointSchema>;

/** GET /v1/webhooks/{id}/deliveries. */
export interface WebhookDeliveries {
  deliveries: z.infer<typeof webhookDeliverySchema>[];
  next_cursor: string | null;
}

/** GET /v1/commands. */
export interface CommandList {
  commands: z.infer<typeof commandSummarySchema>[];
  next_cursor: string | null;
}

export interface EnrollmentPage {
  enrollments: EnrollmentSummary[];
  next_cursor: string | null;
}

/** POST /v1/commands. */
export type SubmitResponse = z.infer<typeof submitResponse>;

/** `/v1/push/{ids}`, NanoMDM's shape: push_result is the APNs id of a sent push. */
export type PushResponse = z.infer<typeof pushStatusSchema>;

export interface CancelResponse {
  cancelled: number;
}

/** GET and PUT /v1/pushcert. */
export type PushCertificateJson = z.infer<typeof certificateSchema>;

/** DELETE /v1/enrollments/{id}/identities. */
export interface UnbindResponse {
  unbound: number;
}

/** POST /v1/enrollment-invites: the invite, with its URL, token and challenge (shown only then). */
export type CreatedInviteJson = z.infer<typeof createdInviteSchema>;
export type InviteJson = z.infer<typeof inviteSchema>;
export interface InvitePage {
  invites: InviteJson[];
  next_cursor: string | null;
}

/** GET /v1/identities. */
export type IssuedIdentityJson = z.infer<typeof issuedIdentitySchema>;
export interface IssuedIdentityPage {
  identities: IssuedIdentityJson[];
  next_cursor: string | null;
}

/** GET /v1/identity-renewals. */
export interface RenewalReport {
  renewals: z.infer<typeof renewalSchema>[];
}

/** GET /v1/enrollments/{id}/declarations. */
export type EnrollmentDeclarations = z.infer<typeof enrollmentDeclarationsSchema>;

/** GET /v1/declarations/{id}/enrollments: one page. */
export type DeclarationEnrollments = z.infer<typeof declarationEnrollmentsSchema>;

/** GET /v1/declarations/{id} (KMFDDM): the declaration as a device gets it. */
export type DeclarationDocumentJson = z.infer<typeof declarationDocumentSchema>;

/** KMFDDM's status reads, keyed by enrollment id. */
export type DeclarationStatusJson = Record<string, z.infer<typeof kmfddmDeclarationStatusSchema>[]>;
export type StatusErrorsJson = Record<string, z.infer<typeof kmfddmStatusErrorSchema>[]>;
export type StatusValuesJson = Record<string, z.infer<typeof kmfddmStatusValueSchema>[]>;

/** A hosted data asset (GET /v1/ddm/assets lists them; PUT adds `changed`). */
export type AssetJson = z.infer<typeof assetSchema>;
