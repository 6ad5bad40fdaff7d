-- What DeviceInformation results say about a device: the fields the server uses (command gating,
-- listings) in their own columns, every answer merged as JSON.
ALTER TABLE enrollments ADD COLUMN device_name TEXT;
ALTER TABLE enrollments ADD COLUMN model TEXT;
ALTER TABLE enrollments ADD COLUMN supervised INTEGER;   -- NULL: not known yet
ALTER TABLE enrollments ADD COLUMN multi_user INTEGER;   -- Shared iPad; NULL: not known yet
ALTER TABLE enrollments ADD COLUMN inventory TEXT;
ALTER TABLE enrollments ADD COLUMN inventory_updated_at TEXT;
CREATE INDEX enrollments_serial ON enrollments (serial_number);

-- The trusted CA (SHA-256 of its certificate) each bound certificate chained to, so that a start
-- with a different DEVICE_CA can tell which enrollments it would strand.
ALTER TABLE device_identities ADD COLUMN anchor TEXT;

-- Commands, newest first.
CREATE INDEX commands_created ON commands (created_at, uuid);
