-- Events and webhooks (see the SQLite migration 011).
CREATE TABLE webhook_endpoints (
  id              text PRIMARY KEY,
  url             text NOT NULL,
  secret          text NOT NULL,
  format          text NOT NULL CHECK (format IN ('micromdm', 'standard')),
  topics          jsonb,                   -- array of topics; NULL: every topic
  include_secrets boolean NOT NULL DEFAULT false,
  enabled         boolean NOT NULL DEFAULT true,
  disabled_reason text,
  source          text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'environment')),
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);

CREATE TABLE events (
  seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id         text NOT NULL UNIQUE,
  chain      text NOT NULL,
  sequence   bigint NOT NULL,
  topic      text NOT NULL,
  created_at timestamptz NOT NULL,
  data       jsonb NOT NULL,
  raw        bytea,
  redacted   bytea
);
CREATE INDEX events_created ON events (created_at);

CREATE TABLE event_sequences (
  chain text PRIMARY KEY,
  last  bigint NOT NULL
);

CREATE TABLE webhook_deliveries (
  endpoint_id     text NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_seq       bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
  chain           text NOT NULL,
  state           text NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  lease_token     text,
  lease_until     timestamptz,
  last_attempt_at timestamptz,
  last_status     integer,
  last_error      text,
  last_latency_ms integer,
  delivered_at    timestamptz,
  PRIMARY KEY (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_chain ON webhook_deliveries (endpoint_id, chain, event_seq) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_seq);
