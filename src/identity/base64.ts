// Strict base64 for header values. Buffer.from(text, 'base64') silently skips characters outside
// the alphabet, so "decodes" almost anything; identity headers must be exactly what they claim.

/**
 * Decodes padded standard base64, or returns undefined if `text` is anything else. The decoded
 * bytes must encode back to exactly `text`: that refuses every character outside the alphabet,
 * misplaced padding and non-zero padding bits, natively (a regular expression over a 2 KiB
 * header cost twice as much, and it is on every device request's path).
 */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (text.length === 0 || text.length % 4 !== 0) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}
