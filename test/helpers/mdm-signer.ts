// Signs request bodies the way an enrolled device does (profile key SignMessage): an Mdm-Signature
// header holding a detached CMS SignedData over the exact body, with the signer certificate and
// no signed attributes. Used by the test device and the benchmark's device simulator.
import { createPrivateKey, sign, X509Certificate, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { IdentityError } from '../../src/identity/errors.ts';
import { checkMdmSignature, parseMdmSignature } from '../../src/identity/mdm-signature.ts';

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};

export class MdmSigner {
  private readonly key: KeyObject;
  private readonly certDer: Buffer;
  private readonly sid: asn1js.Sequence;
  readonly fingerprint: string;

  constructor(certPem: string, keyPem: string) {
    this.key = createPrivateKey(keyPem);
    const x509 = new X509Certificate(certPem);
    this.certDer = x509.raw;
    this.fingerprint = x509.fingerprint256.replace(/:/g, '').toLowerCase();
    const cert = pkijs.Certificate.fromBER(this.certDer);
    this.sid = new asn1js.Sequence({ value: [cert.issuer.toSchema(), cert.serialNumber] });
  }

  /** The Mdm-Signature header value for `body`. */
  sign(body: Uint8Array | string): string {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const rsa = this.key.asymmetricKeyType === 'rsa';
    const signature = sign('sha256', bytes, this.key);
    const algorithm = (oid: string, nullParams: boolean) =>
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), ...(nullParams ? [new asn1js.Null()] : [])] });
    const signerInfo = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 1 }),
        this.sid,
        algorithm(OID.sha256, true),
        algorithm(rsa ? OID.sha256WithRsa : OID.ecdsaWithSha256, rsa),
        new asn1js.OctetString({ valueHex: signature }),
      ],
    });
    const signedData = new asn1js.Sequence({
      value: [
        new asn1js.Integer({ value: 1 }),
        new asn1js.Set({ value: [algorithm(OID.sha256, true)] }),
        new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.data })] }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [asn1js.fromBER(this.certDer).result] }),
        new asn1js.Set({ value: [signerInfo] }),
      ],
    });
    const contentInfo = new asn1js.Sequence({
      value: [
        new asn1js.ObjectIdentifier({ value: OID.signedData }),
        new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [signedData] }),
      ],
    });
    return Buffer.from(contentInfo.toBER()).toString('base64');
  }
}

/**
 * The signer certificate of a header whose signature holds over `body`, whoever issued it: the two
 * steps IdentityVerifier runs, with the signer's own key standing in for the trust lookup, for
 * tests that show a signature is sound where its CA is not trusted.
 */
export function signerOfValidSignature(header: string, body: Uint8Array): Buffer {
  const signature = parseMdmSignature(header);
  let key: KeyObject;
  try {
    key = new X509Certificate(signature.signerCertDer).publicKey;
  } catch {
    throw new IdentityError('malformed', 'Mdm-Signature: signer certificate does not parse');
  }
  checkMdmSignature(signature, body, key);
  return signature.signerCertDer;
}
