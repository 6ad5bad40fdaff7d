// The device's side of Declarative Device Management: the `DeclarativeManagement` check-in.
// `tokens` and `declaration-items` describe the enrollment's effective set (same DeclarationsToken in
// both), `declaration/<kind>/<identifier>` serves one of its declarations (404 when it is not, or no
// longer, in the set: the device then drops its copy), and `status` stores the device's report.
import { declarationDocument, declarationItemsResponse, findDeclaration, parseEndpoint, tokensResponse } from '../ddm/index.ts';
import type { ResolvedEnrollment } from '../protocol/enrollment-id.ts';
import type { DeclarativeCheckin } from './checkin.ts';
import type { DeclarativeSync } from './declarative-sync.ts';
import { DeviceRequestError, emptyReply, jsonReply, unknownEnrollment, type DeviceReply } from './device-reply.ts';
import type { StatusReports } from './status-reports.ts';

export class DeclarativeEndpoints implements DeclarativeCheckin {
  constructor(
    private readonly sync: DeclarativeSync,
    private readonly status: StatusReports,
  ) {}

  enrolled(enrollmentId: string): Promise<void> {
    return this.sync.enrolled(enrollmentId);
  }

  async reply(endpoint: string, data: Uint8Array | undefined, who: ResolvedEnrollment, at: Date): Promise<DeviceReply> {
    const summary = { enrollmentId: who.id, message: 'DeclarativeManagement' };
    const parsed = parseEndpoint(endpoint);
    switch (parsed.endpoint) {
      case 'tokens': {
        const served = await this.sync.served(who.id, at);
        return jsonReply(tokensResponse(served.declarations, served.changedAt), { ...summary, outcome: 'tokens' });
      }
      case 'declaration-items': {
        const served = await this.sync.served(who.id, at);
        return jsonReply(declarationItemsResponse(served.declarations), { ...summary, outcome: 'declaration-items' });
      }
      case 'declaration': {
        const found = findDeclaration(await this.sync.effective(who.id), parsed.kind, parsed.identifier);
        // 404 is the protocol's "no such declaration": the device deletes its copy.
        if (found === undefined) return { status: 404, body: null, summary: { ...summary, outcome: 'no such declaration' } };
        return jsonReply(declarationDocument(found), { ...summary, outcome: `declaration ${parsed.kind}/${parsed.identifier}` });
      }
      case 'status': {
        if (data === undefined) throw new DeviceRequestError(400, 'a status report without Data', summary);
        const recorded = await this.status.record(who.id, data, at);
        if (recorded.ok) return emptyReply({ ...summary, outcome: 'status report stored' });
        if (recorded.reason === 'unknown-enrollment') throw unknownEnrollment(who, 'DeclarativeManagement');
        throw new DeviceRequestError(400, `unreadable status report: ${recorded.message}`, summary);
      }
      case 'invalid':
        throw new DeviceRequestError(400, parsed.reason, summary);
    }
  }
}
