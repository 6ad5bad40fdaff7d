// An MDM-push-shaped certificate (subject UID = topic) with chosen validity dates, made with the
// openssl CLI: `openssl ca -selfsign` is the one way OpenSSL 3.0 sets a start date in the past or
// the future. For tests of expired and not yet valid push certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opensslDate } from './openssl-pki.ts';

const CA_CONFIG = [
  '[ca]', 'default_ca = d', '[d]', 'database = index.txt', 'serial = serial.txt', 'new_certs_dir = .',
  'default_md = sha256', 'policy = p', 'unique_subject = no', 'preserve = yes', '[p]', 'UID = supplied', 'commonName = optional', '',
].join('\n');

export class DatedPushCertificates {
  readonly #dir = mkdtempSync(join(tmpdir(), 'aspen-pushcert-'));
  readonly #key = join(this.#dir, 'push.key');
  #count = 0;

  constructor(readonly topic: string) {
    writeFileSync(join(this.#dir, 'ca.cnf'), CA_CONFIG);
    writeFileSync(join(this.#dir, 'index.txt'), '');
    writeFileSync(join(this.#dir, 'serial.txt'), '1000\n');
    execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', this.#key]);
  }

  /** PEM certificate and key files valid from `from` until `until` (all certificates share the key). */
  issue(from: Date, until: Date): { certPath: string; keyPath: string; certPem: string; keyPem: string } {
    const name = `push-${++this.#count}`;
    const csr = join(this.#dir, `${name}.csr`);
    const certPath = join(this.#dir, `${name}.pem`);
    execFileSync('openssl', ['req', '-new', '-key', this.#key, '-subj', `/UID=${this.topic}/CN=APSP:${name}`, '-out', csr], { cwd: this.#dir });
    execFileSync('openssl', ['ca', '-batch', '-selfsign', '-config', 'ca.cnf', '-keyfile', this.#key, '-in', csr, '-out', certPath, '-notext',
      '-startdate', opensslDate(from), '-enddate', opensslDate(until)], { cwd: this.#dir, stdio: 'pipe' });
    return { certPath, keyPath: this.#key, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(this.#key, 'utf8') };
  }

  cleanup(): void {
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
