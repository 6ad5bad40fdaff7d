// Query parameters several admin routes share, declared once: paging (limit, cursor) and on/off
// flags. A bad value fails the route's query schema like any other, so it gets the same 400
// naming `query.<name>`.
import { z } from 'zod';

export const limitParam = z.coerce.number().int().min(1).max(1000).default(100).describe('page size');

/** `1`/`true` turn a flag on; `0`/`false` (or leaving it out) leave it off. */
export const flagParam = z
  .enum(['0', '1', 'true', 'false'])
  .optional()
  .transform((v) => v === '1' || v === 'true');

/** Opaque pagination cursors: the position to continue after, base64url-encoded JSON. */
function encodeCursor(position: string | number): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodeCursor(value: string): unknown {
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A `cursor` query parameter, decoded to the position it holds (a string id or a number). */
export function cursorParam<T extends 'string' | 'number'>(type: T) {
  return z
    .string()
    .transform((value, ctx): T extends 'string' ? string : number => {
      const position = decodeCursor(value);
      if (typeof position === type) return position as T extends 'string' ? string : number;
      ctx.addIssue({ code: 'custom', message: 'not a cursor from this API' });
      return z.NEVER;
    })
    .optional()
    .describe("the previous page's next_cursor");
}

/** The cursor after a full page (null after a short one: it was the last), positioned at its last item. */
export function nextCursor<T>(page: readonly T[], limit: number, position: (last: T) => string | number): string | null {
  const last = page.at(-1);
  return page.length === limit && last !== undefined ? encodeCursor(position(last)) : null;
}
