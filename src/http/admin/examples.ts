// One worked example per admin route, for /docs and /openapi.json: a request as an admin would
// send it and what Aspen answers. Kept apart from the route declarations so they read as one
// story (the same iPhone, Mac and command throughout); test/http/api-documentation.test.ts checks
// that every route has one and that each fits the route's schemas.

import { ACCOUNT_EXAMPLES } from './account-examples.ts';

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
const WEBHOOK = '3C9E1F2A-4B5D-4E6F-8A7B-9C0D1E2F3A4B';
const EVENT = '8F2D4A6C-1B3E-4D5F-9A7B-2C4E6F8A0B1D';

const webhook = {
  id: WEBHOOK,
  url: 'https://hooks.example.com/aspen',
  format: 'standard',
  topics: ['mdm.Authenticate', 'mdm.Connect'],
  include_secrets: false,
  enabled: true,
  disabled_reason: null,
  source: 'api',
  secret_hint: '…LaSw',
  created_at: '2025-06-15T08:00:00.000Z',
  updated_at: '2025-06-15T08:00:00.000Z',
};

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
  device_name: 'Ann’s iPhone',
  model: 'iPhone 13 Pro',
  supervised: true,
  multi_user: false,
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
  device_name: null,
  model: null,
  supervised: null,
  multi_user: null,
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

