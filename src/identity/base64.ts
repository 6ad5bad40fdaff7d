// Strict base64 for header values. Buffer.from(text, 'base64') silently skips characters outside
// the alphabet, so "decodes" almost anything; identity headers must be exactly what they claim.

// With the length a multiple of four, this is exactly padded base64, and runs about twice as fast
// as spelling out the four-character groups (it is on every device request's path).
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Decodes padded standard base64, or returns undefined if `text` is anything else. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  return text.length > 0 && text.length % 4 === 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}
