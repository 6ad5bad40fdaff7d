// What is known about a device's status after all its reports: reports are incremental, so the
// latest report alone is not the device's state.
//
// - A report without `management.declarations` leaves the last declaration status in place (the
//   device sends that item only when it changes).
// - List items (account.list.*, mdm.app, security.certificate.list, ...) arrive as changes: entries
//   keyed by `identifier`, with `"_removed": true` for the ones that are gone.
// - A FullReport carries every subscribed item, so it replaces the values rather than adding to them.
import { isJsonObject } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import type { ClientCapabilities, DeclarationStatus, StatusReport } from './status-report.ts';

export interface ReportedValue {
  value: JsonValue;
  /** When the report that last changed this item arrived (ISO 8601). */
  reportedAt: string;
}

export interface StatusSnapshot {
  /** The last declaration status the device reported, and when. */
  declarations?: { statuses: DeclarationStatus[]; reportedAt: string };
  clientCapabilities?: ClientCapabilities;
  /** Status item values by item path (`device.operating-system.version`). */
  values: Record<string, ReportedValue>;
  /** When the last report arrived. */
  updatedAt: string;
}

/** The snapshot after `report`, received at `receivedAt`; `previous` is not modified. */
export function mergeStatusReport(previous: StatusSnapshot | undefined, report: StatusReport, receivedAt: Date): StatusSnapshot {
  const at = receivedAt.toISOString();
  const values: Record<string, ReportedValue> = report.fullReport || !previous ? {} : { ...previous.values };
  for (const { item, value } of report.values) {
    const before = values[item]?.value;
    const merged = !report.fullReport && isKeyedList(value) && isKeyedList(before) ? mergeList(before, value) : withoutRemoved(value);
    // Item names come from the device: defined, not assigned, so `__proto__` is just a name.
    Object.defineProperty(values, item, { value: { value: merged, reportedAt: at }, enumerable: true, writable: true, configurable: true });
  }
  const snapshot: StatusSnapshot = { values, updatedAt: at };
  if (report.declarations) snapshot.declarations = { statuses: report.declarations, reportedAt: at };
  else if (previous?.declarations) snapshot.declarations = previous.declarations;
  const capabilities = report.clientCapabilities ?? previous?.clientCapabilities;
  if (capabilities) snapshot.clientCapabilities = capabilities;
  return snapshot;
}

type KeyedEntry = JsonObject & { identifier: string };

function isKeyedList(value: JsonValue | undefined): value is KeyedEntry[] {
  return Array.isArray(value) && value.every((entry) => isJsonObject(entry) && typeof entry.identifier === 'string');
}

function mergeList(before: KeyedEntry[], changes: KeyedEntry[]): KeyedEntry[] {
  const byIdentifier = new Map(before.map((entry) => [entry.identifier, entry]));
  for (const change of changes) {
    if (change._removed === true) byIdentifier.delete(change.identifier);
    // A changed entry is sent whole, so it replaces the old one (keys it no longer has are gone).
    else byIdentifier.set(change.identifier, change);
  }
  return [...byIdentifier.values()];
}

/** A list seen for the first time (or in a full report) may still mark entries removed. */
function withoutRemoved(value: JsonValue): JsonValue {
  return isKeyedList(value) ? value.filter((entry) => entry._removed !== true) : value;
}
