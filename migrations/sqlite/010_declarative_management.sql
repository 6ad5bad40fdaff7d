-- Declarative Device Management (src/storage/declarations.ts). JSON columns are text, as elsewhere.

-- Declarations as the admin defined them. server_token is serverToken(declaration, touches):
-- content-derived, and changed by a touch without a content change.
CREATE TABLE ddm_declarations (
  identifier   TEXT PRIMARY KEY,
  type         TEXT NOT NULL,
  payload      TEXT NOT NULL,            -- JSON object
  touches      INTEGER NOT NULL DEFAULT 0,
  server_token TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);

-- A set exists while it holds a declaration; a declaration a set holds cannot be deleted.
CREATE TABLE ddm_set_declarations (
  set_name   TEXT NOT NULL,
  identifier TEXT NOT NULL REFERENCES ddm_declarations (identifier),
  PRIMARY KEY (set_name, identifier)
);
CREATE INDEX ddm_set_declarations_identifier ON ddm_set_declarations (identifier);

-- Sets assigned to enrollment ids. Not tied to enrollments: a set may be assigned to a device
-- before it enrolls (admins pre-assign by UDID), and it is kept across re-enrollments.
CREATE TABLE ddm_enrollment_sets (
  enrollment_id TEXT NOT NULL,
  set_name      TEXT NOT NULL,
  PRIMARY KEY (enrollment_id, set_name)
);
CREATE INDEX ddm_enrollment_sets_set ON ddm_enrollment_sets (set_name);

-- Sets assigned to every enrollment.
CREATE TABLE ddm_global_sets (
  set_name TEXT PRIMARY KEY
);

-- Per enrollment: the DeclarationsToken it was last served or sent and since when (the tokens
-- Timestamp), and what its status reports said (the declaration statuses are in
-- ddm_declaration_status, so that a declaration's state across enrollments is one query).
CREATE TABLE ddm_enrollments (
  enrollment_id      TEXT PRIMARY KEY REFERENCES enrollments (id) ON DELETE CASCADE,
  declarations_token TEXT,
  token_changed_at   TEXT,
  snapshot           TEXT,               -- JSON StatusSnapshot without its declarations
  status_items       TEXT,               -- JSON array: the status items the client supports
  last_report_at     TEXT
);

-- The declaration status an enrollment last reported, one row per declaration.
CREATE TABLE ddm_declaration_status (
  enrollment_id TEXT NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  identifier    TEXT NOT NULL,
  kind          TEXT NOT NULL,           -- activations, configurations, assets, management
  server_token  TEXT NOT NULL,
  active        INTEGER NOT NULL,
  valid         TEXT NOT NULL,           -- valid, invalid, unknown
  reasons       TEXT NOT NULL,           -- JSON array
  reported_at   TEXT NOT NULL,
  PRIMARY KEY (enrollment_id, identifier)
);
CREATE INDEX ddm_declaration_status_identifier ON ddm_declaration_status (identifier);

-- The last status reports as the device sent them (bounded per enrollment).
CREATE TABLE ddm_status_reports (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  enrollment_id TEXT NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  status_id     TEXT NOT NULL,
  received_at   TEXT NOT NULL,
  raw           BLOB NOT NULL
);
CREATE INDEX ddm_status_reports_enrollment ON ddm_status_reports (enrollment_id, seq);

-- Errors the reports carried (bounded per enrollment), oldest first by seq.
CREATE TABLE ddm_status_errors (
  seq           INTEGER PRIMARY KEY AUTOINCREMENT,
  enrollment_id TEXT NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  status_id     TEXT NOT NULL,
  path          TEXT NOT NULL,
  error         TEXT NOT NULL,           -- JSON
  at            TEXT NOT NULL
);
CREATE INDEX ddm_status_errors_enrollment ON ddm_status_errors (enrollment_id, seq);

-- Data assets Aspen hosts for devices (GET /ddm/assets/<name>, device-authenticated).
CREATE TABLE ddm_assets (
  name         TEXT PRIMARY KEY,
  content_type TEXT NOT NULL,
  data         BLOB NOT NULL,
  sha256       TEXT NOT NULL,            -- hex, as Reference.Hash-SHA-256 wants it
  size         INTEGER NOT NULL,
  updated_at   TEXT NOT NULL
);
