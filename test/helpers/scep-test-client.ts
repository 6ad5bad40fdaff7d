// A SCEP client for tests, built from parts independent of the server's: keys, CSRs, self-signed
// signer certificates and the encrypted envelope come from the openssl CLI (`openssl cms -encrypt`,
// with `-stream` for indefinite-length BER as Apple devices send), the SignedData around it is
// assembled here with asn1js and signed with node:crypto, and replies are read with pkijs and
// checked, decrypted and unpacked with openssl again.
import { createHash, createPrivateKey, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { OpensslPki } from './openssl-pki.ts';

export type ScepCipher = 'aes128' | 'aes256' | 'des3' | 'des';
export type ScepDigest = 'sha1' | 'sha256';

export const MESSAGE_TYPE = { PKCSReq: 19, RenewalReq: 17, CertPoll: 20 } as const;

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
};

/** What the client holds for one request: the key to certify and the certificate that signs. */
export interface Requester {
  /** PEM private key of the key to certify. */
  readonly key: string;
  /** PEM certificate and key that sign the message (self-signed for PKCSReq). */
  readonly signerCert: string;
  readonly signerKey: string;
}

export interface RequestOptions {
  messageType?: number;
  digest?: ScepDigest;
  cipher?: ScepCipher;
  /** Indefinite-length BER envelope (openssl -stream) and outer SignedData, as Apple devices send. */
  ber?: boolean;
  challenge?: string;
  /** Who signs: default a fresh self-signed certificate for the requested key. */
  signer?: { cert: string; key: string };
  /** Path of the key to certify; default one RSA 2048 key shared by all requests of this client. */
  key?: string;
  /** openssl's /TYPE=value/... form, one attribute per RDN. */
  subject?: string;
  /** Rewrites the envelope (the signed content) before it is signed, e.g. to corrupt it. */
  changeEnvelope?: (envelope: Buffer) => Buffer;
}

export interface ScepRequestMessage {
  readonly der: Buffer;
  readonly transactionId: string;
  readonly senderNonce: Buffer;
  readonly requester: Requester;
}

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
}

export interface CertRep {
  readonly messageType: string;
  readonly pkiStatus: string;
  readonly failInfo: string | undefined;
  readonly transactionId: string;
  readonly recipientNonce: Buffer;
  readonly senderNonce: Buffer;
  readonly digestOid: string;
  /** The encrypted content (EnvelopedData DER), absent on FAILURE. */
  readonly envelope: Buffer | undefined;
}

const LEGACY = ['-provider', 'legacy', '-provider', 'default'];

/** How the client reaches the server: fetch by default; an HTTPS server with a private CA needs another. */
export type HttpTransport = (url: URL, init: { method: string; body?: Uint8Array | string; headers?: Record<string, string> }) => Promise<HttpReply>;

export const fetchTransport: HttpTransport = async (url, init) => {
  const response = await fetch(url, init);
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body: Buffer.from(await response.arrayBuffer()) };
};

export class ScepTestClient {
  #counter = 0;

  constructor(
    private readonly pki: OpensslPki,
    /** Path of the CA certificate (PEM) that GetCACert returned. */
    private readonly caCert: string,
    private readonly url: string,
    private readonly transport: HttpTransport = fetchTransport,
  ) {}

  #defaultKey: string | undefined;

