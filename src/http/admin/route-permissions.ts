// Every admin API route's permission and, for changes, the action the audit log names it by and
// what its targets are. One table: a route missing here fails at startup (admin-routes.ts), so a
// new route cannot be served without deciding who may call it.
import { decodePlistDict, isDict, type PlistDict } from '../../protocol/plist.ts';
import { queuePermission, type Permission } from '../../service/permissions.ts';
import type { AuditTarget } from '../../storage/audit.ts';

export interface RouteAccess {
  /** Who may call it; a function when it depends on the body (a command's RequestType). */
  permission: Permission | ((body: unknown) => Permission);
  /** The audit log's name for the change; reads have none (they are not logged). */
  action?: string;
  /** The kind of target each path parameter names (`ids` parameters hold several, comma-separated). */
  params?: Record<string, string>;
  /** Targets the body names. */
  body?: (body: unknown) => AuditTarget[];
  /** The kind of what a 2xx answer's `id` names (what the change created). */
  created?: string;
  /** Facts the audit entry keeps about the body (never a secret). */
  details?: (body: unknown) => Record<string, unknown> | null;
}

const read: RouteAccess = { permission: 'read' };

/** The RequestType a command submission carries (JSON `command`, a `plist` string, or a raw plist body). */
export function requestTypeOf(body: unknown): string | undefined {
  try {
    let dict: PlistDict | undefined;
    if (Buffer.isBuffer(body)) dict = decodePlistDict(body);
    else if (isRecord(body) && isRecord(body.command)) dict = { Command: body.command as PlistDict };
    else if (isRecord(body) && typeof body.plist === 'string') dict = decodePlistDict(body.plist);
    const command = dict?.Command;
    return isDict(command) && typeof command.RequestType === 'string' ? command.RequestType : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const bodyTargets = (body: unknown): AuditTarget[] =>
  isRecord(body) && Array.isArray(body.targets) ? body.targets.filter((t): t is string => typeof t === 'string').map((id) => ({ kind: 'enrollment', id })) : [];

const queueCommand = (body: unknown) => queuePermission(requestTypeOf(body));
const commandDetails = (body: unknown) => ({ request_type: requestTypeOf(body) ?? null });

/** A JSON body, also when it came as bytes (routes that read their body themselves). */
function jsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

function declarationTarget(body: unknown): AuditTarget[] {
  const declaration = jsonBody(body);
  return isRecord(declaration) && typeof declaration.Identifier === 'string' ? [{ kind: 'declaration', id: declaration.Identifier }] : [];
}

export const ROUTE_ACCESS: Record<string, RouteAccess> = {
  'POST /v1/commands': { permission: queueCommand, action: 'command.queue', body: bodyTargets, details: commandDetails },
  'PUT /v1/enqueue/{ids}': { permission: queueCommand, action: 'command.queue', params: { ids: 'enrollment' }, details: commandDetails },
  'GET /v1/commands': read,
  'GET /v1/commands/{uuid}': read,
  'GET /v1/enrollments': read,
  'GET /v1/enrollments/{id}': read,
  'DELETE /v1/enrollments/{id}': { permission: 'enrollments.remove', action: 'enrollment.forget', params: { id: 'enrollment' } },
  'DELETE /v1/enrollments/{id}/identities': { permission: 'enrollments.remove', action: 'enrollment.release_identities', params: { id: 'enrollment' } },
  'GET /v1/enrollments/{id}/queue': read,
  'DELETE /v1/enrollments/{id}/queue': { permission: 'commands.cancel', action: 'queue.clear', params: { id: 'enrollment' } },
  'DELETE /v1/enrollments/{id}/queue/{uuid}': { permission: 'commands.cancel', action: 'command.cancel', params: { id: 'enrollment', uuid: 'command' } },
  'GET /v1/enrollments/{id}/commands': read,
  'GET /v1/pushcert': read,
  'PUT /v1/pushcert': { permission: 'pushcert.manage', action: 'pushcert.upload' },
  // NanoMDM's push is a GET, and it pushes: a change all the same.
  'GET /v1/push/{ids}': { permission: 'push', action: 'push', params: { ids: 'enrollment' } },
  'POST /v1/push/{ids}': { permission: 'push', action: 'push', params: { ids: 'enrollment' } },
  'POST /v1/webhooks': { permission: 'webhooks.manage', action: 'webhook.create', created: 'webhook' },
  'GET /v1/webhooks': read,
  'GET /v1/webhooks/{id}': read,
  'PATCH /v1/webhooks/{id}': { permission: 'webhooks.manage', action: 'webhook.change', params: { id: 'webhook' } },
  'DELETE /v1/webhooks/{id}': { permission: 'webhooks.manage', action: 'webhook.remove', params: { id: 'webhook' } },
  'GET /v1/webhooks/{id}/deliveries': read,
  'POST /v1/webhooks/{id}/replay': { permission: 'webhooks.manage', action: 'webhook.replay', params: { id: 'webhook' } },
  'POST /v1/webhooks/{id}/test': { permission: 'webhooks.manage', action: 'webhook.test', params: { id: 'webhook' } },
  'POST /v1/enrollment-invites': { permission: 'invites.manage', action: 'invite.create', created: 'invite' },
  'GET /v1/enrollment-invites': read,
  'DELETE /v1/enrollment-invites/{id}': { permission: 'invites.manage', action: 'invite.revoke', params: { id: 'invite' } },
  'GET /v1/identities': read,
  'POST /v1/identities/{serial}/revoke': { permission: 'enrollments.remove', action: 'identity.revoke', params: { serial: 'identity' } },
  'GET /v1/identity-renewals': read,
  'GET /v1/declarations': read,
  'PUT /v1/declarations': { permission: 'declarations.manage', action: 'declaration.store', body: declarationTarget },
  'GET /v1/declarations/{id}': read,
  'DELETE /v1/declarations/{id}': { permission: 'declarations.manage', action: 'declaration.delete', params: { id: 'declaration' } },
  'POST /v1/declarations/{id}/touch': { permission: 'declarations.manage', action: 'declaration.touch', params: { id: 'declaration' } },
  'GET /v1/sets': read,
  'GET /v1/set-declarations/{set}': read,
  'PUT /v1/set-declarations/{set}': { permission: 'declarations.manage', action: 'set.add_declaration', params: { set: 'set' } },
  'DELETE /v1/set-declarations/{set}': { permission: 'declarations.manage', action: 'set.remove_declaration', params: { set: 'set' } },
  'GET /v1/enrollment-sets/{id}': read,
  'PUT /v1/enrollment-sets/{id}': { permission: 'declarations.manage', action: 'enrollment.assign_set', params: { id: 'enrollment' } },
  'DELETE /v1/enrollment-sets/{id}': { permission: 'declarations.manage', action: 'enrollment.unassign_set', params: { id: 'enrollment' } },
  'DELETE /v1/enrollment-sets-all/{id}': { permission: 'declarations.manage', action: 'enrollment.unassign_sets', params: { id: 'enrollment' } },
  'DELETE /v1/enrollment-sets-all/sets/{id}': { permission: 'declarations.manage', action: 'enrollment.unassign_sets', params: { id: 'enrollment' } },
  'GET /v1/declaration-sets/{id}': read,
  'GET /v1/declaration-status/{ids}': read,
  'GET /v1/status-errors/{ids}': read,
  'GET /v1/status-values/{ids}': read,
  'GET /v1/status-report/{id}': read,
  'POST /v1/notify': { permission: 'push', action: 'ddm.notify' },
  'GET /v1/enrollments/{id}/declarations': read,
  'GET /v1/declarations/{id}/enrollments': read,
  'GET /v1/ddm/global-sets': read,
  'PUT /v1/ddm/global-sets/{set}': { permission: 'declarations.manage', action: 'set.assign_global', params: { set: 'set' } },
  'DELETE /v1/ddm/global-sets/{set}': { permission: 'declarations.manage', action: 'set.unassign_global', params: { set: 'set' } },
  'GET /v1/ddm/assets': read,
  'PUT /v1/ddm/assets/{name}': { permission: 'declarations.manage', action: 'asset.store', params: { name: 'asset' } },
  'DELETE /v1/ddm/assets/{name}': { permission: 'declarations.manage', action: 'asset.delete', params: { name: 'asset' } },
  'POST /v1/tokens': { permission: 'tokens.own', action: 'token.create', created: 'token' },
  'GET /v1/tokens': { permission: 'tokens.own' },
  'DELETE /v1/tokens/{id}': { permission: 'tokens.own', action: 'token.revoke', params: { id: 'token' } },
  'GET /v1/accounts': { permission: 'accounts.manage' },
  'POST /v1/accounts': { permission: 'accounts.manage', action: 'account.create', body: (b) => (isRecord(b) && typeof b.name === 'string' ? [{ kind: 'account', id: b.name.toLowerCase() }] : []) },
  'PATCH /v1/accounts/{name}': { permission: 'accounts.manage', action: 'account.change', params: { name: 'account' } },
  'DELETE /v1/accounts/{name}': { permission: 'accounts.manage', action: 'account.remove', params: { name: 'account' } },
  'GET /v1/audit': { permission: 'audit.read' },
};

/** The routes (as `METHOD /path`) the table has no entry for. */
export function unlisted(routes: { method: string; path: string }[]): string[] {
  return routes.map((r) => `${r.method} ${r.path}`).filter((key) => ROUTE_ACCESS[key] === undefined);
}
