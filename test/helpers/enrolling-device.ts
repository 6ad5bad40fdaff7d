// A device enrolling the way an Apple device does, with nothing but what Aspen serves: it reads an
// enrollment profile (checking its signature with openssl), asks the profile's SCEP URL for an
// identity with the profile's challenge and subject (an independent SCEP client: openssl and
// asn1js, see scep-test-client.ts), and then speaks MDM to the profile's ServerURL, signing every
// message with that identity (Mdm-Signature).
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { decodePlistDict, encodePlist, isDict, type PlistDict } from '../../src/protocol/plist.ts';
import { CHECKIN, REPORT } from './device.ts';
import { MdmSigner } from './mdm-signer.ts';
import type { OpensslPki } from './openssl-pki.ts';
import { fetchTransport, MESSAGE_TYPE, ScepTestClient, type CertRep, type HttpReply, type HttpTransport, type RequestOptions } from './scep-test-client.ts';

export interface ProfileContents {
  /** The plist as the device reads it (inside the signature, when signed). */
  xml: string;
  /** Whether it came signed (checked against the given CA). */
  signed: boolean;
  plist: PlistDict;
  payload(type: string): PlistDict | undefined;
  scep: PlistDict;
  scepPayloadUuid: string;
  mdm: PlistDict;
}

/**
 * Reads a profile as a device would. A signed one (a CMS SignedData) must verify against `caFile`
 * with openssl (chain and signature); an unsigned one is a plain plist.
 */
export function readProfile(pki: OpensslPki, bytes: Buffer, caFile?: string): ProfileContents {
  const signed = !bytes.subarray(0, 64).toString('latin1').includes('<?xml');
  let xml: string;
  if (signed) {
    if (caFile === undefined) throw new Error('a signed profile, and no CA to check it against');
    const file = pki.write('profile.der', bytes);
    xml = pki.openssl(['cms', '-verify', '-inform', 'DER', '-in', file, '-CAfile', caFile, '-purpose', 'any']).toString('utf8');
  } else {
    xml = bytes.toString('utf8');
  }
  const plist = decodePlistDict(xml);
  const content = plist.PayloadContent;
  const payloads = Array.isArray(content) ? content.filter(isDict) : [];
  const payload = (type: string) => payloads.find((p) => p.PayloadType === type);
  const scepPayload = payload('com.apple.security.scep');
  const mdm = payload('com.apple.mdm');
  if (scepPayload === undefined || !isDict(scepPayload.PayloadContent) || mdm === undefined) throw new Error('not an enrollment profile');
  return { xml, signed, plist, payload, scep: scepPayload.PayloadContent, scepPayloadUuid: String(scepPayload.PayloadUUID), mdm };
}

/** The profile's Subject ([[["CN", "…"]], [["O", "…"]]]) in openssl's /TYPE=value form. */
function opensslSubject(subject: unknown): string {
  if (!Array.isArray(subject)) throw new Error('the SCEP payload has no Subject');
  return subject.map((rdn) => (rdn as string[][]).map(([type, value]) => `/${type}=${value}`).join('')).join('');
}

export interface Identity {
  certPem: string;
  certFile: string;
  keyFile: string;
  serial: string;
  fingerprint: string;
}

export interface ScepExchange {
  certRep: CertRep;
  /** Set on SUCCESS. */
  identity?: Identity;
}

export class EnrollingDevice {
  identity: Identity | undefined;
  private signer: MdmSigner | undefined;

  constructor(
    private readonly pki: OpensslPki,
    readonly udid: string,
    private readonly transport: HttpTransport = fetchTransport,
  ) {}

  /** A SCEP client for the profile's URL, trusting the CA that URL's GetCACert returns. */
  async scepClient(profile: ProfileContents): Promise<ScepTestClient> {
    const url = String(profile.scep.URL);
    const caCert = await this.transport(new URL(`${url}?operation=GetCACert`), { method: 'GET' });
    if (caCert.status !== 200) throw new Error(`GetCACert: ${caCert.status} ${caCert.body.toString()}`);
    const caFile = this.pki.write('scep-ca.pem', new X509Certificate(caCert.body).toString());
    return new ScepTestClient(this.pki, caFile, url, this.transport);
  }

  /** PKCSReq with the profile's challenge (or another) and subject; on SUCCESS the device takes
   *  the issued certificate as its identity. */
  async requestIdentity(profile: ProfileContents, options: Omit<RequestOptions, 'subject'> = {}): Promise<ScepExchange> {
    const client = await this.scepClient(profile);
    const key = this.pki.newKey(`${this.udid}-identity`, 'rsa');
    const message = client.request({ challenge: String(profile.scep.Challenge), subject: opensslSubject(profile.scep.Subject), key, ...options });
    return this.exchange(client, message);
  }

  /** RenewalReq signed by the current identity (no challenge), as SCEP clients renew. */
  async renewIdentity(profile: ProfileContents, options: Omit<RequestOptions, 'subject' | 'signer' | 'messageType'> = {}): Promise<ScepExchange> {
    const current = this.identity;
    if (current === undefined) throw new Error('no identity to renew');
    const client = await this.scepClient(profile);
    const message = client.request({
      messageType: MESSAGE_TYPE.RenewalReq,
      subject: opensslSubject(profile.scep.Subject),
      key: this.pki.newKey(`${this.udid}-renewed`, 'rsa'),
      signer: { cert: current.certFile, key: current.keyFile },
      ...options,
    });
    return this.exchange(client, message);
  }

  private async exchange(client: ScepTestClient, message: ReturnType<ScepTestClient['request']>): Promise<ScepExchange> {
    const reply = await client.send(message.der);
    if (reply.status !== 200) throw new Error(`PKIOperation: ${reply.status} ${reply.body.toString()}`);
    const certRep = client.readCertRep(reply.body);
    if (certRep.pkiStatus !== '0') return { certRep };
    // The client names its files by its own counter; the identity gets a name of its own.
    const certPem = readFileSync(client.issuedCertificate(certRep, message.requester), 'utf8');
    const x509 = new X509Certificate(certPem);
    const identity = {
      certPem,
      certFile: this.pki.write(`${this.udid}-${x509.serialNumber}.pem`, certPem),
      keyFile: message.requester.key,
      serial: x509.serialNumber,
      fingerprint: x509.fingerprint256.replaceAll(':', '').toLowerCase(),
    };
    this.use(identity);
    return { certRep, identity };
  }

  /** Speaks with this identity from now on. */
  use(identity: Identity): void {
    this.identity = identity;
    this.signer = new MdmSigner(identity.certPem, readFileSync(identity.keyFile, 'utf8'));
  }

  /** A check-in to the profile's CheckInURL (or ServerURL), signed like a device with SignMessage. */
  checkin(profile: ProfileContents, message: PlistDict): Promise<HttpReply> {
    return this.send(String(profile.mdm.CheckInURL ?? profile.mdm.ServerURL), { UDID: this.udid, ...message }, CHECKIN);
  }

  /** A command report to the profile's ServerURL. */
  report(profile: ProfileContents, message: PlistDict): Promise<HttpReply> {
    return this.send(String(profile.mdm.ServerURL), { UDID: this.udid, ...message }, REPORT);
  }

  private send(url: string, message: PlistDict, contentType: string): Promise<HttpReply> {
    if (this.signer === undefined) throw new Error('no identity yet');
    const body = encodePlist(message);
    return this.transport(new URL(url), { method: 'PUT', body, headers: { 'content-type': contentType, 'mdm-signature': this.signer.sign(body) } });
  }
}
