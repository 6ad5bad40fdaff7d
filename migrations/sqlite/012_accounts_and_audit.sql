-- Admin accounts with roles, their API tokens and console sessions, login failures (counted here so
-- that the rate limit holds across instances) and the audit log. Secrets are never stored: a
-- password as its scrypt hash, a token or a session as the SHA-256 of its random value.

CREATE TABLE accounts (
  id                  TEXT PRIMARY KEY,
  name                TEXT NOT NULL UNIQUE,         -- lowercase, as the service normalizes it
  role                TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
  password_hash       TEXT NOT NULL,                -- scrypt$N$r$p$salt$hash
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL,
  password_changed_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
  id         TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  name       TEXT,
  token_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at TEXT,
  last_used_at TEXT
);
CREATE INDEX api_tokens_account ON api_tokens (account_id);

CREATE TABLE console_sessions (
  token_hash     TEXT PRIMARY KEY,
  account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at     TEXT NOT NULL,
  last_seen_at   TEXT NOT NULL,
  expires_at     TEXT NOT NULL,                     -- the absolute limit
  client_address TEXT
);
CREATE INDEX console_sessions_account ON console_sessions (account_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- One row per key (`name:<account>`, `address:<ip>`) of each attempt that has not succeeded.
CREATE TABLE login_failures (
  key     TEXT NOT NULL,
  at      TEXT NOT NULL,
  attempt TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);
CREATE INDEX login_failures_attempt ON login_failures (attempt);
CREATE INDEX login_failures_at ON login_failures (at);

CREATE TABLE audit_log (
  seq            INTEGER PRIMARY KEY AUTOINCREMENT,
  at             TEXT NOT NULL,
  actor          TEXT NOT NULL,
  via            TEXT NOT NULL,
  account_id     TEXT,                              -- no reference: the log outlives accounts
  credential     TEXT,                              -- the token id, for via = 'token'
  action         TEXT NOT NULL,
  method         TEXT,
  path           TEXT,
  status         INTEGER NOT NULL,
  outcome        TEXT NOT NULL CHECK (outcome IN ('ok', 'refused', 'error')),
  details        TEXT,                              -- JSON
  client_address TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE TABLE audit_targets (
  seq      INTEGER NOT NULL REFERENCES audit_log (seq) ON DELETE CASCADE,
  position INTEGER NOT NULL,                        -- the order they were given in
  kind     TEXT NOT NULL,
  id       TEXT NOT NULL,
  PRIMARY KEY (seq, position)
);
CREATE INDEX audit_targets_id ON audit_targets (id, seq);
