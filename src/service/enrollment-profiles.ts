// The enrollment profiles Aspen serves: a SCEP payload with the given challenge, the MDM payload
// naming PUBLIC_URL and the push certificate's topic, and the private TLS CA when configured;
// signed when a signer is configured. The same profile, with a device's own one-time challenge,
// renews that device's identity (identity-renewal.ts).
//
// Every profile this server serves has the same PayloadIdentifier (derived from PUBLIC_URL's host),
// so a profile installed again (a renewal) replaces the one there. What a profile update may not
// change (Topic, ServerURL, CheckInURL, AccessRights added, ServerCapabilities' per-user
// connections) comes from the configuration, so it stays the same while the configuration does.
import {
  buildEnrollmentProfile,
  signProfile,
  type EnrollmentProfileOptions,
  type ProfileSigner,
} from '../enrollment/index.ts';

/** What Aspen implements of the optional parts of the protocol (docs/protocol.md): user channels
 *  and bootstrap tokens. `com.apple.mdm.token` is left out until GetToken is served. */
export const SERVER_CAPABILITIES = ['com.apple.mdm.per-user-connections', 'com.apple.mdm.bootstraptoken'] as const;

export interface EnrollmentProfileSettings {
  /** PUBLIC_URL without a trailing slash; undefined: enrollment is off. */
  publicUrl: string | undefined;
  organization: string | undefined;
  signMessage: boolean;
  accessRights: number;
  trustCaDer: Uint8Array | undefined;
  /** null: profiles are served unsigned. */
  signer: ProfileSigner | null;
}

/** Enrollment needs PUBLIC_URL, and it is not set. */
export class EnrollmentUnavailableError extends Error {
  override readonly name = 'EnrollmentUnavailableError';
  constructor() {
    super('enrollment needs PUBLIC_URL (the https:// address devices reach this server at): set it and restart Aspen');
  }
}

/** A profile needs the push certificate's topic, and there is no push certificate. */
export class NoPushCertificateError extends Error {
  override readonly name = 'NoPushCertificateError';
  constructor() {
    super('no push certificate: an enrollment profile names its topic; upload one first (aspen pushcert upload, or PUT /v1/pushcert)');
  }
}

export class EnrollmentProfiles {
  constructor(
    private readonly settings: EnrollmentProfileSettings,
    /** The topic of the push certificate in use, or null when there is none. */
    private readonly topic: () => Promise<string | null>,
  ) {}

  get signed(): boolean {
    return this.settings.signer !== null;
  }

  /** The profile (signed DER, or the XML plist when unsigned) carrying `challenge`. */
  async build(challenge: string): Promise<Buffer> {
    const base = this.settings.publicUrl;
    if (base === undefined) throw new EnrollmentUnavailableError();
    const topic = await this.topic();
    if (topic === null) throw new NoPushCertificateError();
    const { host, hostname } = new URL(base);
    const options: EnrollmentProfileOptions = {
      identifier: profileIdentifier(hostname),
      displayName: `Device management (${host})`,
      ...(this.settings.organization !== undefined && { organization: this.settings.organization }),
      description: `Enrolls this device in the Aspen MDM server at ${host}.`,
      scep: { url: `${base}/scep`, challenge },
      mdm: {
        topic,
        serverUrl: `${base}/mdm`,
        checkInUrl: `${base}/checkin`,
        signMessage: this.settings.signMessage,
        accessRights: this.settings.accessRights,
        serverCapabilities: SERVER_CAPABILITIES,
      },
      ...(this.settings.trustCaDer !== undefined && { trustedCa: { der: this.settings.trustCaDer, name: `CA of ${host}` } }),
    };
    const { xml } = buildEnrollmentProfile(options);
    return this.settings.signer === null ? Buffer.from(xml, 'utf8') : signProfile(xml, this.settings.signer);
  }
}

/** Reverse-DNS of the host name, e.g. mdm.example.com → com.example.mdm.aspen (a single label or
 *  an IP address works too: localhost.aspen, 1.0.0.127.aspen). */
export function profileIdentifier(hostname: string): string {
  const labels = hostname
    .split('.')
    .reverse()
    .map((label) => label.replace(/[^A-Za-z0-9-]/g, '-'))
    .filter((label) => label !== '');
  return [...labels, 'aspen'].join('.');
}
