// Worked examples of the accounts, tokens and audit routes (see examples.ts, which holds them with
// every other route's).
import type { RouteExample } from './examples.ts';

const ANN = { id: '5E1D2C3B-4A5F-4E6D-8C7B-9A0B1C2D3E4F', name: 'ann', role: 'operator', created_at: '2025-06-15T08:00:00.000Z', updated_at: '2025-06-15T08:00:00.000Z', password_changed_at: '2025-06-15T08:00:00.000Z' };
const TOKEN = {
  id: '7A8B9C0D-1E2F-4A3B-8C4D-5E6F7A8B9C0D',
  account: 'ann',
  name: 'deploy script',
  created_at: '2025-06-15T08:05:00.000Z',
  created_by: 'ann',
  expires_at: null,
  last_used_at: '2025-06-15T09:00:00.000Z',
};
const ENTRY = {
  seq: 42,
  at: '2025-06-15T09:00:00.123Z',
  actor: 'ann',
  via: 'token',
  account_id: ANN.id,
  credential: TOKEN.id,
  action: 'command.queue',
  method: 'POST',
  path: '/v1/commands',
  status: 201,
  outcome: 'ok',
  targets: [
    { kind: 'enrollment', id: '00008110-000A1C2E3C41801E' },
    { kind: 'command', id: '0001_DeviceInformation' },
  ],
  details: { request_type: 'DeviceInformation' },
  client_address: '192.0.2.10',
};

export const ACCOUNT_EXAMPLES: Record<string, RouteExample> = {
  'POST /v1/tokens': {
    path: '/v1/tokens',
    body: { name: 'deploy script' },
    status: 201,
    response: { ...TOKEN, last_used_at: null, token: 'aspen_Q2hhbmdlIG1lIGJlZm9yZSB1c2luZyB0aGlzIGV4YW1wbGU' },
  },
  'GET /v1/tokens': { path: '/v1/tokens', status: 200, response: { tokens: [TOKEN] } },
  'DELETE /v1/tokens/{id}': { path: `/v1/tokens/${TOKEN.id}`, status: 200, response: TOKEN },
  'GET /v1/accounts': { path: '/v1/accounts', status: 200, response: { accounts: [ANN] } },
  'POST /v1/accounts': { path: '/v1/accounts', body: { name: 'ann', role: 'operator', password: 'correct horse battery staple' }, status: 201, response: ANN },
  'PATCH /v1/accounts/{name}': { path: '/v1/accounts/ann', body: { role: 'admin' }, status: 200, response: { ...ANN, role: 'admin', updated_at: '2025-06-16T08:00:00.000Z' } },
  'DELETE /v1/accounts/{name}': { path: '/v1/accounts/ann', status: 200, response: ANN },
  'GET /v1/audit': { path: '/v1/audit?action=command.queue&since=2025-06-15T00:00:00Z&limit=1', status: 200, response: { entries: [ENTRY], next_cursor: 'NDI' } },
};
