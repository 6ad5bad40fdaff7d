// The bench's devices, commands and message bodies. Everything is a pure function of its inputs so
// that the orchestrator, the device simulator and the baseline server, each in its own process,
// agree on every id and every byte without talking to each other.
import { encodePlist, type PlistDict } from '../src/protocol/plist.ts';

export const TOPIC = 'com.apple.mgmt.External.5f0c2a4e-aspen-bench';
export const REPORT_CONTENT_TYPE = 'application/x-apple-aspen-mdm; charset=UTF-8';
export const CHECKIN_CONTENT_TYPE = 'application/x-apple-aspen-mdm-checkin';
export const COMMAND_CONTENT_TYPE = 'application/xml; charset=UTF-8';

/** A modern UDID's shape (25 characters: 8 hex, dash, 16 hex), so request sizes are realistic. */
export function udid(index: number): string {
  return `00008110-${index.toString(16).toUpperCase().padStart(16, '0')}`;
}

export function udids(count: number, step = 1): string[] {
  return Array.from({ length: count }, (_, i) => udid(i * step));
}

/** Command UUIDs are chosen by the bench (not the server) so device replies can be signed ahead. */
export function commandUuid(round: number, index: number): string {
  return `B0000000-0000-4000-8000-${String(round).padStart(6, '0')}${String(index).padStart(6, '0')}`;
}

export function roundCommands(round: number, perRound: number): string[] {
  return Array.from({ length: perRound }, (_, k) => commandUuid(round, k));
}

/** The exact bytes a device is handed for this command, by Aspen and by the baseline alike. */
export function commandPlist(uuid: string): string {
  return encodePlist({ CommandUUID: uuid, Command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] } });
}

function body(message: PlistDict): Buffer {
  return Buffer.from(encodePlist(message), 'utf8');
}

export const bodies = {
  authenticate: (id: string): Buffer =>
    body({ MessageType: 'Authenticate', UDID: id, Topic: TOPIC, SerialNumber: `SN${id.slice(-10)}`, ProductName: 'iPhone15,2', OSVersion: '17.4' }),
  tokenUpdate: (id: string): Buffer =>
    body({ MessageType: 'TokenUpdate', UDID: id, Topic: TOPIC, Token: pushToken(id), PushMagic: pushMagic(id) }),
  idle: (id: string): Buffer => body({ Status: 'Idle', UDID: id }),
  acknowledged: (id: string, uuid: string): Buffer => body({ Status: 'Acknowledged', UDID: id, CommandUUID: uuid }),
};

/**
 * An Acknowledged result of exactly `bytes` bytes whose one dictionary (`Items`, not a key the
 * server acts on) holds `keys` entries: the load, 4 MiB with 100,000 keys, as large as a
 * Mac's InstalledApplicationList or CertificateList can come. The entries are encoded once per
 * size, so a result costs its sender one copy of them (about 1 ms) rather than a build of the
 * whole text (10-20 ms of the simulator's CPU, taken from the machine the server is measured on).
 */
export function largeResult(id: string, uuid: string, bytes: number, keys: number): Buffer {
  const head = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n<dict>\n\t<key>CommandUUID</key>\n\t<string>${uuid}</string>\n\t<key>Items</key>\n\t<dict>\n`);
  const tail = Buffer.from(`\t</dict>\n\t<key>Status</key>\n\t<string>Acknowledged</string>\n\t<key>UDID</key>\n\t<string>${id}</string>\n</dict>\n</plist>\n`);
  return Buffer.concat([head, largeEntries(bytes - head.length - tail.length, keys), tail]);
}

const entryCache = new Map<string, Buffer>();

function largeEntries(bytes: number, keys: number): Buffer {
  const cacheKey = `${bytes}/${keys}`;
  let encoded = entryCache.get(cacheKey);
  if (encoded === undefined) {
    // One entry a line, unindented: 100,000 keys must fit in 4 MiB with room for their values.
    const entry = (i: number, value: string) => `<key>Key${String(i).padStart(6, '0')}</key><string>${value}</string>\n`;
    const valueLength = Math.floor(bytes / keys) - entry(0, '').length;
    if (valueLength < 1) throw new Error(`${keys} keys do not fit in ${bytes} bytes`);
    const text = Array.from({ length: keys }, (_, i) => entry(i, 'v'.repeat(valueLength))).join('');
    encoded = Buffer.from(text + ' '.repeat(bytes - text.length));
    entryCache.set(cacheKey, encoded);
  }
  return encoded;
}

export function pushToken(id: string): Buffer {
  return Buffer.from(id.replace(/[^0-9A-F]/g, '').padStart(64, '0'), 'hex');
}

export function pushMagic(id: string): string {
  return `magic-${id}`;
}
