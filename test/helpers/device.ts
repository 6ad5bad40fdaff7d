// A test device: speaks the MDM wire protocol to a server over real HTTP.
import { readFileSync } from 'node:fs';
import { encodePlist, decodePlistDict, type PlistDict } from '../../src/protocol/plist.ts';

export const FIXTURES = new URL('../fixtures/', import.meta.url);

export function fixture(path: string): Buffer {
  return readFileSync(new URL(path, FIXTURES));
}

export interface DeviceResponse {
  status: number;
  body: Buffer;
  contentType: string | null;
  /** The body as a plist dictionary (throws if it is not one). */
  plist(): PlistDict;
  text(): string;
}

export async function put(url: string, body: string | Uint8Array, contentType: string, headers: Record<string, string> = {}): Promise<DeviceResponse> {
  const res = await fetch(url, { method: 'PUT', body, headers: { 'content-type': contentType, ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    body: bytes,
    contentType: res.headers.get('content-type'),
    plist: () => decodePlistDict(bytes),
    text: () => bytes.toString('utf8'),
  };
}

export const CHECKIN = 'application/x-apple-aspen-mdm-checkin';
export const REPORT = 'application/x-apple-aspen-mdm; charset=UTF-8';

/** A server the test device talks to; `deviceHeaders` signs each body as its device would. */
export interface DeviceTarget {
  url: string;
  deviceHeaders?: (body: Uint8Array | string) => Record<string, string>;
}

function send(server: DeviceTarget, path: string, message: PlistDict | string | Uint8Array, contentType: string) {
  const body = typeof message === 'object' && !(message instanceof Uint8Array) ? encodePlist(message) : message;
  return put(server.url + path, body, contentType, server.deviceHeaders?.(body));
}

export function checkin(server: DeviceTarget, message: PlistDict | string | Uint8Array, path = '/mdm') {
  return send(server, path, message, CHECKIN);
}

export function report(server: DeviceTarget, message: PlistDict | string | Uint8Array) {
  return send(server, '/mdm', message, REPORT);
}

/** Enrolls a device channel: Authenticate then TokenUpdate. */
export async function enroll(server: DeviceTarget, udid: string, extra: PlistDict = {}): Promise<void> {
  const auth = await checkin(server, { MessageType: 'Authenticate', UDID: udid, Topic: TOPIC, ...extra });
  if (auth.status !== 200) throw new Error(`Authenticate failed: ${auth.status} ${auth.text()}`);
  const tu = await checkin(server, tokenUpdate({ UDID: udid }));
  if (tu.status !== 200) throw new Error(`TokenUpdate failed: ${tu.status} ${tu.text()}`);
}

export const TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';

export function tokenUpdate(ids: PlistDict, extra: PlistDict = {}): PlistDict {
  return {
    MessageType: 'TokenUpdate',
    Topic: TOPIC,
    Token: Buffer.from('a1b2c3d4e5f6', 'hex'),
    PushMagic: 'PUSH-MAGIC-1',
    ...ids,
    ...extra,
  };
}

/** Queues a raw command plist through the NanoMDM-compatible admin endpoint. */
export async function enqueue(server: { url: string; apiKey: string }, ids: string[], command: PlistDict): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/v1/enqueue/${ids.join(',')}`, {
    method: 'PUT',
    body: encodePlist(command),
    headers: { authorization: `Bearer ${server.apiKey}` },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

export function command(uuid: string, requestType: string, extra: PlistDict = {}): PlistDict {
  return { CommandUUID: uuid, Command: { RequestType: requestType, ...extra } };
}

export async function getCommand(server: { url: string; apiKey: string }, uuid: string) {
  const res = await fetch(`${server.url}/v1/commands/${uuid}`, { headers: { authorization: `Bearer ${server.apiKey}` } });
  return { status: res.status, json: (await res.json()) as CommandJson };
}

export interface CommandJson {
  command_uuid: string;
  request_type: string;
  command: Record<string, unknown>;
  targets: {
    enrollment_id: string;
    state: string;
    notnow_count: number;
    result: Record<string, unknown> | null;
    error_chain: unknown[] | null;
  }[];
}
