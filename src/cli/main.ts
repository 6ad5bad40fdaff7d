// `aspen`: the command-line tool. Finds the subcommand, parses its options, runs it, and turns
// errors into one line on stderr and an exit code (0 ok, 1 failed, 2 bad command line).
import { existsSync } from 'node:fs';
import { parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';
import { backup } from './commands/backup.ts';
import { configCheck } from './commands/config-check.ts';
import { enrollments, show } from './commands/enrollments.ts';
import { push } from './commands/push.ts';
import { queue } from './commands/queue.ts';
import { result, send } from './commands/send.ts';
import { DEFAULT_URL } from './connection.ts';
import { CliError, UsageError } from './errors.ts';
import { print, warn } from './output.ts';

const COMMANDS: readonly CliCommand[] = [enrollments, show, send, result, queue, push, configCheck, backup];

function usage(): string {
  return [
    'usage: aspen <command> [options]',
    '',
    ...COMMANDS.flatMap((c) => [...c.usage.map((u) => `  ${u}`), `      ${c.summary}`]),
    '  help [command]',
    '',
    'Server commands take --json (print the API JSON), --url URL and --api-key KEY.',
    `The server is ASPEN_URL (default ${DEFAULT_URL}); the key is API_KEY, or else $DATA_DIR/api-key`,
    '(DATA_DIR defaults to ./data). A .env file in the current directory is read first, as the server does.',
  ].join('\n');
}

function commandUsage(c: CliCommand): string {
  return [...c.usage.map((u) => `usage: aspen ${u}`), '', c.summary].join('\n');
}

/** The command whose name words start argv, e.g. ["config", "check", ...]. */
function findCommand(argv: readonly string[]): CliCommand | undefined {
  return COMMANDS.find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

async function main(argv: readonly string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') {
    const topic = first === 'help' ? findCommand(argv.slice(1)) : undefined;
    print(topic ? commandUsage(topic) : usage());
    return 0;
  }
  const command = findCommand(argv);
  if (command === undefined) {
    warn(`aspen: unknown command ${argv.join(' ')}\n\n${usage()}`);
    return 2;
  }
  const rest = argv.slice(command.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    print(commandUsage(command));
    return 0;
  }
  // As the server does: the environment wins over .env, which fills in the rest; and files it
  // writes (backups hold keys and tokens) are for the user alone.
  if (existsSync('.env')) process.loadEnvFile('.env');
  process.umask(0o077);
  try {
    await command.run(parseArgs(rest, command.options, command.acceptExtra));
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    warn(`aspen: ${err.message}`);
    if (err instanceof UsageError) warn(commandUsage(command));
    return err.exitCode;
  }
}

// `aspen enrollments | head`: the reader leaving is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
