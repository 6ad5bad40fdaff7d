// `aspen identities list|release`: the certificates bound to a device, and letting it re-enroll
// with a new one (its profile was removed without a CheckOut, or it lost its identity).
import { segment } from '../api-client.ts';
import { expectPositionals } from '../args.ts';
import type { EnrollmentDetail, UnbindResponse } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { print, printJson } from '../output.ts';
import { shortTime, table } from '../table.ts';

export const identitiesList: CliCommand = {
  name: 'identities list',
  usage: ['identities list <id>'],
  summary: "the identity certificates bound to an enrollment's device (user channels speak with their device's)",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const { device_id, identities } = await connect(args).get<EnrollmentDetail>(`/v1/enrollments/${segment(id)}`);
    if (args.values.json) return printJson({ enrollment_id: id, device_id, identities });
    if (identities.length === 0) return print(`no certificate is bound to ${device_id}: the next trusted certificate it presents will be`);
    print(
      table(
        ['FINGERPRINT (SHA-256)', 'SUBJECT', 'NOT AFTER', 'BOUND'],
        identities.map((i) => [i.fingerprint, i.subject.replaceAll('\n', ', '), shortTime(i.not_after), shortTime(i.bound_at)]),
      ),
    );
  },
};

export const identitiesRelease: CliCommand = {
  name: 'identities release',
  usage: ['identities release <id>'],
  summary: "forget the device's bound certificates, so that its next Authenticate binds the one it presents",
  options: REMOTE_OPTIONS,
  async run(args) {
    const [id] = expectPositionals(args, ['<id>']);
    const res = await connect(args).delete<UnbindResponse>(`/v1/enrollments/${segment(id)}/identities`);
    if (args.values.json) return printJson(res);
    print(`released ${res.unbound} certificate${res.unbound === 1 ? '' : 's'} of ${id}: re-enroll the device now, its next trusted certificate is bound`);
  },
};
