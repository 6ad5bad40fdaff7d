-- The web console's live stream and overview read enrollments by when they were last seen (any
-- instance's check-ins, from the database): an index keeps that read proportional to what changed.
CREATE INDEX enrollments_last_seen ON enrollments (last_seen_at, id);
