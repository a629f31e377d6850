-- NSelf.Usage PostgreSQL migration 8: a tombstone keeps the archived event's quantity too. An
-- archived event sent again is restored only if it is the same event (service, time and
-- quantity); a different one under the same id is a duplicate, as it would be were the event
-- still stored, so the rollups (which kept the archived original) and the raw events agree.

ALTER TABLE usage_archived_events ADD COLUMN IF NOT EXISTS quantity numeric(20,6);