const INVITE_ID = '3c0f5d2e-8a1b-4c7d-9e2f-6b5a4d3c2b1a';
const SERIAL = '5F3A9C0E1B7D2E4F6A8C0B1D3E5F7A9C';
const invite = {
  id: INVITE_ID,
  label: 'Sales iPads, June',
  created_at: '2025-06-02T08:00:00.000Z',
  expires_at: '2025-06-09T08:00:00.000Z',
  max_uses: 20,
  uses: 1,
  uses_left: 19,
  state: 'live',
  revoked_at: null,
  assign: { sets: ['sales'], tags: ['ipad'] },
};
const issuedIdentity = {
  serial: SERIAL,
  fingerprint: '3f1c9a0b7d2e4f6a8c1b3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a',
  subject: 'CN=Aspen enrollment 0b8e6f3a-2c1d-4e5f-9a7b-8c6d5e4f3a2b',
  not_before: '2025-06-02T07:13:58.000Z',
  not_after: '2026-06-02T07:13:58.000Z',
  issued_at: '2025-06-02T08:13:58.000Z',
  invite_id: INVITE_ID,
  renewal_of: null,
  device_id: IPHONE,
  revoked_at: null,
  renewal_command: null,
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

const PASSCODE = 'com.example.passcode';
const PASSCODE_TOKEN = '5c1f3b2a9d8e7f60a1b2c3d4e5f60718';
const RECEIVED = '2025-06-15T10:12:40.000Z';
const STATUS_ID = '8E1D4C2B-6A3F-4B5E-9C7D-0F1A2B3C4D5E';
const passcodeDeclaration = { Type: 'com.apple.configuration.passcode.settings', Identifier: PASSCODE, Payload: { MinimumLength: 6, RequireAlphanumericPasscode: true } };
const reportedPasscode = { kind: 'configurations', identifier: PASSCODE, server_token: PASSCODE_TOKEN, active: true, valid: 'valid', reasons: [] };
const SSHD_PATH = '/ddm/assets/sshd_config';
const sshdAsset = {
  name: 'sshd_config',
  content_type: 'text/plain',
  sha256: '0c5d7b3f6e9a1d2c4b8e7f0a3c6d9e2b5f8a1c4d7e0b3f6a9c2d5e8b1f4a7c0d',
  size: 48,
  updated_at: '2025-06-14T16:20:00.000Z',
  path: SSHD_PATH,
};

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
  'GET /v1/commands': {
    path: '/v1/commands?request_type=DeviceInformation&state=queued&limit=1',
    status: 200,
    response: {
      commands: [
        {
          command_uuid: UUID,
          request_type: 'DeviceInformation',
          created_at: '2025-06-15T09:30:09.000Z',
          targets: { queued: 1, notnow: 0, acknowledged: 1, error: 0, commandformaterror: 0, cancelled: 0 },
        },
      ],
      next_cursor: 'IjIwMjUtMDYtMTVUMDk6MzA6MDkuMDAwWiAwMDAxX0RldmljZUluZm9ybWF0aW9uIg',
    },
  },
  'DELETE /v1/enrollments/{id}': {
    path: `/v1/enrollments/${MAC}`,
    status: 200,
    response: { deleted: true },
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
      inventory: { DeviceName: 'Ann’s iPhone', ModelName: 'iPhone 13 Pro', OSVersion: '18.1', IsSupervised: true, BatteryLevel: 0.82 },
      inventory_updated_at: '2025-06-15T09:30:12.000Z',
      user_channels: [],
      identities: [
        {
          fingerprint: '3f1c9a0b7d2e4f6a8c1b3d5e7f9a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a',
          subject: 'CN=Aspen enrollment 0b8e6f3a-2c1d-4e5f-9a7b-8c6d5e4f3a2b',
          not_after: '2026-06-02T07:13:58.000Z',
          bound_at: '2025-06-02T08:14:05.000Z',
        },
      ],
      invite: { id: INVITE_ID, label: 'Sales iPads, June', assign: { sets: ['sales'], tags: ['ipad'] } },
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
  'POST /v1/webhooks': {
    path: '/v1/webhooks',
    body: { url: 'https://hooks.example.com/aspen', format: 'standard', topics: ['mdm.Authenticate', 'mdm.Connect'] },
    status: 201,
    response: { ...webhook, secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' },
  },
  'GET /v1/webhooks': {
    path: '/v1/webhooks',
    status: 200,
    response: { webhooks: [webhook] },
  },
  'GET /v1/webhooks/{id}': {
    path: `/v1/webhooks/${WEBHOOK}`,
    status: 200,
    response: webhook,
  },
  'PATCH /v1/webhooks/{id}': {
    path: `/v1/webhooks/${WEBHOOK}`,
    body: { enabled: true },
    status: 200,
    response: { ...webhook, updated_at: '2025-06-16T08:00:00.000Z' },
  },
  'DELETE /v1/webhooks/{id}': {
    path: `/v1/webhooks/${WEBHOOK}`,
    status: 200,
    response: { deleted: true },
  },
  'GET /v1/webhooks/{id}/deliveries': {
    path: `/v1/webhooks/${WEBHOOK}/deliveries?state=pending&limit=1`,
    status: 200,
    response: {
      deliveries: [
        {
          event_id: EVENT,
          topic: 'mdm.Connect',
          chain: IPHONE,
          sequence: 42,
          created_at: '2025-06-15T09:30:12.000Z',
          state: 'pending',
          attempts: 2,
          next_attempt_at: '2025-06-15T09:35:20.000Z',
          last_attempt_at: '2025-06-15T09:30:17.000Z',
          last_status: 503,
          last_error: 'HTTP 503',
          last_latency_ms: 41,
          delivered_at: null,
        },
      ],
      next_cursor: 'MTIz',
    },
  },
  'POST /v1/webhooks/{id}/replay': {
    path: `/v1/webhooks/${WEBHOOK}/replay`,
    body: { since: '2025-06-15T00:00:00Z' },
    status: 200,
    response: { replayed: 17 },
  },
  'POST /v1/webhooks/{id}/test': {
    path: `/v1/webhooks/${WEBHOOK}/test`,
    status: 200,
    response: { status: 204, latency_ms: 38 },
  },
  'POST /v1/enrollment-invites': {
    path: '/v1/enrollment-invites',
    body: { label: 'Sales iPads, June', max_uses: 20, assign: { sets: ['sales'], tags: ['ipad'] } },
    status: 201,
    response: {
      ...invite,
      uses: 0,
      uses_left: 20,
      url: 'https://mdm.example.com/enroll/q9Xw2mB7vT4kR1sY8nL3pZ6cF0hJ5dG2aE9uK7iO4bM',
      token: 'q9Xw2mB7vT4kR1sY8nL3pZ6cF0hJ5dG2aE9uK7iO4bM',
      challenge: 'Vb3Nx8Qm1Kc6Tz0Rw5Yh2Ls9Pf4Gd7Ja3Ue6Io1Mn8',
    },
  },
  'GET /v1/enrollment-invites': {
    path: '/v1/enrollment-invites?state=live&limit=1',
    status: 200,
    response: { invites: [invite], next_cursor: 'IjIwMjUtMDYtMDJUMDg6MDA6MDAuMDAwWnwzYzBmNWQyZS04YTFiLTRjN2QtOWUyZi02YjVhNGQzYzJiMWEi' },
  },
  'DELETE /v1/enrollment-invites/{id}': {
    path: `/v1/enrollment-invites/${INVITE_ID}`,
    status: 200,
    response: { ...invite, uses_left: 0, state: 'revoked', revoked_at: '2025-06-03T12:00:00.000Z' },
  },
  'GET /v1/identities': {
    path: '/v1/identities?expiring_before=2026-07-01T00:00:00Z&revoked=0',
    status: 200,
    response: { identities: [issuedIdentity], next_cursor: null },
  },
  'POST /v1/identities/{serial}/revoke': {
    path: `/v1/identities/${SERIAL}/revoke`,
    status: 200,
    response: { ...issuedIdentity, revoked_at: '2025-06-15T10:00:00.000Z' },
  },
  'GET /v1/identity-renewals': {
    path: '/v1/identity-renewals?stuck=1',
    status: 200,
    response: {
      renewals: [
        {
          device_id: IPHONE,
          identity: { ...issuedIdentity, renewal_command: `aspen-renewal-${SERIAL}` },
          state: 'deferred',
          stuck: true,
        },
      ],
    },
  },

  'GET /v1/declarations': {
    path: '/v1/declarations',
    status: 200,
    response: ['com.example.org-info', PASSCODE],
  },
  'PUT /v1/declarations': {
    path: '/v1/declarations',
    body: passcodeDeclaration,
    status: 204,
  },
  'GET /v1/declarations/{id}': {
    path: `/v1/declarations/${PASSCODE}`,
    status: 200,
    response: { Identifier: PASSCODE, Type: passcodeDeclaration.Type, ServerToken: PASSCODE_TOKEN, Payload: passcodeDeclaration.Payload },
  },
  'DELETE /v1/declarations/{id}': {
    path: '/v1/declarations/com.example.retired',
    status: 204,
  },
  'POST /v1/declarations/{id}/touch': {
    path: `/v1/declarations/${PASSCODE}/touch`,
    status: 204,
  },
  'GET /v1/sets': {
    path: '/v1/sets',
    status: 200,
    response: ['macs', 'phones'],
  },
  'GET /v1/set-declarations/{set}': {
    path: '/v1/set-declarations/phones',
    status: 200,
    response: ['com.example.org-info', PASSCODE],
  },
  'PUT /v1/set-declarations/{set}': {
    path: `/v1/set-declarations/phones?declaration=${PASSCODE}&nonotify=1`,
    status: 204,
  },
  'DELETE /v1/set-declarations/{set}': {
    path: `/v1/set-declarations/phones?declaration=${PASSCODE}`,
    status: 304,
  },
  'GET /v1/enrollment-sets/{id}': {
    path: `/v1/enrollment-sets/${IPHONE}`,
    status: 200,
    response: ['phones'],
  },
  'PUT /v1/enrollment-sets/{id}': {
    path: `/v1/enrollment-sets/${IPHONE}?set=phones`,
    status: 204,
  },
  'DELETE /v1/enrollment-sets/{id}': {
    path: `/v1/enrollment-sets/${MAC}?set=phones`,
    status: 304,
  },
  'DELETE /v1/enrollment-sets-all/{id}': {
    path: `/v1/enrollment-sets-all/${MAC}`,
    status: 204,
  },
  'DELETE /v1/enrollment-sets-all/sets/{id}': {
    path: `/v1/enrollment-sets-all/sets/${MAC}`,
    status: 304,
  },
  'GET /v1/declaration-sets/{id}': {
    path: `/v1/declaration-sets/${PASSCODE}`,
    status: 200,
    response: ['phones'],
  },
  'GET /v1/declaration-status/{ids}': {
    path: `/v1/declaration-status/${IPHONE}`,
    status: 200,
    response: {
      [IPHONE]: [
        { identifier: PASSCODE, active: true, valid: 'valid', 'server-token': PASSCODE_TOKEN, current: true, status_received: RECEIVED },
        { identifier: 'aspen.activation.com.example.passcode', active: true, valid: 'valid', 'server-token': '9a8b7c6d5e4f30211f2e3d4c5b6a7988', current: true, status_received: RECEIVED },
      ],
    },
  },
  'GET /v1/status-errors/{ids}': {
    path: `/v1/status-errors/${IPHONE}`,
    status: 200,
    response: {
      [IPHONE]: [{ path: '.Errors', error: { StatusItem: 'device.battery-health', Reasons: [{ Code: 'Error.NotSupported' }] }, timestamp: RECEIVED, status_id: STATUS_ID }],
    },
  },
  'GET /v1/status-values/{ids}': {
    path: `/v1/status-values/${IPHONE}?prefix=.StatusItems.device.%25`,
    status: 200,
    response: {
      [IPHONE]: [
        { path: '.StatusItems.device.operating-system.version', value: '18.1', timestamp: RECEIVED },
        { path: '.StatusItems.device.model.family', value: 'iPhone', timestamp: RECEIVED },
      ],
    },
  },
  'GET /v1/status-report/{id}': {
    path: `/v1/status-report/${IPHONE}?index=0`,
    status: 200,
    response: { StatusItems: { device: { 'operating-system': { version: '18.1' } } }, Errors: [] },
  },
  'POST /v1/notify': {
    path: `/v1/notify?set=phones&id=${MAC}`,
    status: 204,
  },
  'GET /v1/enrollments/{id}/declarations': {
    path: `/v1/enrollments/${IPHONE}/declarations`,
    status: 200,
    response: {
      enrollment_id: IPHONE,
      sets: ['phones'],
      global_sets: [],
      declarations_token: '3e2d1c0b9a8f7e6d5c4b3a2918070605',
      served: { token: '3e2d1c0b9a8f7e6d5c4b3a2918070605', changed_at: '2025-06-15T10:12:31.000Z' },
      last_status_report_at: RECEIVED,
      declarations: [
        { identifier: PASSCODE, type: passcodeDeclaration.Type, kind: 'configuration', server_token: PASSCODE_TOKEN, generated: false, state: 'active', reported: reportedPasscode },
        {
          identifier: 'aspen.activation.com.example.passcode',
          type: 'com.apple.activation.simple',
          kind: 'activation',
          server_token: '9a8b7c6d5e4f30211f2e3d4c5b6a7988',
          generated: true,
          state: 'pending',
          reported: null,
        },
      ],
      unassigned: [],
      status_values: { 'device.operating-system.version': { value: '18.1', reported_at: RECEIVED } },
      client_capabilities: {
        supported_versions: ['1.0.0'],
        status_items: ['device.operating-system.version', 'device.model.family'],
        declaration_types: { activations: ['com.apple.activation.simple'], configurations: [passcodeDeclaration.Type], assets: [], management: [] },
      },
      reference_issues: [],
    },
  },
  'GET /v1/declarations/{id}/enrollments': {
    path: `/v1/declarations/${PASSCODE}/enrollments?limit=2`,
    status: 200,
    response: {
      declaration: { identifier: PASSCODE, type: passcodeDeclaration.Type, server_token: PASSCODE_TOKEN, touches: 0, created_at: '2025-06-14T16:00:00.000Z', updated_at: '2025-06-14T16:00:00.000Z', payload: passcodeDeclaration.Payload },
      sets: ['phones'],
      counts: { pending: 1, 'out-of-date': 0, failed: 0, active: 1, inactive: 0 },
      enrollments: [
        { enrollment_id: IPHONE, state: 'active', reported: reportedPasscode },
        { enrollment_id: MAC, state: 'pending', reported: null },
      ],
      next_cursor: 'IjZDMUYwQThFLTJCM0QtNUU0Ri05QTdCLTFDMkQzRTRGNUE2QiI',
    },
  },
  'GET /v1/ddm/global-sets': {
    path: '/v1/ddm/global-sets',
    status: 200,
    response: ['everyone'],
  },
  'PUT /v1/ddm/global-sets/{set}': {
    path: '/v1/ddm/global-sets/everyone',
    status: 204,
  },
  'DELETE /v1/ddm/global-sets/{set}': {
    path: '/v1/ddm/global-sets/everyone?nonotify=1',
    status: 204,
  },
  'GET /v1/ddm/assets': {
    path: '/v1/ddm/assets',
    status: 200,
    response: { assets: [sshdAsset] },
  },
  'PUT /v1/ddm/assets/{name}': {
    path: '/v1/ddm/assets/sshd_config',
    status: 200,
    response: { ...sshdAsset, changed: true },
  },
  'DELETE /v1/ddm/assets/{name}': {
    path: '/v1/ddm/assets/sshd_config',
    status: 200,
    response: { deleted: true },
  },
  ...ACCOUNT_EXAMPLES,
};
