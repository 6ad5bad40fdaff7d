// Reads attribute values from a certificate's subject as structured data. Matching on the text
// form of a distinguished name is unsafe: an escaped ", CN=..." inside another attribute's value
// looks like a CN to a regular expression.
import { pkijs } from '../on-first-use.ts';

const COMMON_NAME = '2.5.4.3';

/** Every CN in the subject, in order. */
export function subjectCommonNames(certDer: Uint8Array): string[] {
  const cert = pkijs.Certificate.fromBER(certDer);
  return cert.subject.typesAndValues.filter((tv) => tv.type === COMMON_NAME).map((tv) => String(tv.value.valueBlock.value));
}
