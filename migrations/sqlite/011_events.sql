-- Events and webhooks. An event is written in the same transaction as the change it describes
-- (an outbox), and only when some enabled endpoint subscribes to its topic; each subscribed
-- endpoint gets a delivery row, delivered at least once, in order per chain (an enrollment: its
-- device channel and user channels; '' for events about no enrollment).

CREATE TABLE webhook_endpoints (
  id              TEXT PRIMARY KEY,
  url             TEXT NOT NULL,
  secret          TEXT NOT NULL,
  format          TEXT NOT NULL CHECK (format IN ('micromdm', 'standard')),
  topics          TEXT,                    -- JSON array of topics; NULL: every topic
  include_secrets INTEGER NOT NULL DEFAULT 0,
  enabled         INTEGER NOT NULL DEFAULT 1,
  disabled_reason TEXT,
  source          TEXT NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'environment')),
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL
);

CREATE TABLE events (
  seq        INTEGER PRIMARY KEY,          -- the order events were written in
  id         TEXT NOT NULL UNIQUE,
  chain      TEXT NOT NULL,
  sequence   INTEGER NOT NULL,             -- 1, 2, 3 ... within the chain
  topic      TEXT NOT NULL,
  created_at TEXT NOT NULL,
  data       TEXT NOT NULL,                -- JSON: the event's fields, raw_payload aside
  raw        BLOB,                         -- the exact bytes the device sent
  redacted   BLOB                          -- those bytes without their secrets, when they had any
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_sequences (
  chain TEXT PRIMARY KEY,
  last  INTEGER NOT NULL
);

CREATE TABLE webhook_deliveries (
  endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  chain           TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  lease_token     TEXT,
  lease_until     TEXT,
  last_attempt_at TEXT,
  last_status     INTEGER,
  last_error      TEXT,
  last_latency_ms INTEGER,
  delivered_at    TEXT,
  PRIMARY KEY (endpoint_id, event_seq)
);
-- The head of each (endpoint, chain): the pending delivery with no earlier pending one.
CREATE INDEX webhook_deliveries_chain ON webhook_deliveries (endpoint_id, chain, event_seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
