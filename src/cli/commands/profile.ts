// `aspen profile <file>`: writes an enrollment profile (.mobileconfig) to hand to a device (AirDrop,
// mail, Apple Configurator): a new invite's by default, an existing invite's (--invite), or the
// open enrollment profile (--open). It is fetched from the server as the device would fetch it.
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { segment } from '../api-client.ts';
import { expectPositionals, stringOption } from '../args.ts';
import type { CreatedInviteJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { CliError, UsageError } from '../errors.ts';
import { print, printJson } from '../output.ts';
import { createdInviteFacts, INVITE_OPTIONS, INVITE_USAGE, inviteRequest } from './invites.ts';

export const profile: CliCommand = {
  name: 'profile',
  usage: [`profile <file.mobileconfig> [--force] ${INVITE_USAGE}`, 'profile <file.mobileconfig> --invite TOKEN|URL [--force]', 'profile <file.mobileconfig> --open [--force]'],
  summary: "write an enrollment profile: a new invite's (default: one use, 7 days), an existing invite's, or the open one",
  options: { ...REMOTE_OPTIONS, ...INVITE_OPTIONS, invite: 'string', open: 'boolean', force: 'boolean' },
  async run(args) {
    const [file] = expectPositionals(args, ['<file.mobileconfig>']);
    const target = resolve(file);
    if (existsSync(target) && !args.values.force) throw new CliError(`${target} exists; pass --force to overwrite it`);
    const existing = stringOption(args, 'invite');
    const newInvite = Object.keys(INVITE_OPTIONS).some((name) => args.values[name] !== undefined);
    if ([existing !== undefined, args.values.open === true, newInvite].filter(Boolean).length > 1) {
      throw new UsageError('give one of --invite, --open, or options for a new invite');
    }
    const api = connect(args);
    let created: CreatedInviteJson | undefined;
    let token = existing === undefined ? undefined : existing.replace(/\/+$/, '').split('/').at(-1)!;
    if (existing === undefined && args.values.open !== true) {
      created = await api.post<CreatedInviteJson>('/v1/enrollment-invites', inviteRequest(args));
      token = created.token;
    }
    let bytes: Buffer;
    try {
      bytes = await api.download(token === undefined ? '/mdm/enroll' : `/enroll/${segment(token)}`);
    } catch (err) {
      // The new invite's link and challenge were never shown: left live, it would only be a
      // stray use nobody can hand out. Revoke it and report why the profile could not be made.
      if (created) await api.delete(`/v1/enrollment-invites/${segment(created.id)}`).catch(() => undefined);
      throw err;
    }
    writeFileSync(target, bytes);
    if (args.values.json) return printJson({ file: target, bytes: bytes.length, ...(created && { invite: created }) });
    print(`wrote ${target} (${bytes.length} bytes)${created ? `\n${createdInviteFacts(created)}` : ''}`);
  },
};
