// A schema-aware XML plist writer for outgoing commands.
//
// Why not encodePlist (the `plist` package)? A JS number does not say whether it is an integer or a
// real, so that package writes 1.0 as <integer>1</integer>. Devices decode typed plists, so a key the
// schema declares `real` must stay <real> even when its value is integral. This writer walks the
// value together with its spec and only consults the spec for that one decision; everything else
// follows the value's runtime type (Date → <date>, Uint8Array → <data>).
import type { PlistValue } from '../plist.ts';
import { childSpec, selectVariant } from './spec.ts';
import type { ValueSpec } from './spec.ts';

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

/** Serialises `value` as an XML plist document; `spec` (when known) marks which numbers are reals. */
export function writePlistXml(value: PlistValue, spec: ValueSpec | undefined): string {
  const lines: string[] = [];
  writeValue(lines, value, spec, '');
  return `${HEADER}${lines.join('\n')}\n</plist>\n`;
}

function writeValue(lines: string[], value: PlistValue, spec: ValueSpec | undefined, indent: string): void {
  if (typeof value === 'string') lines.push(`${indent}<string>${escapeText(value)}</string>`);
  else if (typeof value === 'boolean') lines.push(`${indent}<${value}/>`);
  else if (typeof value === 'number') lines.push(`${indent}${numberElement(value, spec?.kind === 'real')}`);
  else if (value instanceof Date) lines.push(`${indent}<date>${value.toISOString().replace(/\.\d{3}Z$/, 'Z')}</date>`);
  else if (value instanceof Uint8Array) lines.push(`${indent}<data>${Buffer.from(value).toString('base64')}</data>`);
  else if (Array.isArray(value)) {
    const itemSpec = spec?.kind === 'array' ? spec.items : undefined;
    writeContainer(lines, 'array', indent, value, (item) => writeValue(lines, item, itemSpec, `${indent}\t`));
  } else {
    const dictSpec = spec?.kind === 'variants' ? selectVariant(spec, value[spec.discriminator]) : spec;
    writeContainer(lines, 'dict', indent, Object.entries(value), ([key, item]) => {
      lines.push(`${indent}\t<key>${escapeText(key)}</key>`);
      writeValue(lines, item, dictSpec?.kind === 'dictionary' ? childSpec(dictSpec, key) : undefined, `${indent}\t`);
    });
  }
}

function writeContainer<T>(lines: string[], tag: string, indent: string, items: T[], writeItem: (item: T) => void): void {
  if (items.length === 0) {
    lines.push(`${indent}<${tag}/>`);
    return;
  }
  lines.push(`${indent}<${tag}>`);
  items.forEach(writeItem);
  lines.push(`${indent}</${tag}>`);
}

function numberElement(value: number, real: boolean): string {
  if (!real && Number.isSafeInteger(value)) return `<integer>${value}</integer>`;
  // "1.0" rather than "1" so the text alone also reads as a real.
  return `<real>${Number.isInteger(value) ? value.toFixed(1) : String(value)}</real>`;
}

// \r is escaped because XML parsers turn a literal CR (or CRLF) into LF.
function escapeText(text: string): string {
  return text.replace(/[&<>\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' })[c]!);
}
