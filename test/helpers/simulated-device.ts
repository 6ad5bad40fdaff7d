// A device that answers what Aspen queues for it, over real HTTP with a signed identity: it checks
// in Idle and acknowledges each command it gets (DeviceInformation with the queries answered from
// its inventory), until the server has nothing more. What the console's tests watch arrive.
import type { PlistDict } from '../../src/protocol/plist.ts';
import { enroll, report, type DeviceTarget } from './device.ts';

export class SimulatedDevice {
  /** Command UUIDs answered, in order. */
  readonly answered: string[] = [];

  constructor(
    private readonly server: DeviceTarget,
    readonly udid: string,
    readonly inventory: PlistDict,
  ) {}

  async enroll(): Promise<void> {
    await enroll(this.server, this.udid, { SerialNumber: String(this.inventory.SerialNumber ?? ''), ProductName: 'iPhone15,2', OSVersion: '17.4' });
  }

  /** One session: Idle, then an answer to every command until the server sends none. */
  async answerAll(): Promise<void> {
    let reply = await report(this.server, { UDID: this.udid, Status: 'Idle' });
    while (reply.status === 200 && reply.body.length > 0) {
      const command = reply.plist();
      const uuid = String(command.CommandUUID);
      const body = (command.Command ?? {}) as PlistDict;
      this.answered.push(uuid);
      reply = await report(this.server, { UDID: this.udid, Status: 'Acknowledged', CommandUUID: uuid, ...this.answerTo(body) });
    }
    if (reply.status !== 200) throw new Error(`the server answered ${reply.status}: ${reply.text()}`);
  }

  private answerTo(command: PlistDict): PlistDict {
    if (command.RequestType !== 'DeviceInformation') return {};
    const queries = Array.isArray(command.Queries) ? (command.Queries as string[]) : Object.keys(this.inventory);
    return { QueryResponses: Object.fromEntries(queries.filter((q) => q in this.inventory).map((q) => [q, this.inventory[q]!])) };
  }
}
