// `aspen users add|list|remove|passwd|role`: admin accounts, written to the server's database
// directly (run them on the server's machine; the first admin is made this way). Each change is
// in the audit log, by the operating system user who ran it.
import { expectPositionals, stringOption } from '../args.ts';
import type { CliCommand } from '../command.ts';
import { UsageError } from '../errors.ts';
import { readPassword, withAccounts } from '../local-accounts.ts';
import { print, printJson } from '../output.ts';
import { shortTime, table } from '../table.ts';
import { isRole } from '../../service/accounts.ts';
import type { Role } from '../../storage/accounts.ts';

function roleOption(value: string | undefined): Role {
  if (value === undefined) throw new UsageError('--role is required: viewer, operator or admin');
  if (!isRole(value)) throw new UsageError(`--role ${value}: expected viewer, operator or admin`);
  return value;
}

export const usersAdd: CliCommand = {
  name: 'users add',
  usage: ['users add <name> --role viewer|operator|admin [--password-stdin]'],
  summary: 'add an account with a role (the password is asked for, or read from stdin with --password-stdin)',
  options: { role: 'string', 'password-stdin': 'boolean' },
  async run(args) {
    const [name] = expectPositionals(args, ['<name>']);
    const role = roleOption(stringOption(args, 'role'));
    const password = await readPassword(args.values['password-stdin'] === true);
    await withAccounts(async ({ accounts, audit }) => {
      const account = await accounts.add(name, role, password);
      await audit('account.create', [{ kind: 'account', id: account.name }], { role });
      print(`added ${account.name} (${account.role})`);
    });
  },
};

export const usersList: CliCommand = {
  name: 'users list',
  usage: ['users list [--json]'],
  summary: 'the accounts and their roles',
  options: { json: 'boolean' },
  async run(args) {
    expectPositionals(args, []);
    await withAccounts(async ({ accounts }) => {
      const all = await accounts.list();
      if (args.values.json) return printJson(all);
      if (all.length === 0) return print('no accounts (add one: aspen users add <name> --role admin)');
      print(table(['NAME', 'ROLE', 'CREATED', 'PASSWORD CHANGED'], all.map((a) => [a.name, a.role, shortTime(a.createdAt), shortTime(a.passwordChangedAt)])));
    });
  },
};

export const usersRemove: CliCommand = {
  name: 'users remove',
  usage: ['users remove <name>'],
  summary: 'remove an account with its API tokens and console sessions',
  options: {},
  async run(args) {
    const [name] = expectPositionals(args, ['<name>']);
    await withAccounts(async ({ accounts, audit }) => {
      const removed = await accounts.remove(name);
      await audit('account.remove', [{ kind: 'account', id: removed.name }]);
      print(`removed ${removed.name}`);
    });
  },
};

export const usersPasswd: CliCommand = {
  name: 'users passwd',
  usage: ['users passwd <name> [--password-stdin]'],
  summary: "set an account's password (ends its console sessions; its API tokens stay)",
  options: { 'password-stdin': 'boolean' },
  async run(args) {
    const [name] = expectPositionals(args, ['<name>']);
    const password = await readPassword(args.values['password-stdin'] === true);
    await withAccounts(async ({ accounts, audit }) => {
      const changed = await accounts.change(name, { password });
      await audit('account.change', [{ kind: 'account', id: changed.name }], { password: true });
      print(`changed the password of ${changed.name}`);
    });
  },
};

export const usersRole: CliCommand = {
  name: 'users role',
  usage: ['users role <name> --role viewer|operator|admin'],
  summary: "change an account's role",
  options: { role: 'string' },
  async run(args) {
    const [name] = expectPositionals(args, ['<name>']);
    const role = roleOption(stringOption(args, 'role'));
    await withAccounts(async ({ accounts, audit }) => {
      const changed = await accounts.change(name, { role });
      await audit('account.change', [{ kind: 'account', id: changed.name }], { role });
      print(`${changed.name} is now ${changed.role}`);
    });
  },
};

export const USER_COMMANDS: readonly CliCommand[] = [usersAdd, usersList, usersRemove, usersPasswd, usersRole];
