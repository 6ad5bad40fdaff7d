// The simulated devices and everything they will send, built before any timed phase: each device
// gets its own certificate from the device CA, and every body it will send (enrollment, Idle,
// one Acknowledged per command it will be handed) is encoded and signed now, so the simulator
// spends nothing on crypto or plist encoding while it is being timed.
//
// Keys are RSA 2048, as Apple devices generate for SCEP identities (the SCEP payload only offers
// RSA), so the server's signature check costs what it costs with real devices. Generating 1,000
// RSA keys would take a minute, and the server cannot tell, so devices share a small pool of keys
// while each still has a certificate (and so a fingerprint and binding) of its own.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { deviceCaFromPem, issueDeviceCertificate } from '../../src/identity/index.ts';
import { MdmSigner } from '../../test/helpers/mdm-signer.ts';
import { bodies, roundCommands } from '../workload.ts';
import type { FleetSpec } from './protocol.ts';

export interface SignedBody {
  body: Buffer;
  /** The Mdm-Signature header value; undefined for an unsigned fleet. */
  signature: string | undefined;
}

export interface Device {
  id: string;
  authenticate: SignedBody;
  tokenUpdate: SignedBody;
  idle: SignedBody;
  /** Keyed by command UUID. */
  acknowledged: Map<string, SignedBody>;
  /** Its certificate and key, to sign bodies made during a run (large results); absent for an
   *  unsigned fleet. */
  signing?: { certPem: string; keyPem: string };
}

const KEY_POOL_SIZE = 8;

export function buildFleet(spec: FleetSpec): Device[] {
  const ca = spec.signing && deviceCaFromPem(spec.signing.caCertPem, spec.signing.caKeyPem);
  const keys: { publicKey: KeyObject; keyPem: string }[] = ca
    ? Array.from({ length: KEY_POOL_SIZE }, () => {
        const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
        return { publicKey, keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
      })
    : [];
  const commands = Array.from({ length: spec.rounds }, (_, round) => roundCommands(round, spec.commandsPerRound)).flat();
  return spec.ids.map((id, index) => {
    let signing: Device['signing'];
    if (ca) {
      // The CN does not name the device: the server binds the certificate on first use.
      const key = keys[index % KEY_POOL_SIZE]!;
      const { certPem } = issueDeviceCertificate(ca, { commonName: 'Aspen bench device', publicKey: key.publicKey });
      signing = { certPem, keyPem: key.keyPem };
    }
    const signer = signing && new MdmSigner(signing.certPem, signing.keyPem);
    const signed = (body: Buffer): SignedBody => ({ body, signature: signer?.sign(body) });
    return {
      id,
      authenticate: signed(bodies.authenticate(id)),
      tokenUpdate: signed(bodies.tokenUpdate(id)),
      idle: signed(bodies.idle(id)),
      acknowledged: new Map(commands.map((uuid) => [uuid, signed(bodies.acknowledged(id, uuid))])),
      ...(signing === undefined ? {} : { signing }),
    };
  });
}
