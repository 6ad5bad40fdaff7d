-- Set when the channel's token turned out to belong to the APNs development (sandbox) environment
-- (profile key UseDevelopmentAPNS): production refused it as BadDeviceToken and the sandbox took
-- it. Pushes then go to the sandbox directly, until the next TokenUpdate.
ALTER TABLE enrollments ADD COLUMN apns_sandbox INTEGER NOT NULL DEFAULT 0;
