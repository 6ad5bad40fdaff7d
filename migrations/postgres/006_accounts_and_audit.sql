-- Admin accounts, API tokens, console sessions, login failures and the audit log (see the SQLite
-- migration 012).
CREATE TABLE accounts (
  id                  text PRIMARY KEY,
  name                text NOT NULL UNIQUE,
  role                text NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash       text NOT NULL,
  created_at          timestamptz NOT NULL,
  updated_at          timestamptz NOT NULL,
  password_changed_at timestamptz NOT NULL
);

CREATE TABLE api_tokens (
  id           text PRIMARY KEY,
  account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name         text,
  token_hash   text NOT NULL UNIQUE,
  created_at   timestamptz NOT NULL,
  created_by   text NOT NULL,
  expires_at   timestamptz,
  last_used_at timestamptz
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE console_sessions (
  token_hash     text PRIMARY KEY,
  account_id     text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL,
  last_seen_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  client_address text
);
CREATE INDEX console_sessions_account ON console_sessions (account_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

CREATE TABLE login_failures (
  key     text NOT NULL,
  at      timestamptz NOT NULL,
  attempt text NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_attempt ON login_failures (attempt);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE audit_log (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at             timestamptz NOT NULL,
  actor          text NOT NULL,
  via            text NOT NULL,
  account_id     text,
  credential     text,
  action         text NOT NULL,
  method         text,
  path           text,
  status         integer NOT NULL,
  outcome        text NOT NULL CHECK (outcome IN ('ok', 'refused', 'error')),
  details        jsonb,
  client_address text
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TABLE audit_targets (
  seq      bigint NOT NULL REFERENCES audit_log (seq) ON DELETE CASCADE,
  position integer NOT NULL,
  kind     text NOT NULL,
  id       text NOT NULL,
  PRIMARY KEY (seq, position)
);
CREATE INDEX audit_targets_id ON audit_targets (id, seq);