  /** A PKIOperation message as a real client builds it. */
  request(options: RequestOptions = {}): ScepRequestMessage {
    const n = ++this.#counter;
    // Key generation is the slow part of a request; one key serves every test that does not care.
    const key = options.key ?? (this.#defaultKey ??= this.pki.newKey('client', 'rsa'));
    const subject = options.subject ?? `/CN=scep-test-${n}/O=Aspen Tests`;
    const config = [
      '[req]',
      'distinguished_name = dn',
      'attributes = attrs',
      'prompt = no',
      // The subject goes here, not in -subj: with -subj openssl leaves out the attributes.
      '[dn]',
      ...subject.split('/').filter(Boolean).map((rdn) => rdn.replace('=', ' = ')),
      '[attrs]',
      ...(options.challenge !== undefined ? [`challengePassword = ${options.challenge}`] : []),
      '',
    ].join('\n');
    const configFile = this.pki.write(`req-${n}.cnf`, config);
    const csr = this.pki.openssl(['req', '-new', '-config', configFile, '-key', key, '-outform', 'DER']);
    const signer = options.signer ?? this.#selfSigned(key, n);

    const csrFile = this.pki.write(`csr-${n}.der`, csr);
    const cipher = options.cipher ?? 'aes128';
    let envelope = this.pki.openssl([
      'cms', '-encrypt', '-binary', '-in', csrFile, '-outform', 'DER', '-recip', this.caCert, `-${cipher}`,
      ...(options.ber ? ['-stream'] : []),
      ...(cipher === 'des' ? LEGACY : []),
    ]);
    if (options.changeEnvelope) envelope = options.changeEnvelope(envelope);

    const transactionId = createHash('sha256').update(`${n}-${Date.now()}`).digest('hex');
    const senderNonce = randomBytes(16);
    const der = signedMessage({
      content: envelope,
      digest: options.digest ?? 'sha256',
      ber: options.ber ?? false,
      signerCertPem: readFileSync(signer.cert, 'utf8'),
      signerKeyPem: readFileSync(signer.key, 'utf8'),
      attributes: [
        attribute(OID.messageType, new asn1js.PrintableString({ value: String(options.messageType ?? MESSAGE_TYPE.PKCSReq) })),
        attribute(OID.transactionID, new asn1js.PrintableString({ value: transactionId })),
        attribute(OID.senderNonce, new asn1js.OctetString({ valueHex: senderNonce })),
      ],
    });
    return { der, transactionId, senderNonce, requester: { key, signerCert: signer.cert, signerKey: signer.key } };
  }

  /** Sends a PKIOperation by POST (the body) or GET (base64 in the query). */
  async send(message: Uint8Array, method: 'POST' | 'GET' = 'POST'): Promise<HttpReply> {
    const target = new URL(this.url);
    target.searchParams.set('operation', 'PKIOperation');
    if (method === 'GET') target.searchParams.set('message', Buffer.from(message).toString('base64'));
    return this.transport(target, { method, ...(method === 'POST' && { body: message, headers: { 'content-type': 'application/x-pki-message' } }) });
  }

  async operation(operation: string, query: Record<string, string> = {}): Promise<HttpReply> {
    const target = new URL(this.url);
    target.searchParams.set('operation', operation);
    for (const [name, value] of Object.entries(query)) target.searchParams.set(name, value);
    return this.transport(target, { method: 'GET' });
  }

  /**
   * Checks the CertRep's signature with openssl against the CA certificate and reads its
   * attributes with pkijs.
   */
  readCertRep(body: Buffer): CertRep {
    const file = this.pki.write(`certrep-${++this.#counter}.der`, body);
    const empty = this.pki.write('empty', '');
    const envelope = this.pki.openssl([
      'cms', '-verify', '-inform', 'DER', '-in', file, '-CAfile', this.caCert, '-purpose', 'any', '-binary',
      // A FAILURE carries no content; its messageDigest covers zero bytes.
      ...(hasContent(body) ? [] : ['-content', empty]),
    ]);
    return { ...this.peekCertRep(body), envelope: hasContent(body) ? envelope : undefined };
  }

  /** Reads a CertRep's attributes with pkijs, without checking its signature. */
  peekCertRep(body: Buffer): Omit<CertRep, 'envelope'> {
    const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(body).content });
    const signerInfo = signed.signerInfos[0]!;
    const values = new Map((signerInfo.signedAttrs?.attributes ?? []).map((a) => [a.type, a.values[0]] as const));
    const text = (oid: string) => {
      const value = values.get(oid);
      return value === undefined ? undefined : String((value as asn1js.PrintableString).valueBlock.value);
    };
    const octets = (oid: string) => Buffer.from((values.get(oid) as asn1js.OctetString).valueBlock.valueHexView);
    return {
      messageType: text(OID.messageType) ?? '',
      pkiStatus: text(OID.pkiStatus) ?? '',
      failInfo: text(OID.failInfo),
      transactionId: text(OID.transactionID) ?? '',
      recipientNonce: octets(OID.recipientNonce),
      senderNonce: octets(OID.senderNonce),
      digestOid: signerInfo.digestAlgorithm.algorithmId,
    };
  }

  /** Decrypts a SUCCESS reply's envelope with the requester's signer key; returns the issued certificate's PEM path. */
  issuedCertificate(reply: CertRep, requester: Requester): string {
    if (reply.envelope === undefined) throw new Error('no envelope in this CertRep');
    const n = ++this.#counter;
    const envelopeFile = this.pki.write(`reply-envelope-${n}.der`, reply.envelope);
    const degenerate = this.pki.openssl([
      'cms', '-decrypt', '-inform', 'DER', '-in', envelopeFile, '-recip', requester.signerCert, '-inkey', requester.signerKey, '-binary', ...LEGACY,
    ]);
    const degenerateFile = this.pki.write(`reply-degenerate-${n}.der`, degenerate);
    const pem = this.pki.openssl(['pkcs7', '-inform', 'DER', '-in', degenerateFile, '-print_certs']).toString();
    return this.pki.write(`issued-${n}.pem`, pem);
  }

  /** Content-encryption algorithm OID of an EnvelopedData (what openssl cms -cmsout -print shows). */
  envelopeCipher(envelope: Buffer): string {
    const file = this.pki.write(`envelope-${++this.#counter}.der`, envelope);
    const printed = this.pki.openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file]).toString();
    const match = /contentEncryptionAlgorithm:\s*\n\s*algorithm: ([^ \n]+)/.exec(printed);
    if (!match) throw new Error(`no contentEncryptionAlgorithm in\n${printed}`);
    return match[1]!.trim();
  }

  #selfSigned(key: string, n: number): { cert: string; key: string } {
    const cert = this.pki.write(`self-${n}.pem`, '');
    this.pki.openssl(['req', '-x509', '-config', 'req.cnf', '-key', key, '-subj', `/CN=SCEP requester ${n}`, '-days', '1', '-out', cert]);
    return { cert, key };
  }
}

