// A reader for XML property lists: one linear pass with an explicit stack, no DOM and no recursion.
// Pure: no I/O.
//
// Why our own and not the `plist` package's parser (which builds an @xmldom DOM and walks it
// recursively)? Measured on the development machine (2 cores, shared): a 4 MiB report with
// 100,000 keys took 1,280–2,400 ms to parse with `plist`, holding the event loop the whole time
// (plus 150–230 ms for the JSON view), and 3,000–5,000 nested dictionaries overflowed the stack in
// the recursive walks after it. This reader builds the same report in 95–150 ms, or checks it while
// building only its top level (what a report needs, see `onlyTopLevel`) in 35–55 ms (time the
// server spends off the event loop's thread: src/threads/plist-decoder.ts). An Idle check-in takes
// 2–5 µs instead of 30–90 µs. Having the reader also puts the other rules for device input in one place: the depth
// limit, what counts as a readable <date>, and what is done with a value that is not
// (`UnreadablePolicy`).
//
// What it accepts is XML 1.0 as property lists use it: an optional XML declaration, comments and
// processing instructions, a `<!DOCTYPE plist ...>` without an internal subset (so no entity can be
// declared), the five predefined entities and character references, CDATA sections in text, and
// the plist elements. Anything else is a PlistError, the sender's fault.
import type { PlistValue } from './plist.ts';

/** Thrown for input that is not an acceptable XML plist; always the sender's fault (a 4xx). */
export class PlistError extends Error {
  override readonly name = 'PlistError';
  constructor(
    /** What is wrong, without the key path. */
    readonly reason: string,
    /** Where in the document, e.g. `Command.Settings[2].Date`, when the problem is one value's. */
    readonly keyPath?: string,
  ) {
    super(keyPath === undefined ? reason : `${keyPath}: ${reason}`);
  }
}

/**
 * Dictionaries and arrays nested deeper than this are refused while parsing. Apple's messages and
 * commands need a few levels (a DeviceInformation result about five, a profile list eight); the
 * limit leaves ample room while keeping every recursive consumer of a decoded plist (JSON views,
 * schema validation) far from the stack's end.
 */
export const MAX_PLIST_DEPTH = 128;

/**
 * What to do with a `<date>`, `<integer>`, `<real>` or `<data>` whose text cannot be interpreted
 * (`<date>not-a-date</date>`, `<integer>twelve</integer>`, base64 with stray characters):
 * - `text`: keep the text as written, as a string. For what devices send and for what is stored:
 *   a device re-sends a result until it gets a 2xx, and a read must never fail on stored data.
 * - `refuse`: a PlistError naming the value's key path. For what admins send.
 */
export type UnreadablePolicy = 'text' | 'refuse';

export interface ReadOptions {
  unreadable?: UnreadablePolicy;
  /**
   * Build only the root dictionary's own values: its strings, numbers and so on, and the
   * dictionaries and arrays under the keys listed here. Every other dictionary or array is read
   * through with every rule checked (a document is refused exactly when a full read refuses it)
   * but is left out of the result. For a command report, whose raw bytes are what is stored: a
   * 100,000-entry result need not become 100,000 objects only to be thrown away.
   */
  onlyTopLevel?: { except: readonly string[] };
}

interface Frame {
  kind: 'dict' | 'array';
  /** Null for a container read through without being built (see `onlyTopLevel`). */
  value: { [key: string]: PlistValue } | PlistValue[] | null;
  /** A dictionary's key waiting for its value. */
  key: string | undefined;
  /** Values read so far (an array's next index). */
  count: number;
}

