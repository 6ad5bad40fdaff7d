// The server's own device CA, used when the operator does not configure DEVICE_CA. It is created
// on first start in the data directory and reused afterwards; device identities (and later SCEP)
// are issued from it. Everything runs in-process: the server must not need the openssl CLI.
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildCertificate, issuerFrom, type CertificateIssuer } from './certificate-builder.ts';

export const DEVICE_CA_CERT_FILE = 'device-ca.pem';
export const DEVICE_CA_KEY_FILE = 'device-ca.key';
const DEVICE_CA_COMMON_NAME = 'Aspen Device CA';

const DAY_MS = 24 * 60 * 60 * 1000;
const CA_VALIDITY_DAYS = 3650;
const DEVICE_VALIDITY_DAYS = 365;
/** Certificates start an hour early so a device whose clock runs slow still accepts them. */
const CLOCK_SKEW_MS = 60 * 60 * 1000;
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const RSA_CA_KEY_BITS = 3072;

/** A device CA ready to issue certificates. */
export interface DeviceCa {
  readonly certPem: string;
  readonly certificate: X509Certificate;
  readonly issuer: CertificateIssuer;
}

export interface EnsuredDeviceCa {
  certPath: string;
  keyPath: string;
  /** True if this call generated the CA, false if it reused the files already there. */
  created: boolean;
}

/**
 * Makes sure `<dataDir>/device-ca.pem` and `<dataDir>/device-ca.key` hold a matching CA
 * certificate and key, generating them if neither exists yet.
 */
export async function ensureDeviceCa(dataDir: string): Promise<EnsuredDeviceCa> {
  const certPath = join(dataDir, DEVICE_CA_CERT_FILE);
  const keyPath = join(dataDir, DEVICE_CA_KEY_FILE);
  const [hasCert, hasKey] = await Promise.all([exists(certPath), exists(keyPath)]);
  if (hasCert && hasKey) {
    await loadDeviceCa(certPath, keyPath); // refuses a pair that does not belong together
    return { certPath, keyPath, created: false };
  }
  if (hasCert) {
    // Replacing the CA would orphan every device enrolled under it; that must be a human decision.
    throw new Error(`${certPath} exists but ${keyPath} does not; restore the key, or remove both to create a new device CA`);
  }
  // A key without a certificate is what an interrupted first start leaves (the key is written
  // first), so it is safe to start over.
  const { certPem, keyPem } = createDeviceCa();
  await mkdir(dataDir, { recursive: true });
  await writeFileAtomically(keyPath, keyPem, 0o600);
  await writeFileAtomically(certPath, certPem, 0o644);
  return { certPath, keyPath, created: true };
}

/**
 * Generates a key and a self-signed CA certificate valid for ten years. EC P-256 is the original
 * kind and still what `ensureDeviceCa` creates; a CA that issues through SCEP must be RSA, because
 * SCEP clients encrypt their requests to the CA's key (RSA key transport). RSA CAs get 3072 bits:
 * the CA outlives 2030, after which 2048-bit RSA is no longer considered enough.
 */
export function createDeviceCa(
  now: Date = new Date(),
  keyType: 'ec' | 'rsa' = 'ec',
  commonName: string = DEVICE_CA_COMMON_NAME,
): { certPem: string; keyPem: string } {
  const { publicKey, privateKey } =
    keyType === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: RSA_CA_KEY_BITS });
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const der = buildCertificate({
    commonName,
    publicKey,
    notBefore,
    notAfter: new Date(notBefore.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    issuer: { selfSignedWith: privateKey },
    isCa: true,
  });
  return { certPem: toPem(der), keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

export async function loadDeviceCa(certPath: string, keyPath: string): Promise<DeviceCa> {
  const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
  return deviceCaFromPem(certPem, keyPem);
}

export function deviceCaFromPem(certPem: string, keyPem: string): DeviceCa {
  const certificate = new X509Certificate(certPem);
  const privateKey = createPrivateKey(keyPem);
  if (!certificate.ca) throw new Error(`device CA certificate "${certificate.subject}" is not a CA`);
  if (!sameKey(certificate.publicKey, createPublicKey(privateKey))) {
    throw new Error(`device CA key does not belong to certificate "${certificate.subject}"`);
  }
  // Read on first issue, not here: reading the issuer's name takes pkijs, which every start would
  // then load (about 10 MB of memory) for a server that may never issue a certificate.
  let issuer: CertificateIssuer | undefined;
  return {
    certPem,
    certificate,
    get issuer() {
      return (issuer ??= issuerFrom(certificate.raw, privateKey));
    },
  };
}

interface DeviceCertificateFields {
  /** The device's own key (e.g. from a SCEP request). Without one a key pair is generated. */
  publicKey?: KeyObject;
  /** Type of the generated key when `publicKey` is absent. */
  keyType?: 'ec' | 'rsa';
  validityDays?: number;
  now?: Date;
  /** Content octets of a positive DER INTEGER; without one a random serial is chosen. */
  serialNumber?: Uint8Array;
}

/** The subject is a single CN, or a DER Name taken verbatim (e.g. a SCEP request's subject). */
export type DeviceCertificateRequest = DeviceCertificateFields & ({ commonName: string } | { subjectDer: Uint8Array });

/**
 * Issues a TLS client (device identity) certificate from `ca`. `keyPem` is returned only when the
 * key pair was generated here.
 */
export function issueDeviceCertificate(ca: DeviceCa, request: DeviceCertificateRequest): { certPem: string; keyPem?: string } {
  if (request.publicKey !== undefined) return { certPem: signDeviceCertificate(ca, request, request.publicKey) };
  const { publicKey, privateKey } = generateDeviceKey(request.keyType ?? 'ec');
  return {
    certPem: signDeviceCertificate(ca, request, publicKey),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

function signDeviceCertificate(ca: DeviceCa, request: DeviceCertificateRequest, publicKey: KeyObject): string {
  const notBefore = new Date((request.now ?? new Date()).getTime() - CLOCK_SKEW_MS);
  const requestedEnd = notBefore.getTime() + (request.validityDays ?? DEVICE_VALIDITY_DAYS) * DAY_MS;
  // A certificate that outlives its CA would be refused after the CA expires anyway.
  const notAfter = new Date(Math.min(requestedEnd, Date.parse(ca.certificate.validTo)));
  const der = buildCertificate({
    ...('subjectDer' in request ? { subjectDer: request.subjectDer } : { commonName: request.commonName }),
    publicKey,
    notBefore,
    notAfter,
    issuer: ca.issuer,
    isCa: false,
    extendedKeyUsage: [CLIENT_AUTH],
    ...(request.serialNumber && { serialNumber: request.serialNumber }),
  });
  return toPem(der);
}

function generateDeviceKey(keyType: 'ec' | 'rsa'): { publicKey: KeyObject; privateKey: KeyObject } {
  return keyType === 'ec'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ type: 'spki', format: 'der' }).equals(b.export({ type: 'spki', format: 'der' }));
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Write-then-rename, so a crash never leaves a half-written key or certificate behind. */
async function writeFileAtomically(path: string, contents: string, mode: number): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await rm(temporary, { force: true }); // `mode` only applies when writeFile creates the file
  await writeFile(temporary, contents, { mode });
  await rename(temporary, path);
}
