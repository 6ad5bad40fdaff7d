// Unpacks a PKCS#12 (.p12/.pfx) bundle into DER certificates and private keys. Node's crypto can
// only hand a PKCS#12 to TLS, never open it, and Keychain Access exports use the legacy
// pbeWithSHA1And3-KeyTripleDES / RC2 schemes that WebCrypto-based parsers (pkijs) lack, so this
// uses node-forge (already present as node-apn's dependency).
import type { Asn1, Pkcs12Bag, Pkcs12Pfx } from 'node-forge';
import { forge } from '../on-first-use.ts';

export interface Pkcs12Contents {
  certificatesDer: Buffer[];
  /** PKCS#8 PrivateKeyInfo, DER. */
  privateKeysDer: Buffer[];
}

export class Pkcs12Error extends Error {
  override name = 'Pkcs12Error';
}

function derOf(value: Asn1): Buffer {
  return Buffer.from(forge.asn1.toDer(value).getBytes(), 'binary');
}

function bagsOf(pfx: Pkcs12Pfx, bagType: string): Pkcs12Bag[] {
  return pfx.getBags({ bagType })[bagType] ?? [];
}

export function readPkcs12(data: Uint8Array, passphrase = ''): Pkcs12Contents {
  let pfx: Pkcs12Pfx;
  try {
    const asn1 = forge.asn1.fromDer(Buffer.from(data).toString('binary'), false);
    pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (error) {
    const message = (error as Error).message;
    if (/password|decrypt/i.test(message)) {
      throw new Pkcs12Error('cannot open the PKCS#12 file: wrong passphrase');
    }
    throw new Pkcs12Error(`cannot read the PKCS#12 file: ${message}`);
  }

  const { oids } = forge.pki;
  const keyBagTypes = [oids.pkcs8ShroudedKeyBag, oids.keyBag].filter((t): t is string => t !== undefined);
  const privateKeysDer = keyBagTypes.flatMap((type) => bagsOf(pfx, type)).map((bag) => {
    if (bag.key) return derOf(forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)));
    if (bag.asn1) return derOf(bag.asn1);
    throw new Pkcs12Error('the PKCS#12 file holds a key bag without a key');
  });
  const certificatesDer = bagsOf(pfx, oids.certBag ?? '').map((bag) => {
    if (bag.cert) return derOf(forge.pki.certificateToAsn1(bag.cert));
    if (bag.asn1) return derOf(bag.asn1);
    throw new Pkcs12Error('the PKCS#12 file holds a certificate bag without a certificate');
  });
  return { certificatesDer, privateKeysDer };
}
