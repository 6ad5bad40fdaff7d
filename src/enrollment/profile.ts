// The enrollment profile (.mobileconfig): a SCEP payload that has the device request its identity,
// a com.apple.mdm payload that names that identity and the server's URLs, and, for a server whose
// TLS certificate comes from a private CA, that CA as a trust payload. See docs/protocol.md §8 and §15.
//
// PayloadIdentifiers are derived from one stable identifier, so a profile served again (a new
// challenge, a renewed identity) replaces the installed one instead of sitting next to it; the
// PayloadUUIDs are fresh every time, as Apple expects of a changed profile.
import { randomUUID } from 'node:crypto';
import { encodePlist, type PlistDict } from '../protocol/plist.ts';

/** The content type devices expect for a profile (docs/protocol.md §2). */
export const PROFILE_CONTENT_TYPE = 'application/x-apple-aspen-config';

/** Every right in the AccessRights bitmask (docs/protocol.md §8). */
export const ALL_ACCESS_RIGHTS = 8191;

/** One relative distinguished name of the requested subject, e.g. ['CN', 'device']. */
export type SubjectAttribute = readonly [type: string, value: string];

export interface EnrollmentProfileOptions {
  /**
   * Reverse-DNS identifier of the profile, the same on every profile this server serves (e.g.
   * "com.example.mdm"); payloads get ".scep", ".mdm" and ".trust" appended.
   */
  readonly identifier: string;
  readonly displayName?: string;
  readonly organization?: string;
  readonly description?: string;
  readonly scep: {
    /** The SCEP URL, e.g. https://mdm.example.com/scep */
    readonly url: string;
    readonly challenge: string;
    /**
     * Subject of the certificate the device requests. Default: O = organization (if any) and a
     * CN unique to this profile, which the caller can record to recognise the request later.
     */
    readonly subject?: readonly SubjectAttribute[];
    /** CA identifier sent with GetCACert; Aspen's SCEP ignores it. */
    readonly caName?: string;
  };
  readonly mdm: {
    /** APNs topic of the push certificate: com.apple.mgmt.… */
    readonly topic: string;
    readonly serverUrl: string;
    readonly checkInUrl?: string;
    /** Default true: every message carries an Mdm-Signature, so proxies may terminate TLS. */
    readonly signMessage?: boolean;
    /** Default all (8191). */
    readonly accessRights?: number;
    /** What the server implements (com.apple.mdm.per-user-connections, …); omitted if absent. */
    readonly serverCapabilities?: readonly string[];
  };
  /** DER of a CA certificate the device must trust, e.g. the private CA of the TLS certificate. */
  readonly trustedCa?: { readonly der: Uint8Array; readonly name?: string };
}

export interface EnrollmentProfile {
  /** The profile as an XML property list, unsigned (see signProfile). */
  readonly xml: string;
  readonly payloadUuid: string;
  /** PayloadUUID of the SCEP payload, which the MDM payload names as its identity. */
  readonly scepPayloadUuid: string;
  /** The subject the device will request. */
  readonly subject: readonly SubjectAttribute[];
}

/** Thrown for options no device would accept; a configuration or programming error. */
export class EnrollmentProfileError extends Error {
  override readonly name = 'EnrollmentProfileError';
}

/** Key Usage in the SCEP payload: 1 signing, 4 encryption (SCEP's reply is encrypted to the key). */
const SIGNING_AND_ENCRYPTION = 5;

