// `aspen help <RequestType>`: what a command takes and where it runs, from the command schema,
// as plain text (the same description /docs renders as HTML).
import { describeCommand, VALUE_FORMS, type CommandDefinition, type KeyDescription } from '../protocol/commands/index.ts';
import { table } from './table.ts';

const WIDTH = 100;

export function requestTypeHelp(definition: CommandDefinition): string {
  const d = describeCommand(definition);
  const lines = [`${d.requestType}: ${d.title}${d.current ? '' : ' (removed from the current schema)'}`];
  if (d.notes.length > 0) lines.push('', ...d.notes.flatMap((note) => wrap(note, '')));
  lines.push('');
  lines.push(...indent(table(['PLATFORM', 'OS', 'RUNS'], d.platforms.map((p) => [p.platform, p.versions, p.conditions.join('; ')])).split('\n')));
  lines.push('', d.keys.length === 0 ? 'Keys: none' : 'Keys:');
  for (const key of d.keys) lines.push(...keyLines(key));
  if (d.keys.length > 0) lines.push('', `Values: ${VALUE_FORMS}.`);
  lines.push('', `Send it: aspen send <id...> ${d.requestType}${example(d.keys)}`);
  return lines.join('\n');
}

const LABEL_WIDTH = 34;

function keyLines(key: KeyDescription): string[] {
  const label = `  ${'  '.repeat(key.depth)}${key.label}`;
  const head = [label.padEnd(LABEL_WIDTH), key.type, key.required ? '  required' : ''].join(' ').trimEnd();
  const details = [
    key.allowed && `one of: ${key.allowed.join(', ')}`,
    key.default !== undefined && `default: ${JSON.stringify(key.default)}`,
    key.availability && `on: ${key.availability}`,
  ].filter((x): x is string => typeof x === 'string');
  return [head, ...details.flatMap((detail) => wrap(detail, ' '.repeat(LABEL_WIDTH + 1)))];
}

function wrap(text: string, prefix: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && prefix.length + line.length + 1 + word.length > WIDTH) {
      lines.push(prefix + line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(prefix + line);
  return lines;
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/** The required top-level keys as flags, each with the form its type takes on the command line. */
function example(keys: KeyDescription[]): string {
  return keys
    .filter((k) => k.depth === 0 && k.required)
    .map((k) => ` --${k.label} ${placeholder(k.type)}`)
    .join('');
}

function placeholder(type: string): string {
  if (type === 'data') return '@file';
  if (type.startsWith('dictionary') || type.startsWith('array of dictionary')) return '@file.plist';
  if (type.startsWith('array')) return 'a,b,...';
  return `<${type}>`;
}
