-- Background work shared by every process on this database (NotNow re-pushes, retention): each
-- due job is claimed by one process for a lease (lease_token, lease_until); a crashed process's
-- lease runs out and another takes the job over. rerun_at: scheduled again while it was running.
CREATE TABLE jobs (
  key         TEXT PRIMARY KEY,
  kind        TEXT NOT NULL,
  payload     TEXT,                       -- JSON
  run_at      TEXT NOT NULL,
  lease_token TEXT,
  lease_until TEXT,
  rerun_at    TEXT,
  attempts    INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT
);
CREATE INDEX jobs_due ON jobs (run_at);

-- Values generated once and shared by every process: the admin API key and Aspen's own device CA.
-- They live with the data they protect, so a backup of the database restores them too.
CREATE TABLE secrets (
  name       TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  created_at TEXT NOT NULL
);
