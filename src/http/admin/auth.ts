// Admin authentication: `Authorization: Bearer <API_KEY>`, or HTTP Basic with any user name and the
// key as password (so NanoMDM tooling such as `curl -u nanomdm:KEY` works unchanged).
import { createHash, timingSafeEqual } from 'node:crypto';

/** The key presented in an Authorization header, or undefined when there is none. */
export function presentedKey(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  if (value === undefined) return undefined;
  if (scheme!.toLowerCase() === 'bearer') return value;
  if (scheme!.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? undefined : decoded.slice(colon + 1);
  }
  return undefined;
}

/** Constant-time comparison: both sides are hashed first so their lengths cannot leak either. */
export function keyMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
