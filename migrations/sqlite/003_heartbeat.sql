-- One row that /readyz rewrites to prove the database accepts writes.
CREATE TABLE heartbeat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  at TEXT NOT NULL
);
