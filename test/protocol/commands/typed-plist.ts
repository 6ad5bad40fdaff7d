// Test helper: reads an XML plist into a tree that keeps each element's kind, so a comparison can
// tell <real>1.0</real> from <integer>1</integer> (the `plist` package cannot). Only for the
// well-formed plists of our fixtures and our own writer; not a general XML parser.

export type TypedNode =
  | { kind: 'dict'; entries: { [key: string]: TypedNode } }
  | { kind: 'array'; items: TypedNode[] }
  | { kind: 'string' | 'date' | 'data'; text: string }
  | { kind: 'integer' | 'real'; number: number }
  | { kind: 'boolean'; value: boolean };

const TOKEN =
  /\s*(?:<(key|string|integer|real|date|data)>([\s\S]*?)<\/\1>|<(key|string|dict|array|true|false)\/>|<(dict|array)>|<\/(dict|array)>)/y;

export function readTypedPlist(xml: string): TypedNode {
  const body = /<plist[^>]*>([\s\S]*)<\/plist>/.exec(xml.replace(/<!--[\s\S]*?-->/g, ''))?.[1];
  if (body === undefined) throw new Error('no <plist> element');
  const tokens = tokenize(body);
  const node = readNode(tokens);
  if (tokens.length > 0) throw new Error('trailing content after the root value');
  return node;
}

type Token = { tag: string; text?: string; close?: boolean };

function tokenize(body: string): Token[] {
  const tokens: Token[] = [];
  const end = body.trimEnd().length;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < end) {
    const m = TOKEN.exec(body);
    if (!m) throw new Error(`unexpected plist content at ${TOKEN.lastIndex}: ${body.slice(TOKEN.lastIndex, TOKEN.lastIndex + 40)}`);
    if (m[1]) tokens.push({ tag: m[1], text: m[2] });
    else if (m[3]) tokens.push({ tag: m[3], text: '' }, ...(m[3] === 'dict' || m[3] === 'array' ? [{ tag: m[3], close: true }] : []));
    else if (m[4]) tokens.push({ tag: m[4] });
    else tokens.push({ tag: m[5]!, close: true });
  }
  return tokens;
}

function readNode(tokens: Token[]): TypedNode {
  const token = tokens.shift();
  if (!token || token.close) throw new Error('expected a value');
  switch (token.tag) {
    case 'dict': {
      const entries: { [key: string]: TypedNode } = {};
      while (!tokens[0]?.close) {
        const key = tokens.shift();
        if (key?.tag !== 'key') throw new Error('expected <key>');
        entries[decodeEntities(key.text ?? '')] = readNode(tokens);
      }
      tokens.shift();
      return { kind: 'dict', entries };
    }
    case 'array': {
      const items: TypedNode[] = [];
      while (!tokens[0]?.close) items.push(readNode(tokens));
      tokens.shift();
      return { kind: 'array', items };
    }
    case 'true':
    case 'false':
      return { kind: 'boolean', value: token.tag === 'true' };
    case 'integer':
    case 'real':
      return { kind: token.tag, number: Number(token.text) };
    case 'data':
      return { kind: 'data', text: (token.text ?? '').replace(/\s+/g, '') };
    case 'date':
      return { kind: 'date', text: new Date((token.text ?? '').trim()).toISOString() };
    default:
      return { kind: 'string', text: decodeEntities(token.text ?? '') };
  }
}

function decodeEntities(text: string): string {
  const named: { [name: string]: string } = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number(name.slice(1)));
    return named[name] ?? whole;
  });
}
