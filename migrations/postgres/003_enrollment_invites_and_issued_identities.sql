-- Built-in enrollment: one-time invites and the identities Aspen issues through SCEP (see the
-- SQLite migration 009 for the columns).
CREATE TABLE enrollment_invites (
  id             text PRIMARY KEY,
  token_hash     text NOT NULL UNIQUE,
  challenge_hash text NOT NULL UNIQUE,
  label          text,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  max_uses       integer NOT NULL CHECK (max_uses > 0),
  uses           integer NOT NULL DEFAULT 0,
  revoked_at     timestamptz,
  assign         jsonb,
  renews         text,
  device_id      text
);
CREATE INDEX enrollment_invites_created ON enrollment_invites (created_at, id);

CREATE TABLE issued_identities (
  serial            text PRIMARY KEY,
  fingerprint       text NOT NULL UNIQUE,
  subject           text NOT NULL,
  not_before        timestamptz NOT NULL,
  not_after         timestamptz NOT NULL,
  issued_at         timestamptz NOT NULL,
  invite_id         text,
  renewal_of        text,
  device_id         text,
  revoked_at        timestamptz,
  renewal_command   text,
  renewal_queued_at timestamptz
);
CREATE INDEX issued_identities_not_after ON issued_identities (not_after, serial);
CREATE INDEX issued_identities_device ON issued_identities (device_id);
