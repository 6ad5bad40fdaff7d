// Which enrollment (and which channel of it) a device message speaks for. Pure.
//
// Every queue, push credential and result hangs off the id computed here, so there is exactly one
// function for it. The rules (docs/protocol.md §3, §6, §7):
// - device channel: the UDID, or the EnrollmentID of a user enrollment (which has no UDID);
// - user channel: `<device id>:<UserID>`; a user-enrolled Mac sends `EnrollmentUserID` instead;
//   Shared iPad users all share the all-F UserID, so they are told apart by UserShortName.

export const CHANNELS = ['device', 'user'] as const;
export type Channel = (typeof CHANNELS)[number];

export const ENROLLMENT_TYPES = [
  'device', // device channel of a device enrollment (has a UDID)
  'user-enrollment-device', // device channel of a user enrollment (BYOD; EnrollmentID only)
  'user', // user channel of a device-enrolled Mac
  'user-enrollment-user', // user channel of a user-enrolled Mac (EnrollmentUserID)
  'shared-ipad-user', // a signed-in Shared iPad user
] as const;
export type EnrollmentType = (typeof ENROLLMENT_TYPES)[number];

export interface ResolvedEnrollment {
  /** The id of this channel's enrollment: its queue, push token and results hang off it. */
  id: string;
  /** The id of the device channel this message belongs to (equal to `id` on the device channel). */
  deviceId: string;
  channel: Channel;
  type: EnrollmentType;
}

/** The identifying keys a check-in or report may carry. */
export interface IdentifyingKeys {
  UDID?: unknown;
  EnrollmentID?: unknown;
  UserID?: unknown;
  UserShortName?: unknown;
  UserLongName?: unknown;
  EnrollmentUserID?: unknown;
}

export const SHARED_IPAD_USER_ID = 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF';

export class EnrollmentIdError extends Error {
  override readonly name = 'EnrollmentIdError';
}

export function resolveEnrollment(msg: IdentifyingKeys): ResolvedEnrollment {
  const udid = nonEmpty(msg.UDID, 'UDID');
  const enrollmentId = nonEmpty(msg.EnrollmentID, 'EnrollmentID');
  const deviceId = udid ?? enrollmentId;
  if (deviceId === undefined) throw new EnrollmentIdError('message has neither UDID nor EnrollmentID');
  const userEnrollment = udid === undefined;

  const enrollmentUserId = nonEmpty(msg.EnrollmentUserID, 'EnrollmentUserID');
  const userId = nonEmpty(msg.UserID, 'UserID');
  const shortName = nonEmpty(msg.UserShortName, 'UserShortName');
  const longName = nonEmpty(msg.UserLongName, 'UserLongName');

  if (enrollmentUserId !== undefined) {
    return { id: `${deviceId}:${enrollmentUserId}`, deviceId, channel: 'user', type: 'user-enrollment-user' };
  }
  if (userId !== undefined && userId.toUpperCase() === SHARED_IPAD_USER_ID) {
    if (shortName === undefined) {
      throw new EnrollmentIdError('Shared iPad user message (all-F UserID) without UserShortName');
    }
    return { id: `${deviceId}:${shortName}`, deviceId, channel: 'user', type: 'shared-ipad-user' };
  }
  if (userId !== undefined) {
    const type = userEnrollment ? 'user-enrollment-user' : 'user';
    return { id: `${deviceId}:${userId}`, deviceId, channel: 'user', type };
  }
  if (shortName !== undefined || longName !== undefined) {
    // A user-channel message must say which user; a name alone cannot key a channel reliably.
    throw new EnrollmentIdError('user-channel message without UserID or EnrollmentUserID');
  }
  return {
    id: deviceId,
    deviceId,
    channel: 'device',
    type: userEnrollment ? 'user-enrollment-device' : 'device',
  };
}

function nonEmpty(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new EnrollmentIdError(`${key} must be a string`);
  if (value === '') return undefined;
  // A user channel id is `<device id>:<user part>`, split at the first ':'; a device id with one
  // would make that ambiguous.
  if ((key === 'UDID' || key === 'EnrollmentID') && value.includes(':')) {
    throw new EnrollmentIdError(`${key} must not contain ':'`);
  }
  return value;
}
