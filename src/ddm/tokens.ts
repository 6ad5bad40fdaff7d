// Content-derived tokens. The device re-fetches a declaration exactly when its ServerToken differs
// from the one it holds, and re-syncs exactly when the DeclarationsToken differs; deriving both from
// content makes "changed" mean "the content changed", with no counter to keep in step.
import { createHash } from 'node:crypto';
import { canonicalJson } from './json.ts';
import type { Declaration } from './declaration.ts';

// 128 bits: far beyond any collision risk for change detection, and half the width in every
// DeclarationItemsResponse, status report and admin listing.
const TOKEN_HEX_LENGTH = 32;

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, TOKEN_HEX_LENGTH);
}

/**
 * The ServerToken of a declaration: a digest of its canonical JSON (Type, Identifier, Payload; key
 * order and formatting do not matter). `touches` counts admin "touch" requests (KMFDDM's
 * `POST /v1/declarations/{id}/touch`), which must change the token while the content stays the same;
 * zero leaves the token purely content-derived.
 */
export function serverToken(declaration: Declaration, touches = 0): string {
  const content = { Identifier: declaration.identifier, Payload: declaration.payload, Type: declaration.type };
  return digest(canonicalJson(touches === 0 ? content : { ...content, Touches: touches }));
}

/**
 * The DeclarationsToken of a device's set: a digest over each declaration's identifier and
 * ServerToken, sorted by identifier so the order storage returns them in does not matter.
 */
export function declarationsToken(declarations: readonly { identifier: string; serverToken: string }[]): string {
  const lines = declarations.map((d) => `${d.identifier}\u0000${d.serverToken}`).sort();
  return digest(lines.join('\n'));
}
