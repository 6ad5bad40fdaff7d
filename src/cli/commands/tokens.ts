// `aspen tokens create|list|revoke`: per-account API tokens, in the server's database directly
// like `aspen users` (the API has the same: POST/GET/DELETE /v1/tokens). A token is printed once.
import { expectPositionals, stringOption } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { CliError, UsageError } from '../errors.ts';
import { withAccounts } from '../local-accounts.ts';
import { print, printJson } from '../output.ts';
import { orDash, shortTime, table } from '../table.ts';

const DAY_MS = 86_400_000;

export const tokensCreate: CliCommand = {
  name: 'tokens create',
  usage: ['tokens create <account> [--name LABEL] [--expires-days N] [--json]'],
  summary: "create an API token with the account's role (printed once: send it as Authorization: Bearer <token>)",
  options: { name: 'string', 'expires-days': 'string', json: 'boolean' },
  async run(args) {
    const [accountName] = expectPositionals(args, ['<account>']);
    const days = stringOption(args, 'expires-days');
    if (days !== undefined && !/^[1-9]\d{0,4}$/.test(days)) throw new UsageError('--expires-days: a whole number of days, 1 or more');
    await withAccounts(async ({ accounts, audit }) => {
      const account = await accounts.byName(accountName);
      const expiresAt = days === undefined ? null : new Date(Date.now() + Number(days) * DAY_MS);
      const { token, value } = await accounts.createToken(account, { name: stringOption(args, 'name') ?? null, expiresAt, createdBy: 'cli' });
      await audit('token.create', [{ kind: 'account', id: account.name }, { kind: 'token', id: token.id }]);
      if (args.values.json) return printJson({ ...token, token: value });
      print(value);
      process.stderr.write(`token ${token.id} for ${account.name} (${account.role}); it is not shown again\n`);
    });
  },
};

export const tokensList: CliCommand = {
  name: 'tokens list',
  usage: ['tokens list [<account>] [--json]'],
  summary: 'API tokens (never their values), newest first',
  options: { json: 'boolean' },
  async run(args) {
    if (args.positionals.length > 1) throw new UsageError(`unexpected argument ${args.positionals[1]}`);
    await withAccounts(async ({ accounts }) => {
      const accountId = args.positionals[0] === undefined ? undefined : (await accounts.byName(args.positionals[0])).id;
      const tokens = await accounts.listTokens(accountId);
      if (args.values.json) return printJson(tokens);
      if (tokens.length === 0) return print('no tokens');
      print(table(['ID', 'ACCOUNT', 'NAME', 'CREATED', 'EXPIRES', 'LAST USED'], tokens.map((t) => [t.id, t.accountName, orDash(t.name), shortTime(t.createdAt), shortTime(t.expiresAt), shortTime(t.lastUsedAt)])));
    });
  },
};

export const tokensRevoke: CliCommand = {
  name: 'tokens revoke',
  usage: ['tokens revoke <id>'],
  summary: 'revoke an API token: it stops working at once',
  options: {},
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    await withAccounts(async ({ accounts, audit }) => {
      const revoked = await accounts.revokeToken(id);
      if (revoked === undefined) throw new CliError(`no token ${id}`);
      await audit('token.revoke', [{ kind: 'token', id }]);
      print(`revoked token ${id} of ${revoked.accountName}`);
    });
  },
};

export const TOKEN_COMMANDS: readonly CliCommand[] = [tokensCreate, tokensList, tokensRevoke];
