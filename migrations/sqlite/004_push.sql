-- Push state per channel, and the MDM push certificate uploaded through the admin API.

-- Set when APNs says the token is dead (410 Unregistered, BadDeviceToken, DeviceTokenNotForTopic):
-- the channel is not pushed again until its next TokenUpdate clears it.
ALTER TABLE enrollments ADD COLUMN push_token_invalid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE enrollments ADD COLUMN last_push_at TEXT;
ALTER TABLE enrollments ADD COLUMN last_push_result TEXT;

CREATE TABLE push_certificate (
  id         INTEGER PRIMARY KEY CHECK (id = 1),
  cert_pem   TEXT NOT NULL,
  key_pem    TEXT NOT NULL,
  topic      TEXT NOT NULL,
  not_after  TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
