// KMFDDM's admin API conventions and response shapes, so its scripts and mdmdirector-style tools
// work against Aspen unchanged. docs/ddm-kmfddm-compat.md is the route-by-route spec; this module is
// the part of it that needs no storage or HTTP.
import type { TokenedDeclaration } from './declaration.ts';
import { isJsonObject } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { DeclarationStatus, StatusReason, StatusReport } from './status-report.ts';
import type { ReportedValue } from './status-snapshot.ts';

/** A change (new, edited, associated, dissociated, deleted) answers 204; a request that changed nothing answers 304. */
export type KmfddmChangeStatus = 204 | 304;

export function kmfddmChangeStatus(changed: boolean): KmfddmChangeStatus {
  return changed ? 204 : 304;
}

/** Error bodies are `{"error": "..."}` on every route. */
export interface KmfddmError {
  error: string;
}

/** A refused declaration: KMFDDM's `error` string, plus every problem with its key path. */
export interface KmfddmInvalidDeclaration extends KmfddmError {
  errors: { path: string; message: string }[];
}

export function kmfddmInvalidDeclaration(errors: readonly { path: string; message: string }[]): KmfddmInvalidDeclaration {
  return { error: `invalid declaration: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, errors: [...errors] };
}

/** A query parameter as a router hands it over: absent, once, or repeated (the first counts, as in Go). */
export type QueryValue = string | readonly string[] | undefined;

function first(value: QueryValue): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

function all(value: QueryValue): string[] {
  if (value === undefined) return [];
  return (typeof value === 'string' ? [value] : [...value]).filter((v) => v !== '');
}

/** KMFDDM's truth test for flags: absent, "", "0", "false", "no" and "off" (any case) are false; anything else is true. */
export function kmfddmFlag(value: QueryValue): boolean {
  const text = first(value);
  return text !== undefined && !['', '0', 'false', 'no', 'off'].includes(text.toLowerCase());
}

/** Whether a change should notify (queue a DeclarativeManagement command for) affected enrollments: unless `nonotify` is set. */
export function kmfddmShouldNotify(nonotify: QueryValue): boolean {
  return !kmfddmFlag(nonotify);
}

/** The status routes take several enrollment ids in one path segment, comma-separated. */
export function kmfddmEnrollmentIds(pathParam: string): string[] {
  return pathParam.split(',').filter((id) => id !== '');
}

export interface KmfddmNotifyTargets {
  declarations: string[];
  sets: string[];
  ids: string[];
}

/** `POST /v1/notify?declaration=…&set=…&id=…` (each repeatable); at least one is required. */
export function kmfddmNotifyTargets(query: { declaration?: QueryValue; set?: QueryValue; id?: QueryValue }): { ok: true; targets: KmfddmNotifyTargets } | { ok: false; error: string } {
  const targets = { declarations: all(query.declaration), sets: all(query.set), ids: all(query.id) };
  if (targets.declarations.length + targets.sets.length + targets.ids.length === 0) {
    return { ok: false, error: 'no parameters provided (declaration, set or id)' };
  }
  return { ok: true, targets };
}

/** One entry of `GET /v1/declaration-status/{ids}`: the device's report plus whether it is of the current version. */
export interface KmfddmDeclarationStatus {
  identifier: string;
  active: boolean;
  valid: string;
  'server-token': string;
  /** The reported token is the one Aspen serves now: the device has the latest version and said so. */
  current: boolean;
  status_received: string;
  status_id?: string;
  reasons?: JsonObject[];
}

/**
 * Every declaration the device last reported (as KMFDDM's default storage does, including ones no
 * longer assigned, which are never current), with `current` against what is served now.
 */
export function kmfddmDeclarationStatus(
  reported: { statuses: readonly DeclarationStatus[]; reportedAt: string },
  served: readonly TokenedDeclaration[],
  statusId?: string,
): KmfddmDeclarationStatus[] {
  const tokens = new Map(served.map((d) => [d.identifier, d.serverToken]));
  return reported.statuses.map((status) => {
    const entry: KmfddmDeclarationStatus = {
      identifier: status.identifier,
      active: status.active,
      valid: status.valid,
      'server-token': status.serverToken,
      current: tokens.get(status.identifier) === status.serverToken,
      status_received: reported.reportedAt,
    };
    if (statusId !== undefined) entry.status_id = statusId;
    if (status.reasons.length > 0) entry.reasons = status.reasons.map(reasonJson);
    return entry;
  });
}

function reasonJson(reason: StatusReason): JsonObject {
  const json: JsonObject = { code: reason.code };
  if (reason.description !== undefined) json.description = reason.description;
  if (reason.details !== undefined) json.details = reason.details;
  return json;
}

/** One entry of `GET /v1/status-errors/{ids}`. */
export interface KmfddmStatusError {
  /** `.Errors` for the report's own errors, `.StatusItems.management.declarations.<list>` for a declaration. */
  path: string;
  error: JsonValue;
  timestamp: string;
  status_id?: string;
}

/**
 * The errors one report contributes to the status-errors history: each entry of its `Errors`, and
 * each declaration it reports as neither active nor valid (KMFDDM's definition of a declaration error).
 */
export function kmfddmStatusErrors(report: StatusReport, receivedAt: Date, statusId?: string): KmfddmStatusError[] {
  const stamp = (path: string, error: JsonValue): KmfddmStatusError =>
    statusId === undefined ? { path, error, timestamp: receivedAt.toISOString() } : { path, error, timestamp: receivedAt.toISOString(), status_id: statusId };
  const declarationErrors = (report.declarations ?? [])
    .filter((status) => !status.active && status.valid !== 'valid')
    .map((status) => {
      const error: JsonObject = { identifier: status.identifier, active: status.active, valid: status.valid, 'server-token': status.serverToken };
      if (status.reasons.length > 0) error.reasons = status.reasons.map(reasonJson);
      return stamp(`.StatusItems.management.declarations.${status.kind}`, error);
    });
  return [...declarationErrors, ...report.errors.map((entry) => stamp('.Errors', entry.raw))];
}

/** One entry of `GET /v1/status-values/{ids}`. */
export interface KmfddmStatusValue {
  /** `.StatusItems.` plus the key path, e.g. `.StatusItems.device.identifier.serial-number`. */
  path: string;
  /** Strings as they are, numbers and booleans as their JSON text. */
  value: string;
  timestamp: string;
  status_id?: string;
}

/**
 * Status values flattened the way KMFDDM stores them: one entry per leaf, dictionary keys joined
 * with dots, array elements under their array's path. Aspen lists every item (KMFDDM keeps only
 * `device.*` and `management.*`): a superset that prefix queries narrow the same way.
 */
export function kmfddmStatusValues(values: Readonly<Record<string, ReportedValue>>, statusId?: string): KmfddmStatusValue[] {
  return Object.entries(values).flatMap(([item, { value, reportedAt }]) =>
    leaves(value, `.StatusItems.${item}`).map(({ path, text }) =>
      statusId === undefined ? { path, value: text, timestamp: reportedAt } : { path, value: text, timestamp: reportedAt, status_id: statusId },
    ),
  );
}

function leaves(value: JsonValue, path: string): { path: string; text: string }[] {
  if (Array.isArray(value)) return value.flatMap((item) => leaves(item, path));
  if (isJsonObject(value)) return Object.entries(value).flatMap(([key, item]) => leaves(item, `${path}.${key}`));
  if (value === null) return [];
  return [{ path, text: typeof value === 'string' ? value : JSON.stringify(value) }];
}

/**
 * The `prefix` filter of status-values: KMFDDM hands it to SQL `LIKE`, so `%` matches any run of
 * characters, `_` any one character, `\` escapes either, and letters match regardless of case
 * (MySQL's default collation). Without a wildcard it must match the whole path. No prefix: all.
 */
export function kmfddmPathMatcher(pattern: string | undefined): (path: string) => boolean {
  if (pattern === undefined || pattern === '') return () => true;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i] as string);
    else if (c === '%') source += '[\\s\\S]*';
    else if (c === '_') source += '[\\s\\S]';
    else source += escapeRegExp(c);
  }
  const regex = new RegExp(`^${source}$`, 'iu');
  return (path) => regex.test(path);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

export type KmfddmStatusReportQuery = { ok: true; index: number; statusId?: string } | { ok: false; error: string };

/** `GET /v1/status-report/{id}?index=N&status_id=…`: index 0 (the default) is the newest report, 1 the one before. */
export function kmfddmStatusReportQuery(query: { index?: QueryValue; status_id?: QueryValue }): KmfddmStatusReportQuery {
  const index = first(query.index);
  const statusId = first(query.status_id);
  if (index !== undefined && !/^\+?\d{1,9}$/.test(index)) return { ok: false, error: `index: expected a non-negative integer, got ${JSON.stringify(index)}` };
  const parsed: KmfddmStatusReportQuery = { ok: true, index: index === undefined ? 0 : Number(index) };
  if (statusId) parsed.statusId = statusId;
  return parsed;
}

/** The headers status-report answers with, besides `Content-Type: application/json`. */
export function kmfddmStatusReportHeaders(report: { receivedAt: Date; index: number; statusId?: string }): Record<string, string> {
  const headers: Record<string, string> = { 'Last-Modified': report.receivedAt.toUTCString(), 'X-Status-Report-Index': String(report.index) };
  if (report.statusId) headers['X-Status-Report-ID'] = report.statusId;
  return headers;
}
