-- NSelf.Usage SQLite schema, migration 9: the rollups stay equal to the stored events plus the
-- tombstones of archived ones when rows are changed or deleted behind the module's back (an
-- operator with the sqlite3 shell).
--
-- The module's own writes keep the rollups in its code (ingestion) and never change a counted
-- column; these triggers are for everybody else. A changed or deleted event's old values are taken
-- out of its buckets and its new ones put in; minimum and maximum cannot be subtracted, so the old
-- buckets' are recomputed from what they now hold (stored events and tombstones), and a bucket
-- left with no event goes. An event with a tombstone is counted by its tombstone: the module's
-- archive writes tombstones and then deletes the events in one transaction, and that delete takes
-- nothing away. Buckets: quarter hours (900,000,000 µs) and UTC days (86,400,000,000 µs), floored
-- as the engine floors them (times before 1970 too).
--
-- Inserts are not watched: a BEFORE INSERT trigger, even one whose WHEN is false, cost a plain
-- bulk insert about a fifth of its speed here (measured), and this schema is the module's own
-- (an insert needs an event id, a unit and micro-unit quantities, and an explicit NULL time is
-- refused by NOT NULL). A row inserted behind the module's back is found by Test-UsageStore
-- -Verify and counted by -Repair.

CREATE TRIGGER usage_rollups_after_update
AFTER UPDATE OF quantity, recorded_at, customer_id, service_name ON billing_usage_records
WHEN (OLD.quantity IS NOT NEW.quantity OR OLD.recorded_at IS NOT NEW.recorded_at
      OR OLD.customer_id IS NOT NEW.customer_id OR OLD.service_name IS NOT NEW.service_name)
  AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = OLD.customer_id AND a.event_id = OLD.event_id)
BEGIN
    UPDATE usage_rollups SET events = events - 1, quantity = quantity - OLD.quantity
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name;
    UPDATE usage_rollups_daily SET events = events - 1, quantity = quantity - OLD.quantity
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name;
    INSERT INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    VALUES (NEW.customer_id, (NEW.recorded_at - (((NEW.recorded_at % 900000000) + 900000000) % 900000000)), NEW.service_name, 1, NEW.quantity, NEW.quantity, NEW.quantity)
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = events + 1, quantity = quantity + excluded.quantity,
        min_quantity = min(min_quantity, excluded.min_quantity), max_quantity = max(max_quantity, excluded.max_quantity);
    INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    VALUES (NEW.customer_id, (NEW.recorded_at - (((NEW.recorded_at % 86400000000) + 86400000000) % 86400000000)), NEW.service_name, 1, NEW.quantity, NEW.quantity, NEW.quantity)
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = events + 1, quantity = quantity + excluded.quantity,
        min_quantity = min(min_quantity, excluded.min_quantity), max_quantity = max(max_quantity, excluded.max_quantity);
    UPDATE usage_rollups SET
        min_quantity = coalesce((SELECT min(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000)), min_quantity),
        max_quantity = coalesce((SELECT max(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000)), max_quantity)
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name;
    DELETE FROM usage_rollups WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name AND events <= 0;
    UPDATE usage_rollups_daily SET
        min_quantity = coalesce((SELECT min(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000)), min_quantity),
        max_quantity = coalesce((SELECT max(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000)), max_quantity)
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name;
    DELETE FROM usage_rollups_daily WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name AND events <= 0;
END;

CREATE TRIGGER usage_rollups_after_delete
AFTER DELETE ON billing_usage_records
WHEN NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = OLD.customer_id AND a.event_id = OLD.event_id)
BEGIN
    UPDATE usage_rollups SET events = events - 1, quantity = quantity - OLD.quantity
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name;
    UPDATE usage_rollups_daily SET events = events - 1, quantity = quantity - OLD.quantity
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name;
    UPDATE usage_rollups SET
        min_quantity = coalesce((SELECT min(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000)), min_quantity),
        max_quantity = coalesce((SELECT max(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) + 900000000)), max_quantity)
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name;
    DELETE FROM usage_rollups WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 900000000) + 900000000) % 900000000)) AND service_name = OLD.service_name AND events <= 0;
    UPDATE usage_rollups_daily SET
        min_quantity = coalesce((SELECT min(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000)), min_quantity),
        max_quantity = coalesce((SELECT max(q) FROM (SELECT quantity AS q FROM billing_usage_records WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000
                   UNION ALL SELECT quantity FROM usage_archived_events WHERE customer_id = OLD.customer_id AND service_name = OLD.service_name AND quantity IS NOT NULL AND recorded_at >= (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND recorded_at < (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) + 86400000000)), max_quantity)
    WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name;
    DELETE FROM usage_rollups_daily WHERE customer_id = OLD.customer_id AND bucket_start = (OLD.recorded_at - (((OLD.recorded_at % 86400000000) + 86400000000) % 86400000000)) AND service_name = OLD.service_name AND events <= 0;
END;
