// A SCEP server on 127.0.0.1 with a fresh RSA device CA and callbacks that behave like Aspen's
// storage will: a static challenge, single-use invites consumed on success, and a register of
// current identities that renewal consults (revocable). Tests drive it with any SCEP client.
import { createHash, X509Certificate } from 'node:crypto';
import { createDeviceCa, deviceCaFromPem, type DeviceCa } from '../../src/identity/device-ca.ts';
import { scepCa, timingSafeStringEqual, type ScepCa, type ScepIssuance, type ScepVerdict } from '../../src/enrollment/index.ts';
import { OpensslPki } from './openssl-pki.ts';
import { startScepServer, type ScepTestServer } from './scep-http.ts';

export const STATIC_CHALLENGE = 'static-challenge-for-tests';

export interface ScepRig {
  readonly pki: OpensslPki;
  readonly deviceCa: DeviceCa;
  readonly ca: ScepCa;
  /** Path of the CA certificate (PEM), for openssl. */
  readonly caCertPath: string;
  readonly server: ScepTestServer;
  /** Single-use challenges not yet used. */
  readonly invites: Set<string>;
  /** Fingerprints of the identities a renewal may be signed with. */
  readonly identities: Set<string>;
  /** Every issuance a callback approved, in order. */
  readonly approved: ScepIssuance[];
  close(): Promise<void>;
}

export async function startScepRig(options: { validityDays?: number } = {}): Promise<ScepRig> {
  const pki = new OpensslPki();
  const { certPem, keyPem } = createDeviceCa(new Date(), 'rsa');
  const deviceCa = deviceCaFromPem(certPem, keyPem);
  const ca = scepCa(deviceCa);
  const invites = new Set<string>();
  const identities = new Set<string>();
  const approved: ScepIssuance[] = [];
  const approve = (issuance: ScepIssuance): ScepVerdict => {
    identities.add(issuance.certificate.fingerprint);
    approved.push(issuance);
    return 'ok';
  };
  const server = await startScepServer({
    ca,
    ...(options.validityDays !== undefined && { validityDays: options.validityDays }),
    checkChallenge: async (challenge, issuance) => {
      if (challenge === undefined) return 'badRequest';
      if (timingSafeStringEqual(challenge, STATIC_CHALLENGE)) return approve(issuance);
      // Storage will do this as one transaction: consume the invite, record the identity.
      for (const invite of invites) {
        if (timingSafeStringEqual(challenge, invite)) {
          invites.delete(invite);
          return approve(issuance);
        }
      }
      return 'badRequest';
    },
    checkRenewal: async (signer, issuance) => (identities.has(signer.fingerprint) ? approve(issuance) : 'badCertId'),
  });
  return {
    pki,
    deviceCa,
    ca,
    caCertPath: pki.write('scep-ca.pem', certPem),
    server,
    invites,
    identities,
    approved,
    close: async () => {
      await server.close();
      pki.cleanup();
    },
  };
}

export function fingerprintOf(certificate: X509Certificate | string): string {
  const der = typeof certificate === 'string' ? new X509Certificate(certificate).raw : certificate.raw;
  return createHash('sha256').update(der).digest('hex');
}
