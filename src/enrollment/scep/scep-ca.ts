// The CA that answers SCEP. It must be RSA: clients encrypt their requests to its key with RSA
// key transport, and no SCEP client offers anything else.
import type { KeyObject } from 'node:crypto';
import { decodeBer, type BerNode } from '../../identity/ber.ts';
import type { DeviceCa } from '../../identity/device-ca.ts';

export interface ScepCa {
  readonly deviceCa: DeviceCa;
  readonly certificateDer: Buffer;
  /** The certificate decoded once, to recognise RecipientInfos addressed to it. */
  readonly certificateNode: BerNode;
  readonly privateKey: KeyObject;
}

/** Prepares `deviceCa` for SCEP; throws if its key is not RSA. Build once, reuse for every request. */
export function scepCa(deviceCa: DeviceCa): ScepCa {
  const privateKey = deviceCa.issuer.privateKey;
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new Error(`SCEP needs an RSA CA; the key of "${deviceCa.certificate.subject}" is ${privateKey.asymmetricKeyType}`);
  }
  const certificateDer = deviceCa.certificate.raw;
  return { deviceCa, certificateDer, certificateNode: decodeBer(certificateDer, 'CA certificate'), privateKey };
}
