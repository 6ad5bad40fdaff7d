// The JSON documents a device fetches through the DeclarativeManagement check-in, and the parsing of
// that check-in's `Endpoint`.
import { declarationKind } from './declaration.ts';
import type { TokenedDeclaration } from './declaration.ts';
import type { JsonObject } from './json.ts';
import { DECLARATION_KINDS } from './registry.ts';
import type { DeclarationKind } from './registry.ts';
import { declarationsToken } from './tokens.ts';

export interface TokensResponse {
  SyncTokens: { DeclarationsToken: string; Timestamp: string };
}

export interface DeclarationItem {
  Identifier: string;
  ServerToken: string;
}

export interface DeclarationItemsResponse {
  Declarations: { Activations: DeclarationItem[]; Assets: DeclarationItem[]; Configurations: DeclarationItem[]; Management: DeclarationItem[] };
  DeclarationsToken: string;
}

/** What `declaration/<kind>/<Identifier>` serves. */
export interface DeclarationDocument {
  Type: string;
  Identifier: string;
  ServerToken: string;
  Payload: JsonObject;
}

/**
 * `Timestamp` is when the set last changed (storage knows); a stable value keeps the response
 * stable, as Apple asks. RFC 3339 in UTC, without fractions.
 */
export function tokensResponse(declarations: readonly TokenedDeclaration[], lastChanged: Date): TokensResponse {
  return {
    SyncTokens: { DeclarationsToken: declarationsToken(declarations), Timestamp: lastChanged.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
}

/** Items sorted by identifier, so the same set always gives the same bytes. */
export function declarationItemsResponse(declarations: readonly TokenedDeclaration[]): DeclarationItemsResponse {
  const lists: Record<DeclarationKind, DeclarationItem[]> = { activation: [], asset: [], configuration: [], management: [] };
  const sorted = [...declarations].sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
  for (const d of sorted) {
    const kind = declarationKind(d.type);
    // Only validated types get here, and each has a kind; an unknown one would be unfetchable anyway.
    if (kind) lists[kind].push({ Identifier: d.identifier, ServerToken: d.serverToken });
  }
  return {
    Declarations: { Activations: lists.activation, Assets: lists.asset, Configurations: lists.configuration, Management: lists.management },
    DeclarationsToken: declarationsToken(declarations),
  };
}

export function declarationDocument(declaration: TokenedDeclaration): DeclarationDocument {
  return { Type: declaration.type, Identifier: declaration.identifier, ServerToken: declaration.serverToken, Payload: declaration.payload };
}

/**
 * The declaration a device asks for with `declaration/<kind>/<identifier>`, if it is in its set
 * under that kind; undefined means 404, which tells the device to drop its copy.
 */
export function findDeclaration<T extends TokenedDeclaration>(declarations: readonly T[], kind: DeclarationKind, identifier: string): T | undefined {
  return declarations.find((d) => d.identifier === identifier && declarationKind(d.type) === kind);
}

export type DeclarativeEndpoint =
  | { endpoint: 'tokens' }
  | { endpoint: 'declaration-items' }
  | { endpoint: 'status' }
  | { endpoint: 'declaration'; kind: DeclarationKind; identifier: string }
  | { endpoint: 'invalid'; reason: string };

/** Parses the `Endpoint` of a DeclarativeManagement check-in; never throws. */
export function parseEndpoint(endpoint: string): DeclarativeEndpoint {
  if (endpoint === 'tokens' || endpoint === 'declaration-items' || endpoint === 'status') return { endpoint };
  const match = /^declaration\/([^/]*)\/(.*)$/s.exec(endpoint);
  if (!match) return { endpoint: 'invalid', reason: `unknown DeclarativeManagement Endpoint ${JSON.stringify(endpoint)}` };
  const [, kind = '', identifier = ''] = match;
  if (!(DECLARATION_KINDS as readonly string[]).includes(kind)) {
    return { endpoint: 'invalid', reason: `unknown declaration kind ${JSON.stringify(kind)} (expected ${DECLARATION_KINDS.join(', ')})` };
  }
  if (identifier === '') return { endpoint: 'invalid', reason: 'empty declaration identifier' };
  return { endpoint: 'declaration', kind: kind as DeclarationKind, identifier };
}
