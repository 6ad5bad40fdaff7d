// Declarative Device Management answers until Aspen manages declarations: a well-formed, stable
// "nothing declared" set, so DDM-capable devices sync cleanly instead of erroring.
import { createHash } from 'node:crypto';
import { DeviceRequestError, emptyReply, jsonReply, type DeviceReply, type RequestSummary } from './device-reply.ts';

const NOTHING_DECLARED = { Activations: [], Assets: [], Configurations: [], Management: [] };
// The token must only change when the declarations do, or every device re-syncs on each check-in.
const DECLARATIONS_TOKEN = createHash('sha256').update(JSON.stringify(NOTHING_DECLARED)).digest('hex');
const SYNC_TIMESTAMP = '1970-01-01T00:00:00Z';

export function declarativeManagementReply(endpoint: string, summary: Omit<RequestSummary, 'outcome'>): DeviceReply {
  if (endpoint === 'tokens') {
    return jsonReply(
      { SyncTokens: { DeclarationsToken: DECLARATIONS_TOKEN, Timestamp: SYNC_TIMESTAMP } },
      { ...summary, outcome: 'tokens' },
    );
  }
  if (endpoint === 'declaration-items') {
    return jsonReply(
      { Declarations: NOTHING_DECLARED, DeclarationsToken: DECLARATIONS_TOKEN },
      { ...summary, outcome: 'declaration-items' },
    );
  }
  if (endpoint === 'status') return emptyReply({ ...summary, outcome: 'status report received' });
  if (endpoint.startsWith('declaration/')) {
    // 404 is the protocol's "no such declaration": the device deletes its copy.
    return { status: 404, body: null, summary: { ...summary, outcome: 'no such declaration' } };
  }
  throw new DeviceRequestError(400, `unknown DeclarativeManagement Endpoint ${JSON.stringify(endpoint)}`, summary);
}
