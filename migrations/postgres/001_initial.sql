-- The PostgreSQL schema, equivalent to SQLite's migrations 001-007 in PostgreSQL's own types.

-- One row per channel: the device channel (id = UDID or EnrollmentID) and each user channel
-- (id = '<device id>:<user part>'). Each channel has its own queue and push credentials.
CREATE TABLE enrollments (
  id                     text PRIMARY KEY,
  device_id              text NOT NULL,
  channel                text NOT NULL CHECK (channel IN ('device', 'user')),
  type                   text NOT NULL,
  -- authenticated: Authenticate seen, no TokenUpdate yet (never pushed);
  -- enrolled: TokenUpdate seen; checked-out: CheckOut seen (never pushed).
  state                  text NOT NULL CHECK (state IN ('authenticated', 'enrolled', 'checked-out')),
  serial_number          text,
  platform               text,
  os_version             text,
  facts                  jsonb,           -- the Authenticate message (device channel)
  user_id                text,
  user_short_name        text,
  user_long_name         text,
  topic                  text,
  push_token             bytea,
  push_magic             text,
  unlock_token           bytea,
  awaiting_configuration boolean NOT NULL DEFAULT false,
  bootstrap_token        bytea,
  first_seen_at          timestamptz NOT NULL,
  last_seen_at           timestamptz NOT NULL,
  last_status            text NOT NULL,   -- last MessageType or report Status
  authenticated_at       timestamptz,
  token_updated_at       timestamptz,
  checked_out_at         timestamptz,
  -- APNs said the token is dead: not pushed again until the next TokenUpdate.
  push_token_invalid     boolean NOT NULL DEFAULT false,
  last_push_at           timestamptz,
  last_push_result       text,
  -- Until when a new certificate may replace the bound ones at Authenticate.
  identity_renewal_until timestamptz,
  -- The token belongs to the APNs development environment.
  apns_sandbox           boolean NOT NULL DEFAULT false,
  CHECK (channel = 'user' OR id = device_id)
);
CREATE INDEX enrollments_device ON enrollments (device_id);

CREATE TABLE commands (
  uuid         text PRIMARY KEY,
  request_type text NOT NULL,
  payload      bytea NOT NULL,            -- the exact plist bytes handed to devices
  created_at   timestamptz NOT NULL
);

-- One row per (enrollment, command): its place in that enrollment's queue and, once the device
-- answered, its result. seq orders each queue.
CREATE TABLE command_targets (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enrollment_id text NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  command_uuid  text NOT NULL REFERENCES commands (uuid) ON DELETE CASCADE,
  state         text NOT NULL CHECK (state IN
                  ('queued', 'notnow', 'acknowledged', 'error', 'commandformaterror', 'cancelled')),
  queued_at     timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  notnow_count  integer NOT NULL DEFAULT 0,
  result        bytea,                    -- the device's raw report plist
  error_chain   jsonb,                    -- from Error / CommandFormatError reports
  UNIQUE (enrollment_id, command_uuid)
);
-- The hot path reads the head of one queue; partial indexes keep that independent of history.
CREATE INDEX command_targets_queued ON command_targets (enrollment_id, seq) WHERE state = 'queued';
CREATE INDEX command_targets_deferred ON command_targets (enrollment_id) WHERE state = 'notnow';
-- A command's targets, paged by enrollment id.
CREATE INDEX command_targets_command ON command_targets (command_uuid, enrollment_id);
-- Retention finds old final results without scanning pending ones.
CREATE INDEX command_targets_final ON command_targets (updated_at) WHERE state NOT IN ('queued', 'notnow');
-- An enrollment's history, newest first.
CREATE INDEX command_targets_history ON command_targets (enrollment_id, seq DESC);

-- One row that /readyz rewrites to prove the database accepts writes.
CREATE TABLE heartbeat (
  id integer PRIMARY KEY CHECK (id = 1),
  at timestamptz NOT NULL
);

CREATE TABLE push_certificate (
  id         integer PRIMARY KEY CHECK (id = 1),
  cert_pem   text NOT NULL,
  key_pem    text NOT NULL,
  topic      text NOT NULL,
  not_after  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Device identity certificates bound to enrollments. A certificate (by SHA-256 fingerprint of its
-- DER) speaks for exactly one device; user channels speak with their device's certificate.
CREATE TABLE device_identities (
  fingerprint text PRIMARY KEY,
  device_id   text NOT NULL,
  subject     text NOT NULL,
  not_after   timestamptz NOT NULL,
  bound_at    timestamptz NOT NULL
);
CREATE INDEX device_identities_device ON device_identities (device_id);

-- Background work shared by every instance (see the SQLite migration 007 for the columns).
CREATE TABLE jobs (
  key         text PRIMARY KEY,
  kind        text NOT NULL,
  payload     jsonb,
  run_at      timestamptz NOT NULL,
  lease_token text,
  lease_until timestamptz,
  rerun_at    timestamptz,
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text
);
CREATE INDEX jobs_due ON jobs (run_at);

-- Values generated once and shared by every instance: the admin API key, Aspen's own device CA.
CREATE TABLE secrets (
  name       text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL
);
