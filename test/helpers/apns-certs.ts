// Test PKI for the APNs stand-in, made with the openssl CLI at test time: a CA, a TLS server
// certificate for 127.0.0.1/localhost, and an MDM push client certificate shaped like Apple's
// (subject UID = topic, APNs environment extensions) plus a PKCS#12 bundle of it. Files live in a
// temp dir only while openssl runs; everything is returned in memory.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Apple's APNs environment extensions; node-apn refuses a certificate lacking the one for its gateway. */
const APNS_DEVELOPMENT_OID = '1.2.840.113635.100.6.3.1';
const APNS_PRODUCTION_OID = '1.2.840.113635.100.6.3.2';

export interface TestKeyPair {
  certPem: string;
  keyPem: string;
}

export interface ApnsTestCertificates {
  ca: TestKeyPair;
  server: TestKeyPair;
  /** The MDM push certificate (RSA, like Apple's) signed by `ca`. */
  push: TestKeyPair & {
    topic: string;
    /** OpenSSL 3 defaults: AES-256-CBC, PBKDF2, SHA-256 MAC. */
    p12: Buffer;
    /** 3DES/SHA-1, the scheme Keychain Access exports. */
    p12Keychain: Buffer;
    p12Passphrase: string;
  };
  /** Signed by `ca`, with only the production extension, as Apple issues MDM push certificates. */
  productionOnlyPush: TestKeyPair;
  /** A push-shaped certificate signed by a CA the stand-in does not trust. */
  untrustedPush: TestKeyPair;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function writeExtensions(dir: string, name: string, lines: string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

async function selfSignedCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
  ]);
}

async function signedLeaf(
  dir: string,
  name: string,
  ca: string,
  keyArgs: string[],
  subject: string,
  extensionLines: string[],
): Promise<void> {
  await openssl(dir, ['req', '-new', '-newkey', ...keyArgs, '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', subject]);
  const extFile = await writeExtensions(dir, `${name}.ext`, extensionLines);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`,
    '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', extFile]);
}

async function readPair(dir: string, name: string): Promise<TestKeyPair> {
  return {
    certPem: await readFile(join(dir, `${name}.crt`), 'utf8'),
    keyPem: await readFile(join(dir, `${name}.key`), 'utf8'),
  };
}

function pushExtensions(environments: string[] = [APNS_DEVELOPMENT_OID, APNS_PRODUCTION_OID]): string[] {
  return [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
    ...environments.map((oid) => `${oid}=ASN1:NULL`),
  ];
}

export async function generateApnsTestCertificates(): Promise<ApnsTestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'aspen-apns-certs-'));
  try {
    const uuid = randomUUID();
    const topic = `com.apple.mgmt.External.${uuid}`;
    const pushSubject = `/UID=${topic}/CN=APSP:${uuid}/C=US`;
    const p12Passphrase = 'test-p12-passphrase';

    await selfSignedCa(dir, 'ca');
    await selfSignedCa(dir, 'rogue-ca');
    await signedLeaf(dir, 'server', 'ca', ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=localhost', [
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      'extendedKeyUsage=serverAuth',
    ]);
    await signedLeaf(dir, 'push', 'ca', ['rsa:2048'], pushSubject, pushExtensions());
    await signedLeaf(dir, 'production-push', 'ca', ['rsa:2048'], pushSubject, pushExtensions([APNS_PRODUCTION_OID]));
    await signedLeaf(dir, 'rogue-push', 'rogue-ca', ['rsa:2048'], pushSubject, pushExtensions());
    const exportPkcs12 = (out: string, extra: string[]): Promise<void> =>
      openssl(dir, ['pkcs12', '-export', '-in', 'push.crt', '-inkey', 'push.key', '-certfile', 'ca.crt',
        '-out', out, '-passout', `pass:${p12Passphrase}`, ...extra]);
    await exportPkcs12('push.p12', []);
    // Unlike RC2 (OpenSSL's -legacy), 3DES needs no legacy provider.
    await exportPkcs12('push-keychain.p12', ['-certpbe', 'PBE-SHA1-3DES', '-keypbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']);

    const push = await readPair(dir, 'push');
    return {
      ca: await readPair(dir, 'ca'),
      server: await readPair(dir, 'server'),
      push: {
        ...push,
        topic,
        p12: await readFile(join(dir, 'push.p12')),
        p12Keychain: await readFile(join(dir, 'push-keychain.p12')),
        p12Passphrase,
      },
      productionOnlyPush: await readPair(dir, 'production-push'),
      untrustedPush: await readPair(dir, 'rogue-push'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
