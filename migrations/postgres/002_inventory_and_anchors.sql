-- What DeviceInformation results say about a device (see the SQLite migration 008).
ALTER TABLE enrollments ADD COLUMN device_name text;
ALTER TABLE enrollments ADD COLUMN model text;
ALTER TABLE enrollments ADD COLUMN supervised boolean;
ALTER TABLE enrollments ADD COLUMN multi_user boolean;
ALTER TABLE enrollments ADD COLUMN inventory jsonb;
ALTER TABLE enrollments ADD COLUMN inventory_updated_at timestamptz;
CREATE INDEX enrollments_serial ON enrollments (serial_number);

-- The trusted CA each bound certificate chained to.
ALTER TABLE device_identities ADD COLUMN anchor text;

-- Commands, newest first.
CREATE INDEX commands_created ON commands (created_at, uuid);
