-- Declarative Device Management (see the SQLite migration 010 for the tables). JSON columns that
-- hold what devices or admins sent are text, not jsonb: jsonb refuses a \u0000 in a string, and
-- a status report refused for that would be re-sent by the device forever.
CREATE TABLE ddm_declarations (
  identifier   text PRIMARY KEY,
  type         text NOT NULL,
  payload      text NOT NULL,
  touches      integer NOT NULL DEFAULT 0,
  server_token text NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);

CREATE TABLE ddm_set_declarations (
  set_name   text NOT NULL,
  identifier text NOT NULL REFERENCES ddm_declarations (identifier),
  PRIMARY KEY (set_name, identifier)
);
CREATE INDEX ddm_set_declarations_identifier ON ddm_set_declarations (identifier);

CREATE TABLE ddm_enrollment_sets (
  enrollment_id text NOT NULL,
  set_name      text NOT NULL,
  PRIMARY KEY (enrollment_id, set_name)
);
CREATE INDEX ddm_enrollment_sets_set ON ddm_enrollment_sets (set_name);

CREATE TABLE ddm_global_sets (
  set_name text PRIMARY KEY
);

CREATE TABLE ddm_enrollments (
  enrollment_id      text PRIMARY KEY REFERENCES enrollments (id) ON DELETE CASCADE,
  declarations_token text,
  token_changed_at   timestamptz,
  snapshot           text,
  status_items       text,
  last_report_at     timestamptz
);

CREATE TABLE ddm_declaration_status (
  enrollment_id text NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  identifier    text NOT NULL,
  kind          text NOT NULL,
  server_token  text NOT NULL,
  active        boolean NOT NULL,
  valid         text NOT NULL,
  reasons       text NOT NULL,
  reported_at   timestamptz NOT NULL,
  PRIMARY KEY (enrollment_id, identifier)
);
CREATE INDEX ddm_declaration_status_identifier ON ddm_declaration_status (identifier);

CREATE TABLE ddm_status_reports (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enrollment_id text NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  status_id     text NOT NULL,
  received_at   timestamptz NOT NULL,
  raw           bytea NOT NULL
);
CREATE INDEX ddm_status_reports_enrollment ON ddm_status_reports (enrollment_id, seq);

CREATE TABLE ddm_status_errors (
  seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  enrollment_id text NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
  status_id     text NOT NULL,
  path          text NOT NULL,
  error         text NOT NULL,
  at            timestamptz NOT NULL
);
CREATE INDEX ddm_status_errors_enrollment ON ddm_status_errors (enrollment_id, seq);

CREATE TABLE ddm_assets (
  name         text PRIMARY KEY,
  content_type text NOT NULL,
  data         bytea NOT NULL,
  sha256       text NOT NULL,
  size         integer NOT NULL,
  updated_at   timestamptz NOT NULL
);
