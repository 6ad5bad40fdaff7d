// `aspen`: the command-line tool. Finds the subcommand, parses its options, runs it, and turns
// errors into one line on stderr and an exit code (0 ok, 1 failed, 2 bad command line).
import { existsSync } from 'node:fs';
import { parseArgs } from './args.ts';
import type { CliCommand } from './command.ts';
import { audit } from './commands/audit.ts';
import { backup, restore } from './commands/backup.ts';
import { commands } from './commands/commands.ts';
import { webhooksAdd, webhooksDeliveries, webhooksEnable, webhooksList, webhooksRemove, webhooksReplay, webhooksTest } from './commands/webhooks.ts';
import { configCheck } from './commands/config-check.ts';
import { DDM_COMMANDS } from './commands/ddm.ts';
import { enrollments, forget, show } from './commands/enrollments.ts';
import { identitiesList, identitiesRelease, identitiesRenewals, identitiesRevoke } from './commands/identities.ts';
import { inviteCreate, inviteList, inviteRevoke } from './commands/invites.ts';
import { profile } from './commands/profile.ts';
import { push } from './commands/push.ts';
import { pushcertShow, pushcertUpload } from './commands/pushcert.ts';
import { queue } from './commands/queue.ts';
import { result, send } from './commands/send.ts';
import { TOKEN_COMMANDS } from './commands/tokens.ts';
import { USER_COMMANDS } from './commands/users.ts';
import { commandDefinition } from './command-input.ts';
import { CliError, UsageError } from './errors.ts';
import { print, warn } from './output.ts';
import { didYouMean } from '../protocol/suggest.ts';

const COMMANDS: readonly CliCommand[] = [
  enrollments,
  show,
  forget,
  send,
  result,
  commands,
  queue,
  push,
  identitiesList,
  identitiesRelease,
  identitiesRevoke,
  identitiesRenewals,
  inviteCreate,
  inviteList,
  inviteRevoke,
  profile,
  pushcertShow,
  pushcertUpload,
  webhooksList,
  webhooksAdd,
  webhooksEnable,
  webhooksRemove,
  webhooksTest,
  webhooksDeliveries,
  webhooksReplay,
  ...DDM_COMMANDS,
  ...USER_COMMANDS,
  ...TOKEN_COMMANDS,
  audit,
  configCheck,
  backup,
  restore,
];

function usage(): string {
  return [
    'usage: aspen <command> [options]',
    '',
    ...COMMANDS.flatMap((c) => [...c.usage.map((u) => `  ${u}`), `      ${c.summary}`]),
    '  help [command]',
    '      how to use a command',
    '  help <RequestType>',
    "      an MDM command's keys, types, allowed values and platforms (e.g. aspen help DeviceInformation)",
    '',
    'Server commands take --json (print the API JSON), --url URL, --api-key KEY and --cacert FILE.',
    'The server is ASPEN_URL (default: this machine on $PORT, 9000 unless set, https when TLS_CERT is set);',
    'the key is API_KEY, or else $DATA_DIR/api-key (DATA_DIR defaults to ./data); a private CA for its TLS',
    'certificate is ASPEN_CACERT. A .env file in the current directory is read first, as the server does',
    '(ASPEN_ENV_FILE names another, e.g. the service\'s /etc/aspen/aspen.env).',
  ].join('\n');
}

function commandUsage(c: CliCommand): string {
  return [...c.usage.map((u) => `usage: aspen ${u}`), '', c.summary].join('\n');
}

/** The command whose name words start argv, e.g. ["config", "check", ...]. */
function findCommand(argv: readonly string[]): CliCommand | undefined {
  return COMMANDS.find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
}

/** The commands named `<name> <subcommand>` (`users add`, `users list`, ...). */
function familyOf(name: string): CliCommand[] {
  return COMMANDS.filter((c) => c.name.split(' ')[0] === name && c.name.includes(' '));
}

function familyUsage(family: readonly CliCommand[]): string {
  return family.flatMap((c) => [...c.usage.map((u) => `aspen ${u}`), `    ${c.summary}`]).join('\n');
}

/** `aspen help`, `aspen help <command>`, `aspen help <RequestType>`. */
async function help(topic: readonly string[]): Promise<number> {
  if (topic.length === 0) {
    print(usage());
    return 0;
  }
  const command = findCommand(topic);
  if (command !== undefined) {
    print(commandUsage(command));
    return 0;
  }
  // A family of commands (`aspen help ddm`): each of them.
  const family = topic.length === 1 ? familyOf(topic[0]!) : [];
  if (family.length > 0) {
    print(familyUsage(family));
    return 0;
  }
  // Loaded on use, like the schema behind it.
  const { requestTypeHelp } = await import('./request-type-help.ts');
  try {
    print(requestTypeHelp(await commandDefinition(topic.join(' '))));
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    const hint = didYouMean(topic.join(' '), COMMANDS.map((c) => c.name), (n) => `aspen help ${n}`);
    warn(`aspen: help: no command or ${err.message.replace(/^unknown /, '')}${hint && ` (${hint.replace(/\?$/, '')}?)`}`);
    return 2;
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === 'help' || first === '--help' || first === '-h') return help(argv.slice(1));
  const command = findCommand(argv);
  if (command === undefined) {
    // `aspen users --help` is help on the family; `aspen users` alone lacks its subcommand.
    const family = familyOf(first);
    const rest = argv.slice(1);
    if (family.length > 0 && rest.every((a) => a === '--help' || a === '-h')) {
      if (rest.length > 0) {
        print(familyUsage(family));
        return 0;
      }
      warn(`aspen: ${first} needs a subcommand:\n\n${familyUsage(family)}`);
      return 2;
    }
    const hint = didYouMean(argv.slice(0, 2).join(' '), COMMANDS.map((c) => c.name), (n) => `aspen ${n}`) || didYouMean(first, COMMANDS.map((c) => c.name.split(' ')[0]!), (n) => `aspen ${n}`);
    warn(`aspen: unknown command ${argv.join(' ')}${hint && ` (${hint})`}\n\n${usage()}`);
    return 2;
  }
  const rest = argv.slice(command.name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    print(commandUsage(command));
    return 0;
  }
  // As the server does: the environment wins over .env (or the file ASPEN_ENV_FILE names), which
  // fills in the rest; and files it writes (backups hold keys and tokens) are for the user alone.
  const envFile = process.env.ASPEN_ENV_FILE || undefined;
  try {
    if (envFile !== undefined) process.loadEnvFile(envFile);
    else if (existsSync('.env')) process.loadEnvFile('.env');
  } catch (err) {
    warn(`aspen: cannot read the environment file ${envFile}: ${(err as Error).message}`);
    return 1;
  }
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
