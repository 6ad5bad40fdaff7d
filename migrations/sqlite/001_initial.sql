-- Enrollments, commands and per-enrollment command queues.
-- Timestamps are ISO 8601 UTC strings with milliseconds, so they sort as text.

-- One row per channel: the device channel (id = UDID or EnrollmentID) and each user channel
-- (id = '<device id>:<user part>'). Each channel has its own queue and push credentials.
CREATE TABLE enrollments (
  id                     TEXT PRIMARY KEY,
  device_id              TEXT NOT NULL,
  channel                TEXT NOT NULL CHECK (channel IN ('device', 'user')),
  type                   TEXT NOT NULL,
  -- authenticated: Authenticate seen, no TokenUpdate yet (never pushed);
  -- enrolled: TokenUpdate seen; checked-out: CheckOut seen (never pushed).
  state                  TEXT NOT NULL CHECK (state IN ('authenticated', 'enrolled', 'checked-out')),
  serial_number          TEXT,
  facts                  TEXT,            -- JSON of the Authenticate message (device channel)
  user_id                TEXT,
  user_short_name        TEXT,
  user_long_name         TEXT,
  topic                  TEXT,
  push_token             BLOB,
  push_magic             TEXT,
  unlock_token           BLOB,
  awaiting_configuration INTEGER NOT NULL DEFAULT 0,
  bootstrap_token        BLOB,
  first_seen_at          TEXT NOT NULL,
  last_seen_at           TEXT NOT NULL,
  last_status            TEXT NOT NULL,   -- last MessageType or report Status
  authenticated_at       TEXT,
  token_updated_at       TEXT,
  checked_out_at         TEXT,
  CHECK (channel = 'user' OR id = device_id)
);
CREATE INDEX enrollments_device ON enrollments (device_id);

CREATE TABLE commands (
  uuid         TEXT PRIMARY KEY,
  request_type TEXT NOT NULL,
  payload      BLOB NOT NULL,             -- the exact plist bytes handed to devices
  created_at   TEXT NOT NULL
);

-- One row per (enrollment, command): its place in that enrollment's queue and, once the device
-- answered, its result. seq orders each queue.
CREATE TABLE command_targets (
  seq           INTEGER PRIMARY KEY,
  enrollment_id TEXT NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  command_uuid  TEXT NOT NULL REFERENCES commands (uuid) ON DELETE CASCADE,
  state         TEXT NOT NULL CHECK (state IN
                  ('queued', 'notnow', 'acknowledged', 'error', 'commandformaterror', 'cancelled')),
  queued_at     TEXT NOT NULL,
  updated_at    TEXT NOT NULL,
  notnow_count  INTEGER NOT NULL DEFAULT 0,
  result        BLOB,                     -- the device's raw report plist
  error_chain   TEXT,                     -- JSON, from Error / CommandFormatError reports
  UNIQUE (enrollment_id, command_uuid)
);
-- The hot path reads the head of one queue; partial indexes keep that independent of history.
CREATE INDEX command_targets_queued ON command_targets (enrollment_id, seq) WHERE state = 'queued';
CREATE INDEX command_targets_deferred ON command_targets (enrollment_id) WHERE state = 'notnow';
CREATE INDEX command_targets_command ON command_targets (command_uuid);
