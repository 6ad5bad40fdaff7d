// Validates a declaration `{Type, Identifier, Payload, ServerToken?}` against Apple's schema for its
// type, with the command validator's walker: every problem is collected with its key path
// (`Payload.IncomingServer.AuthenticationMethod`), so an admin fixes a declaration in one round trip.
import { jsonForm } from '../protocol/commands/input-forms.ts';
import { Walker } from '../protocol/commands/value-walker.ts';
import type { ValueIssue } from '../protocol/commands/value-walker.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../protocol/json-depth.ts';
import { isJsonObject, parseJson } from './json.ts';
import type { JsonObject } from './json.ts';
import { declarationRegistry } from './registry.ts';
import type { DeclarationKind, DeclarationRegistry, DeclarationTypeDefinition } from './registry.ts';

export type DeclarationIssue = ValueIssue;

/** A declaration as the admin defines it; the ServerToken is derived from it (tokens.ts). */
export interface Declaration {
  type: string;
  identifier: string;
  payload: JsonObject;
}

/** A declaration with the ServerToken it is served under. */
export interface TokenedDeclaration extends Declaration {
  serverToken: string;
}

export type DeclarationValidation =
  | { ok: true; declaration: Declaration; definition: DeclarationTypeDefinition }
  | { ok: false; errors: DeclarationIssue[] };

/**
 * Identifiers Aspen generates (activations, status subscriptions) live under this prefix; admins
 * cannot define declarations there, so generated and assigned declarations never collide.
 */
export const GENERATED_IDENTIFIER_PREFIX = 'aspen.';

/** Leaves room for the generated-activation prefix within what storage and URLs comfortably carry. */
export const MAX_IDENTIFIER_LENGTH = 200;

const ENVELOPE_KEYS = ['Type', 'Identifier', 'Payload', 'ServerToken'];

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f]/;

/**
 * Why an identifier cannot be used, or undefined when it can. It appears in the device's
 * `declaration/<kind>/<Identifier>` path and in the admin API's URL paths, so `/` and whitespace
 * are refused; the generated prefix is reserved.
 */
export function identifierProblem(identifier: string): string | undefined {
  if (identifier === '') return 'expected a non-empty string';
  if (identifier.length > MAX_IDENTIFIER_LENGTH) return `expected at most ${MAX_IDENTIFIER_LENGTH} characters, got ${identifier.length}`;
  if (identifier.includes('/')) return 'must not contain "/" (it is part of the device\'s declaration path)';
  if (CONTROL_OR_SPACE.test(identifier)) return 'must not contain whitespace or control characters';
  if (identifier.startsWith(GENERATED_IDENTIFIER_PREFIX)) return `the prefix "${GENERATED_IDENTIFIER_PREFIX}" is reserved for declarations Aspen generates`;
  return undefined;
}

/** The manifest kind a type belongs to, from its `com.apple.<kind>.` prefix. */
export function declarationKind(type: string): DeclarationKind | undefined {
  const match = /^com\.apple\.(activation|asset|configuration|management)\./.exec(type);
  return match ? (match[1] as DeclarationKind) : undefined;
}

/**
 * Validates a declaration given as parsed JSON. A ServerToken in the input is accepted and ignored:
 * Aspen derives tokens from content (as KMFDDM does), so a client cannot pin a stale one.
 */
export function validateDeclaration(input: unknown, registry: DeclarationRegistry = declarationRegistry): DeclarationValidation {
  if (!isJsonObject(input)) return { ok: false, errors: [{ path: '$', message: 'expected a JSON object' }] };
  if (nestsDeeperThan(input)) return { ok: false, errors: [{ path: '$', message: `nested deeper than ${MAX_JSON_DEPTH} levels` }] };
  const errors: DeclarationIssue[] = [];
  for (const key of Object.keys(input)) {
    if (!ENVELOPE_KEYS.includes(key)) errors.push({ path: key, message: `unknown key (allowed: ${ENVELOPE_KEYS.join(', ')})` });
  }
  const { Type: type, Identifier: identifier, Payload: payload } = input;

  if (typeof identifier !== 'string') {
    errors.push({ path: 'Identifier', message: identifier === undefined ? 'missing required key (string)' : 'expected a string' });
  } else {
    const problem = identifierProblem(identifier);
    if (problem) errors.push({ path: 'Identifier', message: problem });
  }

  const definition = typeof type === 'string' ? registry.type(type) : undefined;
  if (typeof type !== 'string') {
    errors.push({ path: 'Type', message: type === undefined ? 'missing required key (string)' : 'expected a string' });
  } else if (!definition) {
    errors.push({ path: 'Type', message: unknownTypeMessage(type, registry) });
  }

  if (payload === undefined) errors.push({ path: 'Payload', message: 'missing required key (dictionary)' });
  else if (!isJsonObject(payload)) errors.push({ path: 'Payload', message: 'expected a dictionary' });
  else if (definition) {
    const walker = new Walker(jsonForm);
    walker.dictionary(payload, definition.payload, 'Payload');
    errors.push(...walker.errors);
  }

  if (errors.length > 0 || !definition || typeof identifier !== 'string' || !isJsonObject(payload)) return { ok: false, errors };
  return { ok: true, declaration: { type: definition.type, identifier, payload }, definition };
}

/** Validates a declaration sent as a JSON body (bytes or text); a body that is not JSON is an issue at `$`. */
export function parseDeclaration(body: Uint8Array | string, registry: DeclarationRegistry = declarationRegistry): DeclarationValidation {
  const parsed = parseJson(body);
  return parsed.ok ? validateDeclaration(parsed.value, registry) : { ok: false, errors: [{ path: '$', message: parsed.reason }] };
}

function unknownTypeMessage(type: string, registry: DeclarationRegistry): string {
  const known = registry.types().map((t) => t.type);
  const nearMiss = known.find((k) => k.toLowerCase() === type.toLowerCase() || k === `com.apple.${type}`);
  const hint = nearMiss ? `did you mean "${nearMiss}"?` : `${known.length} types are known`;
  return `unknown declaration type "${type}" (${hint})`;
}
