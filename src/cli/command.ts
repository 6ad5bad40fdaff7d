// What every `aspen` subcommand declares, so main.ts can dispatch, parse and print help uniformly.
import type { OptionSpec, ParsedArgs } from './args.ts';

export interface CliCommand {
  /** One or two words, e.g. "enrollments" or "config check". */
  name: string;
  /** Usage lines without the leading "aspen ". */
  usage: string[];
  summary: string;
  options: OptionSpec;
  /** Undeclared `--Key value` pairs are the command's own input (aspen send). */
  acceptExtra?: boolean;
  run(args: ParsedArgs): Promise<void>;
}

/** Options of every command that talks to the server. */
export const REMOTE_OPTIONS = { url: 'string', 'api-key': 'string', cacert: 'string', json: 'boolean' } as const satisfies OptionSpec;
