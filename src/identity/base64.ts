// Strict base64 for header values. Buffer.from(text, 'base64') silently skips characters outside
// the alphabet, so "decodes" almost anything; identity headers must be exactly what they claim.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes padded standard base64, or returns undefined if `text` is anything else. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  return text.length > 0 && BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}
