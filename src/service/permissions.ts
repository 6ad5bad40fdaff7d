// What each role may do: one table from permission to the least role that holds it. Roles are
// ordered (viewer < operator < admin), each holding everything of the ones below it. The admin
// API's routes name their permission in one table too (http/admin/route-permissions.ts).
import type { Role } from '../storage/accounts.ts';

export const PERMISSIONS = {
  /** Every read of the admin API (webhook secrets and tokens are never shown by a read). */
  read: 'viewer',
  /** Create, list and revoke one's own API tokens. */
  'tokens.own': 'viewer',
  'commands.queue': 'operator',
  'commands.cancel': 'operator',
  push: 'operator',
  'declarations.manage': 'operator',
  'invites.manage': 'operator',
  /** RequestTypes in DESTRUCTIVE_REQUEST_TYPES. */
  'commands.destructive': 'admin',
  /** Forget an enrollment, its bound certificates; revoke an issued identity. */
  'enrollments.remove': 'admin',
  'pushcert.manage': 'admin',
  'webhooks.manage': 'admin',
  /** Accounts, everyone's tokens. */
  'accounts.manage': 'admin',
  'audit.read': 'admin',
} as const satisfies Record<string, Role>;

export type Permission = keyof typeof PERMISSIONS;

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleHolds(role: Role, permission: Permission): boolean {
  return RANK[role] >= RANK[PERMISSIONS[permission]];
}

/**
 * Commands that wipe, lock, take away data or access, or reveal a secret that unlocks the device:
 * queued by admins only. The rest (queries, installs, settings) are an operator's.
 */
export const DESTRUCTIVE_REQUEST_TYPES: ReadonlySet<string> = new Set([
  'EraseDevice',
  'DeviceLock',
  'ClearPasscode',
  'ClearRestrictionsPassword',
  'RestartDevice',
  'ShutDownDevice',
  'EnableLostMode',
  'DisableLostMode',
  'SetFirmwarePassword',
  'SetRecoveryLock',
  'RotateFileVaultKey',
  'UnlockUserAccount',
  'DeleteUser',
  'LOMDeviceRequest',
  'SetAutoAdminPassword',
  'ActivationLockBypassCode',
  'ClearActivationLockBypassCode',
  'RemoveProfile',
  'RemoveApplication',
]);

/** The permission queueing a command of this RequestType takes; an unknown one (a body that could
 *  not be read) is treated as destructive, so a parsing difference can never let one through. */
export function queuePermission(requestType: string | undefined): Permission {
  return requestType !== undefined && !DESTRUCTIVE_REQUEST_TYPES.has(requestType) ? 'commands.queue' : 'commands.destructive';
}