function hasContent(certRep: Buffer): boolean {
  const signed = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(certRep).content });
  return signed.encapContentInfo.eContent !== undefined;
}

function attribute(type: string, value: asn1js.BaseBlock): asn1js.Sequence {
  return new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: type }), new asn1js.Set({ value: [value] })] });
}

interface SignedMessageSpec {
  content: Buffer;
  digest: ScepDigest;
  ber: boolean;
  signerCertPem: string;
  signerKeyPem: string;
  attributes: asn1js.Sequence[];
}

/** ContentInfo { SignedData } around `content`, signed with signed attributes as SCEP requires. */
function signedMessage(spec: SignedMessageSpec): Buffer {
  const certificate = pkijs.Certificate.fromBER(pemToDer(spec.signerCertPem));
  const attributes = [
    attribute(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })),
    attribute(OID.messageDigest, new asn1js.OctetString({ valueHex: createHash(spec.digest).update(spec.content).digest() })),
    ...spec.attributes,
  ];
  // DER orders a SET OF by encoding; the signature covers exactly that encoding, SET-tagged.
  const sorted = attributes.sort((a, b) => Buffer.compare(Buffer.from(a.toBER()), Buffer.from(b.toBER())));
  const signature = sign(spec.digest, Buffer.from(new asn1js.Set({ value: sorted }).toBER()), createPrivateKey(spec.signerKeyPem));
  const signedAttrs = new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: sorted });
  const algorithm = (oid: string) => new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: oid }), new asn1js.Null()] });

  const signerInfo = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Sequence({ value: [certificate.issuer.toSchema(), certificate.serialNumber] }),
      algorithm(OID[spec.digest]),
      signedAttrs,
      algorithm(OID.rsaEncryption),
      new asn1js.OctetString({ valueHex: signature }),
    ],
  });
  const lenBlock = { isIndefiniteForm: spec.ber };
  // A BER sender splits the content into segments of a constructed OCTET STRING.
  const eContent = spec.ber
    ? new asn1js.Constructed({
        idBlock: { tagClass: 1, tagNumber: 4 },
        lenBlock,
        value: segments(spec.content, 1000).map((segment) => new asn1js.OctetString({ valueHex: segment })),
      })
    : new asn1js.OctetString({ valueHex: spec.content });
  const signedData = new asn1js.Sequence({
    lenBlock,
    value: [
      new asn1js.Integer({ value: 1 }),
      new asn1js.Set({ value: [algorithm(OID[spec.digest])] }),
      new asn1js.Sequence({
        lenBlock,
        value: [new asn1js.ObjectIdentifier({ value: OID.data }), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, lenBlock, value: [eContent] })],
      }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, value: [asn1js.fromBER(pemToDer(spec.signerCertPem)).result] }),
      new asn1js.Set({ value: [signerInfo] }),
    ],
  });
  const contentInfo = new asn1js.Sequence({
    lenBlock,
    value: [new asn1js.ObjectIdentifier({ value: OID.signedData }), new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, lenBlock, value: [signedData] })],
  });
  return Buffer.from(contentInfo.toBER());
}

function segments(bytes: Buffer, size: number): Buffer[] {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  return parts;
}

/** The DER of the first PEM block in `pem` (openssl may print subject and issuer lines before it). */
export function pemToDer(pem: string): Buffer {
  const body = /-----BEGIN [^-]+-----([^-]+)-----END /.exec(pem)?.[1];
  if (body === undefined) throw new Error('no PEM block');
  return Buffer.from(body.replace(/\s+/g, ''), 'base64');
}
