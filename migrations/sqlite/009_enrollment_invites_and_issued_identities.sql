-- Built-in enrollment: one-time invites (links to an enrollment profile) and the identity
-- certificates Aspen issues through SCEP.

-- An invite's token (in its URL) and SCEP challenge (in its profile) are secrets: only their
-- SHA-256 is kept, so a copy of the database gives neither away. `renews`/`device_id` mark the
-- one-time invites Aspen makes itself to renew a device's identity (not listed to admins).
CREATE TABLE enrollment_invites (
  id             TEXT PRIMARY KEY,
  token_hash     TEXT NOT NULL UNIQUE,
  challenge_hash TEXT NOT NULL UNIQUE,
  label          TEXT,
  created_at     TEXT NOT NULL,
  expires_at     TEXT NOT NULL,
  max_uses       INTEGER NOT NULL CHECK (max_uses > 0),
  uses           INTEGER NOT NULL DEFAULT 0,
  revoked_at     TEXT,
  assign         TEXT,                    -- JSON {sets, tags}, for Declarative Device Management
  renews         TEXT,                    -- serial of the issued identity a renewal invite replaces
  device_id      TEXT                     -- the device a renewal invite is for
);
CREATE INDEX enrollment_invites_created ON enrollment_invites (created_at, id);

-- Every certificate issued through SCEP. invite_id: the invite that brought the device (renewals
-- keep it); renewal_of: the serial it renewed; device_id: the device it was bound to (once bound).
-- A revoked identity is refused like an unknown one. renewal_command: the InstallProfile queued
-- to replace it before it expires.
CREATE TABLE issued_identities (
  serial            TEXT PRIMARY KEY,     -- uppercase hex, as X509Certificate reports it
  fingerprint       TEXT NOT NULL UNIQUE, -- SHA-256 of the DER, lowercase hex
  subject           TEXT NOT NULL,
  not_before        TEXT NOT NULL,
  not_after         TEXT NOT NULL,
  issued_at         TEXT NOT NULL,
  invite_id         TEXT,
  renewal_of        TEXT,
  device_id         TEXT,
  revoked_at        TEXT,
  renewal_command   TEXT,
  renewal_queued_at TEXT
);
CREATE INDEX issued_identities_not_after ON issued_identities (not_after, serial);
CREATE INDEX issued_identities_device ON issued_identities (device_id);
