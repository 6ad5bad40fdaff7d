// Test PKI built with the openssl CLI in a temporary directory, so the code under test is checked
// against an independent implementation rather than against itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyType = 'rsa' | 'ec';

export interface Issued {
  /** Path of the PEM certificate. */
  readonly cert: string;
  /** Path of the PEM private key. */
  readonly key: string;
  readonly der: Buffer;
  readonly pem: string;
}

export interface IssueOptions {
  keyType?: KeyType;
  /** Lines for an openssl extensions file. */
  extensions?: string[];
  /** openssl ca date form, e.g. 20200101000000Z; default: valid from yesterday for `days`. */
  startDate?: string;
  endDate?: string;
  days?: number;
  /** Reuse an existing key instead of generating one. */
  key?: string;
}

export interface SignOptions {
  md: 'sha1' | 'sha256' | 'sha384' | 'sha512';
  /** Leave out signed attributes, as Apple devices do. */
  noattr?: boolean;
  /** Name the signer by subject key identifier instead of issuer and serial number. */
  keyid?: boolean;
  /** Extra certificates (PEM path) to include, e.g. an intermediate. */
  certfile?: string;
}

const REQ_CONFIG = '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n';
const CA_CONFIG = [
  '[ca]',
  'default_ca = ca_default',
  '[ca_default]',
  'database = index.txt',
  'serial = serial.txt',
  'new_certs_dir = .',
  'default_md = sha256',
  'policy = policy_any',
  'unique_subject = no',
  '[policy_any]',
  'commonName = supplied',
  '',
].join('\n');
export const CLIENT_AUTH_EXTENSIONS = ['basicConstraints=critical,CA:FALSE', 'extendedKeyUsage=clientAuth'];
const CA_EXTENSIONS = ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'];

export class OpensslPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'aspen-identity-'));
  #counter = 0;

  constructor() {
    this.write('req.cnf', REQ_CONFIG);
    this.write('ca.cnf', CA_CONFIG);
    this.write('index.txt', '');
    this.write('serial.txt', '1000\n');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  openssl(args: string[], input?: Buffer): Buffer {
    return execFileSync('openssl', args, { cwd: this.dir, input, stdio: ['pipe', 'pipe', 'pipe'] });
  }

  write(name: string, contents: string | Uint8Array): string {
    const path = join(this.dir, name);
    writeFileSync(path, contents);
    return path;
  }

  newKey(name: string, keyType: KeyType): string {
    const path = join(this.dir, `${this.#fileName(name)}.key`);
    const algorithm = keyType === 'rsa' ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'] : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    this.openssl(['genpkey', ...algorithm, '-out', path]);
    return path;
  }

  rootCa(name: string, keyType: KeyType = 'rsa'): Issued {
    const key = this.newKey(name, keyType);
    const cert = join(this.dir, `${this.#fileName(name)}.pem`);
    const extensions = CA_EXTENSIONS.flatMap((e) => ['-addext', e]);
    this.openssl(['req', '-x509', '-config', 'req.cnf', '-key', key, '-subj', `/CN=${name}`, '-days', '3650', ...extensions, '-out', cert]);
    return this.#load(cert, key);
  }

  intermediateCa(name: string, issuer: Issued): Issued {
    return this.issue(name, issuer, { extensions: CA_EXTENSIONS, days: 3650 });
  }

  /** Issues a certificate for /CN=`name` from `issuer` with `openssl ca`, which accepts explicit dates. */
  issue(name: string, issuer: Issued, options: IssueOptions = {}): Issued {
    const key = options.key ?? this.newKey(name, options.keyType ?? 'rsa');
    const file = this.#fileName(name);
    const csr = join(this.dir, `${file}.csr`);
    this.openssl(['req', '-new', '-config', 'req.cnf', '-key', key, '-subj', `/CN=${name}`, '-out', csr]);
    const extfile = this.write(`${file}.ext`, (options.extensions ?? CLIENT_AUTH_EXTENSIONS).join('\n') + '\n');
    const cert = join(this.dir, `${file}.pem`);
    const dates =
      options.startDate !== undefined && options.endDate !== undefined
        ? ['-startdate', options.startDate, '-enddate', options.endDate]
        : ['-startdate', opensslDate(new Date(Date.now() - 86_400_000)), '-days', String(options.days ?? 365)];
    this.openssl(['ca', '-batch', '-config', 'ca.cnf', '-cert', issuer.cert, '-keyfile', issuer.key, '-in', csr, '-out', cert, '-extfile', extfile, '-notext', ...dates]);
    return this.#load(cert, key);
  }

  /** A detached CMS signature over `body`, base64 as in an Mdm-Signature header. */
  sign(body: Uint8Array, signer: Issued, options: SignOptions): string {
    const input = this.write(this.#fileName('body'), body);
    const flags = [
      ...(options.noattr ? ['-noattr'] : []),
      ...(options.keyid ? ['-keyid'] : []),
      ...(options.certfile ? ['-certfile', options.certfile] : []),
    ];
    const der = this.openssl(['cms', '-sign', '-binary', '-in', input, '-signer', signer.cert, '-inkey', signer.key, '-md', options.md, '-outform', 'DER', ...flags]);
    return der.toString('base64');
  }

  /** Names may repeat (a rogue CA copies a real one's name); files must not. */
  #fileName(name: string): string {
    return `${++this.#counter}-${name.replace(/[^A-Za-z0-9-]/g, '_')}`;
  }

  #load(cert: string, key: string): Issued {
    const pem = readFileSync(cert, 'utf8');
    return { cert, key, pem, der: this.openssl(['x509', '-in', cert, '-outform', 'DER']) };
  }
}

export function opensslDate(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}
