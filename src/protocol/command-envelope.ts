// The envelope of a command handed to a device: `{CommandUUID, Command: {RequestType, ...}}`.
// Pure. Used for raw plists posted by admins (NanoMDM-compatible enqueue).
import { randomUUID } from 'node:crypto';
import { decodePlistDict, isDict, PlistError } from './plist.ts';

export interface CommandEnvelope {
  uuid: string;
  requestType: string;
  /** The bytes to hand to devices. */
  payload: Uint8Array;
}

/**
 * What a CommandUUID chosen by an admin may be, in a raw plist and in JSON alike: it names the
 * command in URL paths (`GET /v1/commands/{uuid}`, `DELETE .../queue/{uuid}`) and in log lines, so
 * it is kept to URL-safe characters and a length any request line carries. UUIDs, and Apple's own
 * examples (`0001_DeviceInformation`), fit.
 */
export const COMMAND_UUID_RULE = {
  maxLength: 200,
  pattern: /^[A-Za-z0-9._~-]+$/,
  description: '1 to 200 characters: letters, digits, "-", ".", "_" and "~"',
} as const;

/** Why `uuid` cannot be a CommandUUID, or undefined when it can. */
export function commandUuidProblem(uuid: string): string | undefined {
  if (uuid.length === 0 || uuid.length > COMMAND_UUID_RULE.maxLength || !COMMAND_UUID_RULE.pattern.test(uuid)) {
    return `must be ${COMMAND_UUID_RULE.description}`;
  }
  return undefined;
}

/**
 * Checks a raw command plist and gives it a CommandUUID if it has none. The admin's bytes are kept
 * as they are (a parse/re-build round trip would turn `<real>1.0</real>` into `<integer>`), so a
 * missing CommandUUID is inserted as text right after the root `<dict>` and the result re-checked.
 * Admin input must be fully readable: a value the device could not read either (`<date>` that is
 * no date) is refused with its key path rather than queued.
 */
export function prepareRawCommand(body: Uint8Array | string, newUuid: () => string = randomUUID): CommandEnvelope {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
  const plist = decodePlistDict(text, { unreadable: 'refuse' });
  const command = plist.Command;
  if (!isDict(command)) throw new PlistError('command plist has no Command dictionary');
  const requestType = command.RequestType;
  if (typeof requestType !== 'string' || requestType === '') throw new PlistError('missing or not a non-empty string', 'Command.RequestType');
  const existing = plist.CommandUUID;
  if (existing !== undefined) {
    const problem = typeof existing === 'string' ? commandUuidProblem(existing) : 'must be a string';
    if (problem !== undefined) throw new PlistError(problem, 'CommandUUID');
    return { uuid: existing as string, requestType, payload: Buffer.from(text, 'utf8') };
  }
  const uuid = newUuid();
  const root = /<plist[^>]*>\s*<dict>/.exec(text);
  if (root === null) throw new PlistError('command plist root is not a <dict>');
  const at = root.index + root[0].length;
  const withUuid = `${text.slice(0, at)}\n\t<key>CommandUUID</key>\n\t<string>${uuid}</string>${text.slice(at)}`;
  if (decodePlistDict(withUuid).CommandUUID !== uuid) throw new PlistError('could not add a CommandUUID to the plist');
  return { uuid, requestType, payload: Buffer.from(withUuid, 'utf8') };
}

const MDM_PAYLOAD_TYPE = Buffer.from('<string>com.apple.mdm</string>');

/**
 * Whether a command installs a profile with an MDM payload (which replaces the enrollment and, with
 * SCEP/ACME, the device identity). Signed profiles keep their XML readable inside the CMS, so a
 * byte search finds the payload type in both forms.
 */
export function installsMdmProfile(commandPlist: Uint8Array): boolean {
  const command = decodePlistDict(commandPlist).Command;
  if (!isDict(command) || command.RequestType !== 'InstallProfile' || !(command.Payload instanceof Uint8Array)) return false;
  return Buffer.from(command.Payload).includes(MDM_PAYLOAD_TYPE);
}
