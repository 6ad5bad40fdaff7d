// A simulated DDM-capable device: polls /mdm for commands, and when told to sync (the
// DeclarativeManagement command) does what a device does over the DeclarativeManagement check-in:
// compares tokens, fetches the declaration items, fetches each declaration whose token it does not
// hold, drops the ones no longer listed, and reports its status.
import assert from 'node:assert/strict';
import { decodePlistDict, type PlistDict } from '../../src/protocol/plist.ts';
import { checkin, report, tokenUpdate, type DeviceResponse, type DeviceTarget } from './device.ts';

export interface HeldDeclaration {
  kind: string;
  serverToken: string;
  document: { Type: string; Identifier: string; ServerToken: string; Payload: Record<string, unknown> };
}

interface ItemsResponse {
  Declarations: Record<'Activations' | 'Assets' | 'Configurations' | 'Management', { Identifier: string; ServerToken: string }[]>;
  DeclarationsToken: string;
}

const KINDS = { Activations: 'activation', Assets: 'asset', Configurations: 'configuration', Management: 'management' } as const;
const STATUS_LISTS = { activation: 'activations', asset: 'assets', configuration: 'configurations', management: 'management' } as const;

export class DdmDevice {
  /** What the device holds, by identifier. */
  readonly held = new Map<string, HeldDeclaration>();
  declarationsToken: string | undefined;

  constructor(
    readonly server: DeviceTarget,
    readonly udid: string,
    /** The status items its client supports, reported in client capabilities. */
    readonly statusItems: string[] = ['device.operating-system.version', 'device.model.family'],
  ) {}

  /** Authenticate and TokenUpdate with a push token of its own. */
  async enroll(extra: PlistDict = {}, topic?: string): Promise<void> {
    const auth = await checkin(this.server, { MessageType: 'Authenticate', UDID: this.udid, Topic: topic ?? 'com.apple.mgmt.test', ProductName: 'iPhone14,2', OSVersion: '18.1' });
    assert.equal(auth.status, 200, auth.text());
    this.held.clear();
    this.declarationsToken = undefined;
    const tu = await checkin(this.server, tokenUpdate({ UDID: this.udid }, { Token: this.pushToken, ...(topic ? { Topic: topic } : {}), ...extra }));
    assert.equal(tu.status, 200, tu.text());
  }

  get pushToken(): Buffer {
    return Buffer.from(this.udid.padEnd(8, '0').slice(0, 32), 'utf8');
  }

  ddm(endpoint: string, data?: unknown): Promise<DeviceResponse> {
    const message: PlistDict = { MessageType: 'DeclarativeManagement', UDID: this.udid, Endpoint: endpoint };
    if (data !== undefined) message.Data = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data));
    return checkin(this.server, message);
  }

  async json<T>(endpoint: string): Promise<T> {
    const res = await this.ddm(endpoint);
    assert.equal(res.status, 200, `${endpoint}: ${res.status} ${res.text()}`);
    assert.match(res.contentType ?? '', /^application\/json/);
    return JSON.parse(res.text()) as T;
  }

  /** Polls: Idle, then acknowledges every command it is given (syncing on DeclarativeManagement).
   *  Returns the RequestTypes it was handed, in order. */
  async poll(): Promise<string[]> {
    const handed: string[] = [];
    let res = await report(this.server, { Status: 'Idle', UDID: this.udid });
    while (res.body.length > 0) {
      const plist = decodePlistDict(res.body);
      const command = plist.Command as PlistDict;
      const requestType = command.RequestType as string;
      handed.push(requestType);
      if (requestType === 'DeclarativeManagement') await this.sync(command.Data as Uint8Array | undefined);
      res = await report(this.server, { Status: 'Acknowledged', UDID: this.udid, CommandUUID: plist.CommandUUID as string });
    }
    assert.equal(res.status, 200);
    return handed;
  }

  /**
   * A sync as a device runs it: the tokens (from the command's Data, else fetched), and when the
   * DeclarationsToken differs from the one it holds, the items, each new or changed declaration,
   * and a status report. Returns the identifiers it fetched.
   */
  async sync(data?: Uint8Array): Promise<string[]> {
    const tokens = data ? (JSON.parse(Buffer.from(data).toString()) as { SyncTokens: { DeclarationsToken: string } }) : await this.json<{ SyncTokens: { DeclarationsToken: string } }>('tokens');
    if (tokens.SyncTokens.DeclarationsToken === this.declarationsToken) return [];
    const items = await this.json<ItemsResponse>('declaration-items');
    // A command's tokens may be older than the set (a change coalesced into it); fetched ones are not.
    if (!data) assert.equal(items.DeclarationsToken, tokens.SyncTokens.DeclarationsToken, 'declaration-items and tokens agree');
    const listed = new Set<string>();
    const fetched: string[] = [];
    for (const [list, kind] of Object.entries(KINDS) as [keyof typeof KINDS, string][]) {
      for (const item of items.Declarations[list]) {
        listed.add(item.Identifier);
        if (this.held.get(item.Identifier)?.serverToken === item.ServerToken) continue;
        const document = await this.json<HeldDeclaration['document']>(`declaration/${kind}/${item.Identifier}`);
        assert.equal(document.ServerToken, item.ServerToken, `${item.Identifier}: the document has the token the items listed`);
        this.held.set(item.Identifier, { kind, serverToken: item.ServerToken, document });
        fetched.push(item.Identifier);
      }
    }
    for (const identifier of [...this.held.keys()]) if (!listed.has(identifier)) this.held.delete(identifier);
    this.declarationsToken = items.DeclarationsToken;
    const res = await this.ddm('status', this.statusReport());
    assert.equal(res.status, 200, res.text());
    assert.equal(res.body.length, 0);
    return fetched;
  }

  /** A full status report: every held declaration active and valid, and the client capabilities. */
  statusReport(overrides: Record<string, { active: boolean; valid: string; reasons?: unknown[] }> = {}): unknown {
    const declarations: Record<string, unknown[]> = { activations: [], assets: [], configurations: [], management: [] };
    for (const [identifier, held] of this.held) {
      const status = overrides[identifier] ?? { active: true, valid: 'valid' };
      declarations[STATUS_LISTS[held.kind as keyof typeof STATUS_LISTS]]!.push({ identifier, 'server-token': held.serverToken, ...status });
    }
    return {
      FullReport: true,
      StatusItems: {
        management: {
          declarations,
          'client-capabilities': { 'supported-versions': ['1.0.0'], 'supported-payloads': { 'status-items': this.statusItems } },
        },
        device: { 'operating-system': { version: '18.1' }, model: { family: 'iPhone' } },
      },
      Errors: [],
    };
  }
}