const OPEN_TAG = /<([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(\/?)>/y;
const CLOSE_TAG = /<\/([A-Za-z_:][-A-Za-z0-9_:.]*)\s*>/y;
const DOCTYPE = /<!DOCTYPE\s+plist\b[^>[]*>/y;
const REFERENCE = /&(?:#x([0-9A-Fa-f]{1,6});|#([0-9]{1,7});|(lt|gt|amp|quot|apos);|)/g;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Start tags as plist writers write them, matched without a regex (and its garbage) first. */
const PLAIN_TAGS = new Map<number, { text: string; name: string; selfClosing: boolean }[]>();
for (const name of ['key', 'string', 'dict', 'array', 'integer', 'real', 'date', 'data', 'true', 'false']) {
  const forms = PLAIN_TAGS.get(name.charCodeAt(0)) ?? [];
  forms.push({ text: `<${name}>`, name, selfClosing: false }, { text: `<${name}/>`, name, selfClosing: true });
  PLAIN_TAGS.set(name.charCodeAt(0), forms);
}

const DECIMAL_INTEGER = /^[+-]?[0-9]+$/;
const HEX_INTEGER = /^[+-]?0[xX][0-9A-Fa-f]+$/;
const REAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// Apple writes dates as UTC with whole seconds; fractions are tolerated.
const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?Z$/;

/** Reads one XML plist document, once. */
export class PlistReader {
  #pos = 0;
  readonly #stack: Frame[] = [];
  #root: PlistValue | undefined;
  #done = false;
  /** Where the next "&" is at or after #pos, once looked for (see #hasReference). */
  #nextAmpersand = -1;
  readonly #unreadable: UnreadablePolicy;
  readonly #builtUnderRoot: ReadonlySet<string> | undefined;

  constructor(
    private readonly text: string,
    options: ReadOptions = {},
  ) {
    this.#unreadable = options.unreadable ?? 'text';
    this.#builtUnderRoot = options.onlyTopLevel && new Set(options.onlyTopLevel.except);
    this.#prolog();
  }

  /** Reads the document to its end and returns its value. */
  read(): PlistValue {
    while (!this.#done) this.#next();
    return this.#root!;
  }

  /** Everything before the root `<plist>` element, and the element itself. */
  #prolog(): void {
    this.#misc();
    if (this.text.startsWith('<!DOCTYPE', this.#pos)) {
      DOCTYPE.lastIndex = this.#pos;
      if (!DOCTYPE.test(this.text)) throw new PlistError('plist declares entities or a DTD internal subset');
      this.#pos = DOCTYPE.lastIndex;
      this.#misc();
    }
    const tag = this.#openTag();
    if (tag?.name !== 'plist') throw new PlistError('body is not an XML plist');
    if (tag.selfClosing) throw new PlistError('empty plist');
  }

  /** One step: the next value, or the end of a dictionary, an array or the document. */
  #next(): void {
    this.#misc();
    const text = this.text;
    if (text.charCodeAt(this.#pos + 1) === 0x2f /* "/" */ && text.charCodeAt(this.#pos) === 0x3c /* "<" */) {
      this.#close();
      return;
    }
    const tag = this.#openTag();
    if (tag === undefined) {
      if (this.#pos >= text.length) throw new PlistError('malformed plist: unexpected end of document');
      throw new PlistError(`malformed plist: unexpected text at offset ${this.#pos}`);
    }
    const { name, selfClosing } = tag;
    const top = this.#stack.at(-1);
    if (name === 'key') {
      if (top?.kind !== 'dict' || top.key !== undefined) throw this.#error('unexpected <key>');
      const key = selfClosing ? '' : this.#content('key', top.value !== null || this.#mayBeProto());
      // Assigning it would replace the dictionary's prototype rather than add a key.
      if (key === '__proto__') throw this.#error('the key "__proto__" is not allowed');
      top.key = key;
      return;
    }
    if (top?.kind === 'dict' && top.key === undefined) throw this.#error(`expected <key>, found <${name}>`);
    if (top === undefined && this.#root !== undefined) throw new PlistError('malformed plist: more than one value in <plist>');
    const building = top === undefined || top.value !== null;
    switch (name) {
      case 'dict':
      case 'array': {
        if (this.#stack.length >= MAX_PLIST_DEPTH) throw this.#error(`nested deeper than ${MAX_PLIST_DEPTH} levels`);
        const built = building && this.#builds(top);
        const value = built ? (name === 'dict' ? {} : []) : null;
        if (!selfClosing) this.#stack.push({ kind: name, value, key: undefined, count: 0 });
        else this.#add(value);
        return;
      }
      case 'true':
      case 'false':
        if (!selfClosing && this.#content(name, true) !== '') throw this.#error(`<${name}> must be empty`);
        this.#add(name === 'true');
        return;
      case 'string':
        this.#add(selfClosing ? '' : this.#content('string', building));
        return;
      case 'integer':
      case 'real':
      case 'date':
      case 'data': {
        const raw = selfClosing ? '' : this.#content(name, building);
        if (!building) {
          this.#add(null);
          return;
        }
        const value = interpret(name, raw);
        if (value === undefined && this.#unreadable === 'refuse') throw this.#error(`<${name}> ${JSON.stringify(raw.trim().slice(0, 80))} cannot be read`);
        this.#add(value ?? raw);
        return;
      }
      default:
        throw this.#error(`unknown element <${name}>`);
    }
  }

  /** Whether a dictionary or array opened under `parent` (a built container, or the document) is built. */
  #builds(parent: Frame | undefined): boolean {
    if (this.#builtUnderRoot === undefined || parent === undefined) return true;
    // Directly under the root dictionary: only the listed keys; below those, everything.
    return this.#stack.length !== 1 || (parent.key !== undefined && this.#builtUnderRoot.has(parent.key));
  }

  #close(): void {
    const top = this.#stack.at(-1);
    const expected = top?.kind ?? 'plist';
    let end = this.#endTag(this.#pos, expected);
    let name = expected;
    if (end === -1) {
      CLOSE_TAG.lastIndex = this.#pos;
      const match = CLOSE_TAG.exec(this.text);
      if (match === null) throw new PlistError(`malformed plist: bad end tag at offset ${this.#pos}`);
      [end, name] = [CLOSE_TAG.lastIndex, match[1]!];
    }
    this.#pos = end;
    if (top === undefined) {
      if (name !== 'plist') throw new PlistError(`malformed plist: unexpected </${name}>`);
      if (this.#root === undefined) throw new PlistError('empty plist');
      this.#misc();
      if (this.#pos < this.text.length) throw new PlistError('malformed plist: content after </plist>');
      this.#done = true;
      return;
    }
    if (name !== top.kind) throw this.#error(`</${name}> closes <${top.kind}>`);
    if (top.kind === 'dict' && top.key !== undefined) throw this.#error(`<key>${top.key}</key> has no value`);
    this.#stack.pop();
    this.#add(top.value);
  }

  /** Adds a value to the container being read; null is a value read through, not built. */
  #add(value: PlistValue | null): void {
    const top = this.#stack.at(-1);
    if (top === undefined) {
      this.#root = value ?? undefined;
      return;
    }
    if (value !== null && top.value !== null) {
      if (Array.isArray(top.value)) top.value.push(value);
      else top.value[top.key!] = value;
    }
    top.key = undefined;
    top.count += 1;
  }

  /** A start tag at the current position (attributes are allowed and ignored), or undefined. */
  #openTag(): { name: string; selfClosing: boolean } | undefined {
    if (this.text.charCodeAt(this.#pos) === 0x3c /* "<" */) {
      for (const form of PLAIN_TAGS.get(this.text.charCodeAt(this.#pos + 1)) ?? []) {
        if (this.text.startsWith(form.text, this.#pos)) {
          this.#pos += form.text.length;
          return form;
        }
      }
    }
    OPEN_TAG.lastIndex = this.#pos;
    const match = OPEN_TAG.exec(this.text);
    if (match === null) return undefined;
    this.#pos = OPEN_TAG.lastIndex;
    return { name: match[1]!, selfClosing: match[2] === '/' };
  }

  /** The end tag `</name>` at `at`: where it ends, or -1 when another end tag (or none) is there. */
  #endTag(at: number, name: string): number {
    if (this.text.startsWith(name, at + 2) && this.text.charCodeAt(at + 2 + name.length) === 0x3e /* ">" */) return at + 3 + name.length;
    CLOSE_TAG.lastIndex = at;
    const match = CLOSE_TAG.exec(this.text);
    return match?.[1] === name ? CLOSE_TAG.lastIndex : -1;
  }

  /**
   * The text of an element up to its end tag: entities resolved, CDATA kept, comments dropped.
   * With `keep` false the text is only checked (references must be well-formed) and '' returned.
   */
  #content(name: string, keep: boolean): string {
    const text = this.text;
    let out = '';
    for (;;) {
      const lt = text.indexOf('<', this.#pos);
      if (lt === -1) throw this.#error(`<${name}> is not closed`);
      if (lt > this.#pos && (keep || this.#hasReference(lt))) out += decodeText(text.slice(this.#pos, lt), this.#pos);
      this.#pos = lt;
      if (text.startsWith('<![CDATA[', lt)) {
        const end = text.indexOf(']]>', lt + 9);
        if (end === -1) throw this.#error('unterminated CDATA section');
        if (keep) out += text.slice(lt + 9, end);
        this.#pos = end + 3;
      } else if (text.startsWith('<!--', lt)) {
        this.#comment();
      } else {
        const end = this.#endTag(lt, name);
        if (end === -1) throw this.#error(`<${name}> may hold only text`);
        this.#pos = end;
        return keep ? out : '';
      }
    }
  }

  /** Whether the key text starting here could decode to "__proto__" (which a full read refuses):
   *  the key of a container read through is only decoded then. It can if its raw text is that, or
   *  if it holds a reference, a CDATA section or a comment, which decoding changes. */
  #mayBeProto(): boolean {
    const lt = this.text.indexOf('<', this.#pos);
    if (lt === -1 || this.#hasReference(lt) || !this.text.startsWith('</', lt)) return true;
    return lt - this.#pos === 9 && this.text.startsWith('__proto__', this.#pos);
  }

  /** Whether the text from here up to `end` holds an "&" (a reference to check). The next "&" is
   *  looked for once and remembered until the reader passes it: one scan of the document in all,
   *  where a search per text would rescan each one. */
  #hasReference(end: number): boolean {
    if (this.#nextAmpersand < this.#pos) {
      const at = this.text.indexOf('&', this.#pos);
      this.#nextAmpersand = at === -1 ? Infinity : at;
    }
    return this.#nextAmpersand < end;
  }

  /** Whitespace, comments and processing instructions, which may appear between elements. */
  #misc(): void {
    const text = this.text;
    for (;;) {
      let pos = this.#pos;
      for (let c = text.charCodeAt(pos); c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d; c = text.charCodeAt(++pos));
      this.#pos = pos;
      if (text.startsWith('<!--', pos)) this.#comment();
      else if (text.startsWith('<?', pos)) {
        const end = text.indexOf('?>', pos + 2);
        if (end === -1) throw new PlistError('malformed plist: unterminated processing instruction');
        this.#pos = end + 2;
      } else return;
    }
  }

  #comment(): void {
    const end = this.text.indexOf('-->', this.#pos + 4);
    if (end === -1) throw new PlistError('malformed plist: unterminated comment');
    this.#pos = end + 3;
  }

  /** A PlistError naming where in the document the reader is, e.g. `Command.Settings[2]`. */
  #error(message: string): PlistError {
    let path = '';
    for (const frame of this.#stack) {
      if (frame.kind === 'array') path += `[${frame.count}]`;
      else if (frame.key !== undefined) path += path === '' ? frame.key : `.${frame.key}`;
    }
    return new PlistError(message, path === '' ? undefined : path);
  }
}

/** The value of a typed scalar's text, or undefined when the text cannot be read as that type. */
function interpret(type: 'integer' | 'real' | 'date' | 'data', raw: string): PlistValue | undefined {
  const text = raw.trim();
  switch (type) {
    case 'integer': {
      if (HEX_INTEGER.test(text)) {
        const value = Number.parseInt(text, 16);
        return Number.isSafeInteger(value) ? value : undefined;
      }
      if (!DECIMAL_INTEGER.test(text)) return undefined;
      const value = Number(text);
      // An integer a JS number cannot hold exactly (a 64-bit counter) is kept as its exact digits.
      return Number.isSafeInteger(value) ? value : text;
    }
    case 'real': {
      const value = REAL.test(text) ? Number(text) : NaN;
      // nan and inf are reals CoreFoundation can write, but JSON cannot carry them.
      return Number.isFinite(value) ? value : undefined;
    }
    case 'data': {
      const compact = text.replace(/[ \t\r\n]+/g, '');
      if (!BASE64.test(compact) || compact.length % 4 === 1) return undefined;
      return new Uint8Array(Buffer.from(compact, 'base64'));
    }
    case 'date':
      return readDate(text);
  }
}

/** A calendar-valid UTC instant in Apple's form, or undefined (`0000-00-00T00:00:00Z`, `2024-13-45T...`). */
function readDate(text: string): Date | undefined {
  const parts = DATE.exec(text);
  if (parts === null) return undefined;
  const [year, month, day, hour, minute, second] = parts.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return [31, 0, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Character data between tags: entity and character references resolved, line ends normalised. */
function decodeText(chunk: string, offset: number): string {
  const text = chunk.includes('\r') ? chunk.replace(/\r\n?/g, '\n') : chunk;
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (_match, hex: string | undefined, decimal: string | undefined, name: string | undefined) => {
    if (name !== undefined) return PREDEFINED[name]!;
    // Only the five predefined entities exist here (no DTD can declare others), and a bare "&" is
    // not well-formed XML.
    if (hex === undefined && decimal === undefined) throw new PlistError(`malformed plist: undefined entity or bare "&" near offset ${offset}`);
    const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(decimal);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) throw new PlistError(`malformed plist: bad character reference near offset ${offset}`);
    return String.fromCodePoint(code);
  });
}
