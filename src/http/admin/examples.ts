// One worked example per admin route, for /docs and /openapi.json: a request as an admin would
// send it and what Aspen answers. Kept apart from the route declarations so they read as one
// story (the same iPhone, Mac and command throughout); test/http/api-documentation.test.ts checks
// that every route has one and that each fits the route's schemas.

export interface RouteExample {
  /** The path with its query, e.g. `/v1/enrollments?state=enrolled&limit=2`. */
  path: string;
  /** A JSON body (raw-body routes show their `raw` text instead). */
  body?: unknown;
  status: number;
  /** Absent for a response without a body (204, 304). */
  response?: unknown;
}

const IPHONE = '00008110-000A1C2E3C41801E';
const MAC = '6C1F0A8E-2B3D-5E4F-9A7B-1C2D3E4F5A6B';
const MAC_USER = `${MAC}:B0D6B3C1-0B1A-4F0B-8C7E-2E4C9D0A1F3B`;
const UUID = '0001_DeviceInformation';
const TOPIC = 'com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9';
const APNS_ID = 'B7A2D1E3-9C4F-4A8B-8E6D-2F1C3B5A7D9E';

const iphoneSummary = {
  id: IPHONE,
  device_id: IPHONE,
  channel: 'device',
  type: 'device',
  state: 'enrolled',
  serial_number: 'F2LXK1ZZHG7F',
  platform: 'iOS',
  os_version: '18.1',
  user: null,
  topic: TOPIC,
  awaiting_configuration: false,
  has_unlock_token: true,
  has_bootstrap_token: false,
  first_seen_at: '2025-06-02T08:14:05.000Z',
  last_seen_at: '2025-06-15T09:30:12.000Z',
  last_status: 'Acknowledged',
  authenticated_at: '2025-06-02T08:14:05.000Z',
  token_updated_at: '2025-06-02T08:14:06.000Z',
  checked_out_at: null,
  push_token_invalid: false,
  last_push_at: '2025-06-15T09:30:10.000Z',
  last_push_result: `pushed ${APNS_ID}`,
};

const macUserSummary = {
  ...iphoneSummary,
  id: MAC_USER,
  device_id: MAC,
  channel: 'user',
  type: 'user',
  serial_number: null,
  platform: 'macOS',
  os_version: '15.1',
  user: { id: 'B0D6B3C1-0B1A-4F0B-8C7E-2E4C9D0A1F3B', short_name: 'ann', long_name: 'Ann Example' },
  has_unlock_token: false,
  authenticated_at: null,
};

const acknowledgedTarget = {
  enrollment_id: IPHONE,
  state: 'acknowledged',
  queued_at: '2025-06-15T09:30:09.000Z',
  updated_at: '2025-06-15T09:30:12.000Z',
  notnow_count: 0,
  result: {
    CommandUUID: UUID,
    Status: 'Acknowledged',
    UDID: IPHONE,
    QueryResponses: { SerialNumber: 'F2LXK1ZZHG7F', OSVersion: '18.1' },
  },
  error_chain: null,
};

const pushStatus = { status: { [IPHONE]: { push_result: APNS_ID }, [MAC]: { push_error: 'Unregistered' } } };

const queued = (uuid: string, requestType: string, state: 'queued' | 'notnow', notNow: number) => ({
  command_uuid: uuid,
  request_type: requestType,
  state,
  queued_at: '2025-06-15T10:02:00.000Z',
  updated_at: notNow > 0 ? '2025-06-15T10:05:31.000Z' : '2025-06-15T10:02:00.000Z',
  notnow_count: notNow,
});

