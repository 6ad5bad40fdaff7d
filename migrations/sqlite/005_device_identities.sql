-- Device identity certificates bound to enrollments. A certificate (by SHA-256 fingerprint of its
-- DER) speaks for exactly one device; user channels speak with their device's certificate.
CREATE TABLE device_identities (
  fingerprint TEXT PRIMARY KEY,
  device_id   TEXT NOT NULL,
  subject     TEXT NOT NULL,
  not_after   TEXT NOT NULL,
  bound_at    TEXT NOT NULL
);
CREATE INDEX device_identities_device ON device_identities (device_id);

-- Until when a new certificate may replace the bound ones at Authenticate: opened when the device
-- is handed an InstallProfile command (how an MDM profile, and with it the identity, is replaced).
ALTER TABLE enrollments ADD COLUMN identity_renewal_until TEXT;
