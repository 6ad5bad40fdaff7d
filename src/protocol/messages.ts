// Schemas of the device messages the server acts on: check-ins (keyed by MessageType) and command
// reports (keyed by Status). Pure. Keys the server does not use are kept (loose objects): devices
// add keys across OS releases and the raw message is stored anyway.
import { z } from 'zod';

const data = z.instanceof(Uint8Array);
const str = z.string();

const identifying = {
  UDID: str.optional(),
  EnrollmentID: str.optional(),
  UserID: str.optional(),
  UserShortName: str.optional(),
  UserLongName: str.optional(),
  EnrollmentUserID: str.optional(),
};

export const authenticateSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('Authenticate'),
  Topic: str.optional(),
  SerialNumber: str.optional(),
  OSVersion: str.optional(),
});

export const tokenUpdateSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('TokenUpdate'),
  Topic: str,
  Token: data.refine((t) => t.length > 0, 'Token must not be empty'),
  PushMagic: str.min(1),
  UnlockToken: data.optional(),
  AwaitingConfiguration: z.boolean().optional(),
});

export const checkOutSchema = z.looseObject({ ...identifying, MessageType: z.literal('CheckOut') });

export const userAuthenticateSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('UserAuthenticate'),
  DigestResponse: str.optional(),
});

export const setBootstrapTokenSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('SetBootstrapToken'),
  BootstrapToken: data.optional(),
});

export const getBootstrapTokenSchema = z.looseObject({ ...identifying, MessageType: z.literal('GetBootstrapToken') });

export const getTokenSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('GetToken'),
  TokenServiceType: str,
});

export const declarativeManagementSchema = z.looseObject({
  ...identifying,
  MessageType: z.literal('DeclarativeManagement'),
  Endpoint: str,
  Data: data.optional(),
});

export const returnToServiceSchema = z.looseObject({ ...identifying, MessageType: z.literal('ReturnToService') });

export const REPORT_STATUSES = ['Idle', 'Acknowledged', 'Error', 'CommandFormatError', 'NotNow'] as const;

export const reportSchema = z
  .looseObject({
    ...identifying,
    Status: z.enum(REPORT_STATUSES),
    CommandUUID: str.min(1).optional(),
    ErrorChain: z.unknown().optional(),
  })
  .refine((r) => r.Status === 'Idle' || r.CommandUUID !== undefined, {
    message: 'CommandUUID is required unless Status is Idle',
    path: ['CommandUUID'],
  });

export type Report = z.infer<typeof reportSchema>;

/** One line naming what was wrong, for the 4xx reply and the log. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}
