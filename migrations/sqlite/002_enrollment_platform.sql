-- The OS a device runs, read from its Authenticate message, so commands can be checked against
-- the platform before they are queued. User channels take these from their device channel.
ALTER TABLE enrollments ADD COLUMN platform TEXT;
ALTER TABLE enrollments ADD COLUMN os_version TEXT;
