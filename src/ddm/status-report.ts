// Reads the status report a device sends to the `status` endpoint (the check-in's `Data`: JSON).
//
// Lenient by design: a device on a newer OS sends items and keys this schema does not know, and a
// broken report must not become an exception (a 500 makes the device retry the same report
// forever). Whatever has an unexpected shape is listed in `problems` with its key path, and the
// rest of the report is still read.
import { isJsonObject, parseJson } from './json.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { declarationRegistry } from './registry.ts';
import type { DeclarationRegistry } from './registry.ts';

export const STATUS_DECLARATION_KINDS = ['activations', 'configurations', 'assets', 'management'] as const;
export type StatusDeclarationKind = (typeof STATUS_DECLARATION_KINDS)[number];

export type Validity = 'valid' | 'invalid' | 'unknown';

export interface StatusReason {
  code: string;
  description?: string;
  details?: JsonObject;
}

/** One entry of `management.declarations`, as the device reported it. */
export interface DeclarationStatus {
  kind: StatusDeclarationKind;
  identifier: string;
  serverToken: string;
  active: boolean;
  valid: Validity;
  reasons: StatusReason[];
}

export interface ClientCapabilities {
  supportedVersions: string[];
  supportedFeatures: JsonObject;
  /** Declaration types the client supports, by manifest list. */
  declarationTypes: Record<StatusDeclarationKind, string[]>;
  statusItems: string[];
}

/** A status item's value, named by its item path (`device.identifier.serial-number`). */
export interface StatusItemValue {
  item: string;
  value: JsonValue;
}

/** An entry of the report's `Errors`: a status item the device could not report. */
export interface StatusReportError {
  statusItem?: string;
  reasons: StatusReason[];
  /** The entry as sent, for APIs that return it verbatim (KMFDDM's status-errors). */
  raw: JsonValue;
}

export interface StatusProblem {
  path: string;
  message: string;
}

export interface StatusReport {
  /** The device sent every subscribed item, not only the changed ones. */
  fullReport: boolean;
  /** Present only when the report carries `management.declarations` (devices send it when it changes). */
  declarations?: DeclarationStatus[];
  clientCapabilities?: ClientCapabilities;
  /** Every status item except management.declarations, which is `declarations`. */
  values: StatusItemValue[];
  errors: StatusReportError[];
  problems: StatusProblem[];
}

export type StatusReportParse = { ok: true; report: StatusReport } | { ok: false; reason: string };

const DECLARATIONS_ITEM = 'management.declarations';
const CAPABILITIES_ITEM = 'management.client-capabilities';
const VALIDITIES: readonly string[] = ['valid', 'invalid', 'unknown'];

/** Parses a status report from its JSON bytes or text; fails only when there is no JSON object at all. */
export function parseStatusReport(data: Uint8Array | string, registry: DeclarationRegistry = declarationRegistry): StatusReportParse {
  const parsed = parseJson(data);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  if (!isJsonObject(parsed.value)) return { ok: false, reason: 'status report is not a JSON object' };
  return { ok: true, report: readReport(parsed.value, registry) };
}

function readReport(root: JsonObject, registry: DeclarationRegistry): StatusReport {
  const problems: StatusProblem[] = [];
  const report: StatusReport = { fullReport: root.FullReport === true, values: [], errors: [], problems };
  if (root.FullReport !== undefined && typeof root.FullReport !== 'boolean') problems.push({ path: 'FullReport', message: 'expected a boolean' });

  const statusItems = root.StatusItems;
  if (isJsonObject(statusItems)) {
    const known = new Set(registry.statusItems().map((s) => s.name));
    for (const { item, value } of flattenItems(statusItems, known)) {
      if (item === DECLARATIONS_ITEM) report.declarations = readDeclarations(value, problems);
      else {
        if (item === CAPABILITIES_ITEM) {
          const capabilities = readCapabilities(value, problems);
          if (capabilities) report.clientCapabilities = capabilities;
        }
        report.values.push({ item, value });
      }
    }
  } else if (statusItems !== undefined) problems.push({ path: 'StatusItems', message: 'expected a dictionary' });
  else problems.push({ path: 'StatusItems', message: 'missing' });

  const errors = root.Errors;
  if (Array.isArray(errors)) report.errors = errors.map((entry, i) => readError(entry, `Errors[${i}]`, problems));
  else if (errors !== undefined) problems.push({ path: 'Errors', message: 'expected an array' });
  return report;
}

/**
 * Status items arrive nested by the dots of their names (`device.identifier.serial-number` is
 * `{"device":{"identifier":{"serial-number":…}}}`). A known item's value is taken whole, whatever
 * its type; below an unknown name, dictionaries are descended and anything else is a value of an
 * item this schema does not know yet, named by its path.
 */
