// Identities for test devices: one certificate per device id, issued from the device CA that the
// server under test created in its data directory, used to sign each request like a real device.
import { join } from 'node:path';
import { DEVICE_CA_CERT_FILE, DEVICE_CA_KEY_FILE, deviceCaFromPem, issueDeviceCertificate, type DeviceCa } from '../../src/identity/index.ts';
import { resolveEnrollment } from '../../src/protocol/enrollment-id.ts';
import { decodePlistDict } from '../../src/protocol/plist.ts';
import { readFileSync } from 'node:fs';
import { MdmSigner } from './mdm-signer.ts';

/** Bodies that name no device (the bad-input tests) are signed by this one. */
const NO_DEVICE = 'test-device-without-id';

export class TestDevices {
  private ca: DeviceCa | undefined;
  private readonly signers = new Map<string, MdmSigner>();

  constructor(private readonly dataDir: string) {}

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
    // The server creates its CA at start; read it lazily so tests may start devices any time after.
    this.ca ??= deviceCaFromPem(
      readFileSync(join(this.dataDir, DEVICE_CA_CERT_FILE), 'utf8'),
      readFileSync(join(this.dataDir, DEVICE_CA_KEY_FILE), 'utf8'),
    );
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
