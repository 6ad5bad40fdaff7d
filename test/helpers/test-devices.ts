// Identities for test devices: one certificate per device id, issued from the device CA that the
// server under test created (it keeps it in its database), used to sign each request like a real
// device.
import { deviceCaFromPem, issueDeviceCertificate, type DeviceCa } from '../../src/identity/index.ts';
import { resolveEnrollment } from '../../src/protocol/enrollment-id.ts';
import { decodePlistDict } from '../../src/protocol/plist.ts';
import { MdmSigner } from './mdm-signer.ts';

/** Bodies that name no device (the bad-input tests) are signed by this one. */
const NO_DEVICE = 'test-device-without-id';

export class TestDevices {
  private ca: DeviceCa | undefined;
  private readonly signers = new Map<string, MdmSigner>();

  /** @param issuer the device CA the server trusts (read when the first device needs it). */
  constructor(private readonly issuer: () => { certPem: string; keyPem: string } | null) {}

  headersFor(body: Uint8Array | string): Record<string, string> {
    return { 'mdm-signature': this.signerFor(deviceIdOf(body)).sign(body) };
  }

  signerFor(deviceId: string): MdmSigner {
    let signer = this.signers.get(deviceId);
    if (signer === undefined) {
      // The CN deliberately does not name the device, so binding (not naming) is what lets it in.
      const { certPem, keyPem } = issueDeviceCertificate(this.deviceCa(), { commonName: 'Aspen test device' });
      signer = new MdmSigner(certPem, keyPem!);
      this.signers.set(deviceId, signer);
    }
    return signer;
  }

  private deviceCa(): DeviceCa {
    if (this.ca === undefined) {
      const issuer = this.issuer();
      if (issuer === null) throw new Error('this server trusts DEVICE_CA, not its own CA: sign with that CA');
      this.ca = deviceCaFromPem(issuer.certPem, issuer.keyPem);
    }
    return this.ca;
  }
}

function deviceIdOf(body: Uint8Array | string): string {
  try {
    return resolveEnrollment(decodePlistDict(body)).deviceId;
  } catch {
    return NO_DEVICE;
  }
}
