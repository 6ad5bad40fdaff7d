// A small argv parser. node:util's parseArgs cannot take `aspen send`'s open-ended `--Key value`
// pairs (it would read `--Queries SerialNumber` as a boolean plus a positional), so every command
// uses this one instead and gets the same rules: `--name value` or `--name=value`, `--` ends options.
import { UsageError } from './errors.ts';

export type OptionKind = 'string' | 'boolean';
export type OptionSpec = Readonly<Record<string, OptionKind>>;

export interface ParsedArgs {
  positionals: string[];
  /** Declared options: a string value, or true for a boolean that was given. */
  values: Record<string, string | true | undefined>;
  /** Undeclared `--Key value` pairs in order, only when the command accepts them. */
  extra: [string, string][];
}

export function parseArgs(argv: readonly string[], options: OptionSpec, acceptExtra = false): ParsedArgs {
  const parsed: ParsedArgs = { positionals: [], values: {}, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const kind = options[name];
    if (kind === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      parsed.values[name] = true;
      continue;
    }
    if (kind === undefined && !acceptExtra) throw new UsageError(`unknown option --${name}`);
    let value = inline;
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      i++;
    }
    if (kind === undefined) parsed.extra.push([name, value]);
    else if (parsed.values[name] !== undefined) throw new UsageError(`--${name} given twice`);
    else parsed.values[name] = value;
  }
  return parsed;
}

/** A declared string option's value (booleans never reach here: their kind says so). */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The command's fixed positionals, by the names its usage gives them (for the error message). */
export function expectPositionals<const Names extends readonly string[]>(args: ParsedArgs, names: Names): { [K in keyof Names]: string } {
  if (args.positionals.length !== names.length) {
    throw new UsageError(names.length === 0 ? `unexpected argument ${args.positionals[0]}` : `expected ${names.join(' ')}`);
  }
  return args.positionals as { [K in keyof Names]: string };
}
