// The simulated devices and everything they will send, built before any timed phase: each device
// gets its own EC certificate from the device CA, and every body it will send (enrollment, Idle,
// one Acknowledged per command it will be handed) is encoded and signed now, so the simulator
// spends nothing on crypto or plist encoding while it is being timed.
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
}

export function buildFleet(spec: FleetSpec): Device[] {
  const ca = spec.signing && deviceCaFromPem(spec.signing.caCertPem, spec.signing.caKeyPem);
  const commands = Array.from({ length: spec.rounds }, (_, round) => roundCommands(round, spec.commandsPerRound)).flat();
  return spec.ids.map((id) => {
    let signer: MdmSigner | undefined;
    if (ca) {
      // The CN does not name the device: the server binds the certificate on first use.
      const { certPem, keyPem } = issueDeviceCertificate(ca, { commonName: 'Aspen bench device', keyType: 'ec' });
      signer = new MdmSigner(certPem, keyPem!);
    }
    const signed = (body: Buffer): SignedBody => ({ body, signature: signer?.sign(body) });
    return {
      id,
      authenticate: signed(bodies.authenticate(id)),
      tokenUpdate: signed(bodies.tokenUpdate(id)),
      idle: signed(bodies.idle(id)),
      acknowledged: new Map(commands.map((uuid) => [uuid, signed(bodies.acknowledged(id, uuid))])),
    };
  });
}