export function buildEnrollmentProfile(options: EnrollmentProfileOptions): EnrollmentProfile {
  check(options);
  const { identifier, scep, mdm } = options;
  const subject = scep.subject ?? defaultSubject(options.organization);
  const uuid = () => randomUUID().toUpperCase();
  const scepPayloadUuid = uuid();
  const payloads: PlistDict[] = [];

  if (options.trustedCa) {
    payloads.push({
      ...payloadHeader('com.apple.security.root', `${identifier}.trust`, uuid(), options.trustedCa.name ?? 'Server CA'),
      PayloadCertificateFileName: 'server-ca.cer',
      PayloadContent: Buffer.from(options.trustedCa.der),
    });
  }
  payloads.push({
    ...payloadHeader('com.apple.security.scep', `${identifier}.scep`, scepPayloadUuid, 'Device identity'),
    PayloadContent: {
      URL: scep.url,
      Challenge: scep.challenge,
      Keysize: 2048,
      'Key Type': 'RSA',
      'Key Usage': SIGNING_AND_ENCRYPTION,
      Subject: subject.map(([type, value]) => [[type, value]]),
      ...(scep.caName !== undefined && { Name: scep.caName }),
    },
  });
  payloads.push({
    ...payloadHeader('com.apple.mdm', `${identifier}.mdm`, uuid(), 'Device management'),
    IdentityCertificateUUID: scepPayloadUuid,
    Topic: mdm.topic,
    ServerURL: mdm.serverUrl,
    ...(mdm.checkInUrl !== undefined && { CheckInURL: mdm.checkInUrl }),
    SignMessage: mdm.signMessage ?? true,
    AccessRights: mdm.accessRights ?? ALL_ACCESS_RIGHTS,
    CheckOutWhenRemoved: true,
    ...(mdm.serverCapabilities !== undefined && { ServerCapabilities: [...mdm.serverCapabilities] }),
  });

  const payloadUuid = uuid();
  const profile: PlistDict = {
    PayloadType: 'Configuration',
    PayloadVersion: 1,
    PayloadIdentifier: identifier,
    PayloadUUID: payloadUuid,
    PayloadDisplayName: options.displayName ?? 'Device management',
    ...(options.organization !== undefined && { PayloadOrganization: options.organization }),
    ...(options.description !== undefined && { PayloadDescription: options.description }),
    PayloadContent: payloads,
  };
  return { xml: encodePlist(profile), payloadUuid, scepPayloadUuid, subject };
}

function payloadHeader(type: string, identifier: string, uuid: string, displayName: string): PlistDict {
  return { PayloadType: type, PayloadVersion: 1, PayloadIdentifier: identifier, PayloadUUID: uuid, PayloadDisplayName: displayName };
}

function defaultSubject(organization: string | undefined): SubjectAttribute[] {
  return [...(organization !== undefined ? [['O', organization] as const] : []), ['CN', `Aspen enrollment ${randomUUID()}`]];
}

function check(options: EnrollmentProfileOptions): void {
  if (!/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(options.identifier)) {
    throw new EnrollmentProfileError(`profile identifier ${JSON.stringify(options.identifier)} is not reverse-DNS (e.g. com.example.mdm)`);
  }
  for (const [what, url] of [
    ['SCEP URL', options.scep.url],
    ['ServerURL', options.mdm.serverUrl],
    ['CheckInURL', options.mdm.checkInUrl],
  ] as const) {
    if (url !== undefined && !isHttpUrl(url)) throw new EnrollmentProfileError(`${what} ${JSON.stringify(url)} is not an http(s) URL`);
  }
  if (options.scep.challenge === '') throw new EnrollmentProfileError('the SCEP challenge is empty');
  for (const [type, value] of options.scep.subject ?? []) {
    if (type === '' || value === '') throw new EnrollmentProfileError('a subject attribute has an empty type or value');
  }
  if (!options.mdm.topic.startsWith('com.apple.mgmt.')) {
    throw new EnrollmentProfileError(`topic ${JSON.stringify(options.mdm.topic)} is not an MDM push topic (com.apple.mgmt.…)`);
  }
  const rights = options.mdm.accessRights ?? ALL_ACCESS_RIGHTS;
  const problem = accessRightsProblem(rights);
  if (problem !== undefined) throw new EnrollmentProfileError(`AccessRights ${problem}`);
}

/** Why an AccessRights bitmask would be refused by devices, or undefined when it is valid. */
export function accessRightsProblem(rights: number): string | undefined {
  // Installing profiles needs inspecting them (2 needs 1), likewise provisioning profiles (128 needs 64).
  if (!Number.isInteger(rights) || rights < 1 || rights > ALL_ACCESS_RIGHTS || (rights & 2 && !(rights & 1)) || (rights & 128 && !(rights & 64))) {
    return `${rights} is not a valid combination (1 to 8191; 2 needs 1, 128 needs 64)`;
  }
  return undefined;
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}
