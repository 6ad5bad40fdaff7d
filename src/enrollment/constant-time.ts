// Comparing a presented secret (a SCEP challenge, an invite token) with the expected one.
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * True when `presented` equals `expected`, in a time that depends on neither where they differ
 * nor how long the expected secret is: both are hashed first, so the comparison is always of 32
 * bytes. (timingSafeEqual alone refuses inputs of unequal length, which would leak the length.)
 */
export function timingSafeStringEqual(presented: string, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}