function flattenItems(tree: JsonObject, known: ReadonlySet<string>, prefix = ''): StatusItemValue[] {
  return Object.entries(tree).flatMap(([key, value]) => {
    const item = prefix === '' ? key : `${prefix}.${key}`;
    if (!known.has(item) && isJsonObject(value) && Object.keys(value).length > 0) return flattenItems(value, known, item);
    return [{ item, value }];
  });
}

function readDeclarations(value: JsonValue, problems: StatusProblem[]): DeclarationStatus[] {
  const base = `StatusItems.${DECLARATIONS_ITEM}`;
  if (!isJsonObject(value)) {
    problems.push({ path: base, message: 'expected a dictionary' });
    return [];
  }
  return STATUS_DECLARATION_KINDS.flatMap((kind) => {
    const list = value[kind];
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      problems.push({ path: `${base}.${kind}`, message: 'expected an array' });
      return [];
    }
    return list.flatMap((entry, i) => readDeclarationStatus(entry, kind, `${base}.${kind}[${i}]`, problems));
  });
}

function readDeclarationStatus(entry: JsonValue, kind: StatusDeclarationKind, path: string, problems: StatusProblem[]): DeclarationStatus[] {
  if (!isJsonObject(entry)) {
    problems.push({ path, message: 'expected a dictionary' });
    return [];
  }
  const { identifier, active, valid } = entry;
  const token = entry['server-token'];
  if (typeof identifier !== 'string' || identifier === '') {
    problems.push({ path: `${path}.identifier`, message: 'expected a non-empty string; entry ignored' });
    return [];
  }
  if (typeof token !== 'string') problems.push({ path: `${path}.server-token`, message: 'expected a string' });
  if (typeof active !== 'boolean') problems.push({ path: `${path}.active`, message: 'expected a boolean' });
  const validity = typeof valid === 'string' && VALIDITIES.includes(valid) ? (valid as Validity) : 'unknown';
  if (validity !== valid) problems.push({ path: `${path}.valid`, message: `expected one of ${VALIDITIES.join(', ')}; read as unknown` });
  return [
    {
      kind,
      identifier,
      serverToken: typeof token === 'string' ? token : '',
      active: active === true,
      valid: validity,
      reasons: readReasons(entry.reasons, `${path}.reasons`, problems),
    },
  ];
}

function readReasons(value: JsonValue | undefined, path: string, problems: StatusProblem[]): StatusReason[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'expected an array' });
    return [];
  }
  return value.flatMap((entry, i): StatusReason[] => {
    const at = `${path}[${i}]`;
    // Declaration reasons use lower-case keys, the report's Errors use capitalised ones.
    const code = isJsonObject(entry) ? (entry.code ?? entry.Code) : undefined;
    if (!isJsonObject(entry) || typeof code !== 'string') {
      problems.push({ path: at, message: 'expected a reason with a string code' });
      return [];
    }
    const reason: StatusReason = { code };
    const description = entry.description ?? entry.Description;
    const details = entry.details ?? entry.Details;
    if (typeof description === 'string') reason.description = description;
    if (isJsonObject(details)) reason.details = details;
    return [reason];
  });
}

function readError(entry: JsonValue, path: string, problems: StatusProblem[]): StatusReportError {
  const error: StatusReportError = { reasons: [], raw: entry };
  if (!isJsonObject(entry)) {
    problems.push({ path, message: 'expected a dictionary' });
    return error;
  }
  if (typeof entry.StatusItem === 'string') error.statusItem = entry.StatusItem;
  else problems.push({ path: `${path}.StatusItem`, message: 'expected a string' });
  error.reasons = readReasons(entry.Reasons, `${path}.Reasons`, problems);
  return error;
}

function readCapabilities(value: JsonValue, problems: StatusProblem[]): ClientCapabilities | undefined {
  const base = `StatusItems.${CAPABILITIES_ITEM}`;
  if (!isJsonObject(value)) {
    problems.push({ path: base, message: 'expected a dictionary' });
    return undefined;
  }
  const payloads = isJsonObject(value['supported-payloads']) ? value['supported-payloads'] : {};
  const declarations = isJsonObject(payloads.declarations) ? payloads.declarations : {};
  const declarationTypes = Object.fromEntries(
    STATUS_DECLARATION_KINDS.map((kind) => [kind, strings(declarations[kind], `${base}.supported-payloads.declarations.${kind}`, problems)]),
  ) as Record<StatusDeclarationKind, string[]>;
  return {
    supportedVersions: strings(value['supported-versions'], `${base}.supported-versions`, problems),
    supportedFeatures: isJsonObject(value['supported-features']) ? value['supported-features'] : {},
    declarationTypes,
    statusItems: strings(payloads['status-items'], `${base}.supported-payloads.status-items`, problems),
  };
}

function strings(value: JsonValue | undefined, path: string, problems: StatusProblem[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push({ path, message: 'expected an array of strings' });
    return [];
  }
  const out = value.filter((v): v is string => typeof v === 'string');
  if (out.length !== value.length) problems.push({ path, message: 'non-string entries ignored' });
  return out;
}
