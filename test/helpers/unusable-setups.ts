// Configurations that parse but that the server could not start with, each made for real: a port
// another process holds, a TLS key of another certificate, a DEVICE_CA file without a certificate,
// an expired push certificate. The server, and `aspen config check`, must refuse each with one
// line naming the variable.
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { DatedPushCertificates } from './dated-push-certificate.ts';
import { OpensslPki } from './openssl-pki.ts';

export interface UnusableSetup {
  name: string;
  env: Record<string, string>;
  /** The variable the one-line refusal must name. */
  variable: string;
  /** What the line must also say. */
  says: RegExp;
}

const DAY = 86_400_000;
const anyPort = { HOST: '127.0.0.1', PORT: '0' };

export class UnusableSetups {
  readonly #pki = new OpensslPki();
  readonly #push = new DatedPushCertificates('com.apple.mgmt.External.unusable-setups');
  #holder: Server | undefined;

  /** Every setup; the port one holds a port on 127.0.0.1 until `cleanup`. */
  async setups(): Promise<UnusableSetup[]> {
    // Another program on the port: it hangs up on whoever connects (`aspen config check` looks
    // whether an Aspen answers there).
    this.#holder = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => this.#holder!.listen(0, '127.0.0.1', resolve));
    const { port } = this.#holder.address() as AddressInfo;
    const ca = this.#pki.rootCa('Unusable Setups CA');
    const server = this.#pki.issue('127.0.0.1', ca, { extensions: ['extendedKeyUsage=serverAuth'] });
    const other = this.#pki.issue('other', ca, { extensions: ['extendedKeyUsage=serverAuth'] });
    const emptyBundle = join(this.#pki.dir, 'empty-bundle.pem');
    writeFileSync(emptyBundle, '# the certificates go here\n');
    const expired = this.#push.issue(new Date(Date.now() - 400 * DAY), new Date(Date.now() - DAY));
    return [
      { name: 'a port already in use', env: { HOST: '127.0.0.1', PORT: String(port) }, variable: 'PORT', says: /already in use/ },
      // The others listen on a port of the kernel's choosing, so only their own problem shows.
      { name: 'a TLS key that does not match its certificate', env: { ...anyPort, TLS_CERT: server.cert, TLS_KEY: other.key }, variable: 'TLS_KEY', says: /does not belong to the certificate/ },
      { name: 'a DEVICE_CA file with no certificate in it', env: { ...anyPort, DEVICE_CA: emptyBundle }, variable: 'DEVICE_CA', says: /holds no PEM certificate/ },
      { name: 'an expired APNS_CERT', env: { ...anyPort, APNS_CERT: expired.certPath, APNS_KEY: expired.keyPath }, variable: 'APNS_CERT', says: /expired/ },
    ];
  }

  async cleanup(): Promise<void> {
    await new Promise((resolve) => (this.#holder ? this.#holder.close(resolve) : resolve(undefined)));
    this.#pki.cleanup();
    this.#push.cleanup();
  }
}
