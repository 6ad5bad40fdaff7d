// `aspen pushcert show|upload`: the MDM push certificate the server uses (topic, expiry), and
// replacing it. Upload checks the files here first with the server's own loader, so a wrong key
// or a certificate that is no MDM push certificate is named before anything is sent.
import { readFileSync } from 'node:fs';
import type { PushCertificate } from '../../push/push-certificate.ts';
import type { PushCertificateJson } from '../api-types.ts';
import { REMOTE_OPTIONS, type CliCommand } from '../command.ts';
import { connect } from '../connection.ts';
import { ApiError, CliError, UsageError } from '../errors.ts';
import { print, printJson } from '../output.ts';
import { keyValues, shortTime } from '../table.ts';

const DAY_MS = 86_400_000;

function certificateFacts(cert: PushCertificateJson, now = Date.now()): string {
  const left = Date.parse(cert.not_after) - now;
  const days = (n: number) => `${n} day${n === 1 ? '' : 's'}`;
  const when = left <= 0 ? `EXPIRED ${days(Math.floor(-left / DAY_MS))} ago` : `in ${days(Math.floor(left / DAY_MS))}`;
  return keyValues([
    ['topic', cert.topic],
    ['expires', `${shortTime(cert.not_after)} (${when})`],
  ]);
}

export const pushcertShow: CliCommand = {
  name: 'pushcert show',
  usage: ['pushcert show'],
  summary: "the push certificate's topic and expiry",
  options: REMOTE_OPTIONS,
  async run(args) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected argument ${args.positionals[0]}`);
    const cert = await connect(args).get<PushCertificateJson>('/v1/pushcert');
    if (args.values.json) return printJson(cert);
    print(certificateFacts(cert));
  },
};

export const pushcertUpload: CliCommand = {
  name: 'pushcert upload',
  usage: ['pushcert upload <cert.pem> [<key.pem>] [--force]', 'pushcert upload <push.p12> [--force]'],
  summary:
    'replace the push certificate: PEM certificate and key (one file or two; an encrypted key takes APNS_KEY_PASSPHRASE), ' +
    'or a .p12 (APNS_P12_PASSPHRASE); --force to change the topic',
  options: { ...REMOTE_OPTIONS, force: 'boolean' },
  async run(args) {
    if (args.positionals.length < 1 || args.positionals.length > 2) throw new UsageError('expected <cert.pem> [<key.pem>] or <push.p12>');
    const certificate = await readCertificate(args.positionals);
    const api = connect(args);
    let res: PushCertificateJson;
    try {
      res = await api.put<PushCertificateJson>(
        '/v1/pushcert',
        { type: 'application/x-pem-file', data: `${certificate.certPem}\n${certificate.keyPem}` },
        { force: args.values.force ? '1' : undefined },
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) throw new CliError(`${err.message}; to replace it anyway: aspen pushcert upload ... --force`);
      throw err;
    }
    if (args.values.json) return printJson(res);
    print(`uploaded; the server pushes with it now\n${certificateFacts(res)}`);
  },
};

async function readCertificate(paths: string[]): Promise<PushCertificate> {
  // Loaded on use: the certificate code (pkijs, node-forge) is a cost other commands should not pay.
  const push = await import('../../push/push-certificate.ts');
  const files = paths.map((path) => {
    try {
      return { path, bytes: readFileSync(path) };
    } catch (err) {
      throw new CliError(`cannot read ${path}: ${(err as Error).message}`);
    }
  });
  try {
    const text = files.map((f) => f.bytes.toString('utf8')).join('\n');
    if (!text.includes('-----BEGIN')) {
      if (files.length > 1) throw new UsageError('a .p12 bundle holds the key already: give it alone');
      return push.loadPushCertificateFromPkcs12(files[0]!.bytes, process.env.APNS_P12_PASSPHRASE || undefined);
    }
    const pem = push.splitPemPair(text);
    if (pem === undefined) throw new CliError(`${paths.join(' and ')}: expected a PEM certificate and its PEM private key`);
    return push.loadPushCertificate({ ...pem, passphrase: process.env.APNS_KEY_PASSPHRASE || undefined });
  } catch (err) {
    if (err instanceof push.PushCertificateError) throw new CliError(err.message);
    throw err;
  }
}
