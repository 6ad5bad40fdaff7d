-- Claiming walks pending deliveries in event order and stops at the first free ones. The index on
-- all of event_seq made that walk pass every delivered row first (they stay until pruned): a
-- claim cost 2 ms with 19,000 delivered, once per delivery. Only pending rows are indexed here.
-- The index on next_attempt_at served no query and is dropped.
DROP INDEX webhook_deliveries_due;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (event_seq) WHERE state = 'pending';