/** Keyed by `METHOD /path` as the route declares it. */
export const ROUTE_EXAMPLES: Readonly<Record<string, RouteExample>> = {
  'POST /v1/commands': {
    path: '/v1/commands',
    body: { targets: [IPHONE, MAC], command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] }, command_uuid: UUID },
    status: 201,
    response: {
      command_uuid: UUID,
      request_type: 'DeviceInformation',
      targets: {
        [IPHONE]: { status: 'queued', push: { status: 'pushed', apns_id: APNS_ID } },
        [MAC]: { status: 'queued', push: { status: 'failed', reason: 'Unregistered' } },
      },
    },
  },
  'PUT /v1/enqueue/{ids}': {
    path: `/v1/enqueue/${IPHONE},${MAC}?nopush=1`,
    status: 200,
    response: {
      command_uuid: '5B3F8C2A-7E1D-4A9B-B6C4-0D2E8F1A3C5B',
      request_type: 'ProfileList',
      status: { [IPHONE]: { queued: true }, [MAC]: { queued: true } },
      no_push: true,
    },
  },
  'GET /v1/commands/{uuid}': {
    path: `/v1/commands/${UUID}?limit=2`,
    status: 200,
    response: {
      command_uuid: UUID,
      request_type: 'DeviceInformation',
      created_at: '2025-06-15T09:30:09.000Z',
      command: { CommandUUID: UUID, Command: { RequestType: 'DeviceInformation', Queries: ['SerialNumber', 'OSVersion'] } },
      targets: [
        { ...acknowledgedTarget, enrollment_id: MAC, state: 'queued', updated_at: '2025-06-15T09:30:09.000Z', result: null },
        acknowledgedTarget,
      ],
      next_cursor: 'IjAwMDA4MTEwLTAwMEExQzJFM0M0MTgwMUUi',
    },
  },
  'GET /v1/enrollments': {
    path: '/v1/enrollments?state=enrolled&limit=2',
    status: 200,
    response: { enrollments: [iphoneSummary, macUserSummary], next_cursor: 'IjZDMUYwQThFLTJCM0QtNUU0Ri05QTdCLTFDMkQzRTRGNUE2QiI' },
  },
  'GET /v1/enrollments/{id}': {
    path: `/v1/enrollments/${IPHONE}`,
    status: 200,
    response: {
      ...iphoneSummary,
      facts: { MessageType: 'Authenticate', UDID: IPHONE, SerialNumber: 'F2LXK1ZZHG7F', ProductName: 'iPhone14,2', OSVersion: '18.1', BuildVersion: '22B83', DeviceName: 'Ann’s iPhone', Topic: TOPIC },
      user_channels: [],
      identities: [
        {
          fingerprint: '3f1c9a0b7d2e4f6a8c1b3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a',
          subject: 'CN=00008110-000A1C2E3C41801E\nO=Example Corp',
          not_after: '2026-06-02T08:13:00.000Z',
          bound_at: '2025-06-02T08:14:05.000Z',
        },
      ],
    },
  },
  'DELETE /v1/enrollments/{id}/identities': {
    path: `/v1/enrollments/${IPHONE}/identities`,
    status: 200,
    response: { unbound: 1 },
  },
  'GET /v1/enrollments/{id}/queue': {
    path: `/v1/enrollments/${IPHONE}/queue`,
    status: 200,
    response: {
      enrollment_id: IPHONE,
      commands: [queued('7D1E9A3C-2B4F-4C6D-8E0A-1F3B5C7D9E2A', 'InstallProfile', 'notnow', 1), queued('9E2A7D1E-3C2B-4F4C-6D8E-0A1F3B5C7D9E', 'ProfileList', 'queued', 0)],
    },
  },
  'DELETE /v1/enrollments/{id}/queue': {
    path: `/v1/enrollments/${IPHONE}/queue`,
    status: 200,
    response: { cancelled: 2 },
  },
  'DELETE /v1/enrollments/{id}/queue/{uuid}': {
    path: `/v1/enrollments/${IPHONE}/queue/9E2A7D1E-3C2B-4F4C-6D8E-0A1F3B5C7D9E`,
    status: 200,
    response: { cancelled: 1 },
  },
  'GET /v1/enrollments/{id}/commands': {
    path: `/v1/enrollments/${IPHONE}/commands?limit=1`,
    status: 200,
    response: { commands: [{ ...acknowledgedTarget, command_uuid: UUID, request_type: 'DeviceInformation' }], next_cursor: 'MTI' },
  },
  'GET /v1/pushcert': {
    path: '/v1/pushcert',
    status: 200,
    response: { topic: TOPIC, not_after: '2026-02-10T17:44:47.000Z' },
  },
  'PUT /v1/pushcert': {
    path: '/v1/pushcert',
    status: 200,
    response: { topic: TOPIC, not_after: '2026-02-10T17:44:47.000Z' },
  },
  'GET /v1/push/{ids}': {
    path: `/v1/push/${IPHONE},${MAC}`,
    status: 200,
    response: pushStatus,
  },
  'POST /v1/push/{ids}': {
    path: `/v1/push/${IPHONE},${MAC}`,
    status: 200,
    response: pushStatus,
  },
};
