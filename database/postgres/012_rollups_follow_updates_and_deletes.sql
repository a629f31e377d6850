-- NSelf.Usage PostgreSQL migration 12: the rollups stay equal to the stored events plus the
-- tombstones of archived ones under UPDATE and DELETE too, whoever writes (an operator correcting a
-- quantity with psql, nself's usage_archive deleting old rows), and an explicit NULL recorded_at
-- (which nself's schema accepts) is the insert time.
--
-- A changed or deleted event's old values are taken out of its buckets and its new values put in,
-- in key order within each table, and the days before the quarter hours, as the insert trigger
-- does (PostgreSQL runs a statement's own INSERT before the data-modifying WITH parts it does not
-- read; Test-UsageStore -Repair locks in the same order), so concurrent writers lock
-- buckets in one order. Minimum and maximum cannot be subtracted: for every bucket that lost an
-- event they are recomputed from the stored events and tombstones, in a later statement of the
-- trigger, so under READ COMMITTED its snapshot is taken after this transaction holds the bucket
-- rows' locks (every writer that touched them has committed; every later one waits and folds its
-- own rows in after us). A bucket left with no event goes.
--
-- An event with a tombstone is counted by its tombstone: the module's archive writes tombstones and
-- then deletes the events in one transaction, and that delete takes nothing away.
--
-- PostgreSQL refuses transition tables on a trigger with a column list, so the UPDATE trigger fires
-- on every UPDATE and finds the rows whose customer, service, quantity or time changed itself; an
-- update of other columns (a finalization's seals, nself's invoice_id or aggregated) finds none and
-- changes no rollup.

CREATE OR REPLACE FUNCTION usage_rollups_after_change() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    -- The rows to take out and put in, for the several statements below. Checked first, so that a
    -- psql session is not told on every change that the table already exists.
    IF to_regclass('pg_temp.usage_rollup_change') IS NULL THEN
        CREATE TEMP TABLE usage_rollup_change (customer_id varchar(255), recorded_at timestamptz, service_name varchar(100),
            quantity numeric(20,6), sign integer) ON COMMIT DELETE ROWS;
    END IF;
    DELETE FROM usage_rollup_change;
    IF TG_OP = 'UPDATE' THEN
        -- A row whose counted values did not change is in both transition tables alike: grouped by
        -- usage_id and those values, it makes a group of two. A group of one is a row's old values
        -- (taken out) or new ones (put in). Grouping, not an anti-join of the two transition
        -- tables, which has no index and was planned as a nested loop: a finalization sealing
        -- 100,000 rows took minutes.
        INSERT INTO usage_rollup_change
        SELECT c.customer_id, c.recorded_at, c.service_name, c.quantity, c.sign
        FROM (
            SELECT usage_id, event_id, customer_id, recorded_at, service_name, quantity, CASE WHEN min(side) = 1 THEN -1 ELSE 1 END AS sign
            FROM (SELECT usage_id, event_id, customer_id, recorded_at, service_name, quantity, 1 AS side FROM old_rows
                  UNION ALL
                  SELECT usage_id, event_id, customer_id, recorded_at, service_name, quantity, 2 FROM new_rows) x
            GROUP BY usage_id, event_id, customer_id, recorded_at, service_name, quantity
            HAVING count(*) = 1) c
        WHERE c.recorded_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = c.customer_id AND a.event_id = c.event_id);
    ELSE
        -- The module's archive deletes only tombstoned events: nothing to take away.
        INSERT INTO usage_rollup_change
        SELECT o.customer_id, o.recorded_at, o.service_name, o.quantity, -1 FROM old_rows o
        WHERE o.recorded_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = o.customer_id AND a.event_id = o.event_id);
    END IF;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;

    -- Counts and sums, in key order: days (this statement) before quarter hours (its WITH part). A bucket that only loses events gets placeholder extremes
    -- (least/greatest keep the stored ones); the recomputation below sets them.
    WITH delta AS (
        SELECT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name,
               sum(sign) AS events, sum(sign * quantity) AS quantity,
               coalesce(min(quantity) FILTER (WHERE sign > 0), 99999999999999.999999) AS min_quantity,
               coalesce(max(quantity) FILTER (WHERE sign > 0), -99999999999999.999999) AS max_quantity
        FROM usage_rollup_change GROUP BY 1, 2, 3
    ), quarter_hours AS (
        INSERT INTO usage_rollups AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
        SELECT * FROM delta ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
            events = r.events + EXCLUDED.events,
            quantity = r.quantity + EXCLUDED.quantity,
            min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
            max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity)
    )
    INSERT INTO usage_rollups_daily AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    SELECT customer_id, date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name, sum(events), sum(quantity), min(min_quantity), max(max_quantity)
    FROM delta GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        quantity = r.quantity + EXCLUDED.quantity,
        min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
        max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity);

    -- Extremes of every bucket that lost an event, from what it now holds (a fresh snapshot: see above).
    -- Tombstones written before migration 8 have no quantity; where nothing else is known the
    -- stored extremes stay.
    UPDATE usage_rollups r SET min_quantity = coalesce(m.min_quantity, r.min_quantity), max_quantity = coalesce(m.max_quantity, r.max_quantity)
    FROM (SELECT DISTINCT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name
          FROM usage_rollup_change WHERE sign < 0) t
    CROSS JOIN LATERAL (
        SELECT min(q) AS min_quantity, max(q) AS max_quantity FROM (
            SELECT x.quantity AS q FROM billing_usage_records x
            WHERE x.customer_id = t.customer_id AND x.service_name = t.service_name
              AND x.recorded_at >= t.bucket_start AND x.recorded_at < t.bucket_start + interval '15 minutes'
            UNION ALL
            SELECT y.quantity FROM usage_archived_events y
            WHERE y.customer_id = t.customer_id AND y.service_name = t.service_name AND y.quantity IS NOT NULL
              AND y.recorded_at >= t.bucket_start AND y.recorded_at < t.bucket_start + interval '15 minutes') u) m
    WHERE r.customer_id = t.customer_id AND r.bucket_start = t.bucket_start AND r.service_name = t.service_name;

    UPDATE usage_rollups_daily r SET min_quantity = coalesce(m.min_quantity, r.min_quantity), max_quantity = coalesce(m.max_quantity, r.max_quantity)
    FROM (SELECT DISTINCT customer_id, date_bin('1 day', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name
          FROM usage_rollup_change WHERE sign < 0) t
    CROSS JOIN LATERAL (
        SELECT min(q) AS min_quantity, max(q) AS max_quantity FROM (
            SELECT x.quantity AS q FROM billing_usage_records x
            WHERE x.customer_id = t.customer_id AND x.service_name = t.service_name
              AND x.recorded_at >= t.bucket_start AND x.recorded_at < t.bucket_start + interval '1 day'
            UNION ALL
            SELECT y.quantity FROM usage_archived_events y
            WHERE y.customer_id = t.customer_id AND y.service_name = t.service_name AND y.quantity IS NOT NULL
              AND y.recorded_at >= t.bucket_start AND y.recorded_at < t.bucket_start + interval '1 day') u) m
    WHERE r.customer_id = t.customer_id AND r.bucket_start = t.bucket_start AND r.service_name = t.service_name;

    DELETE FROM usage_rollups r USING (SELECT DISTINCT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name
                                       FROM usage_rollup_change WHERE sign < 0) t
    WHERE r.customer_id = t.customer_id AND r.bucket_start = t.bucket_start AND r.service_name = t.service_name AND r.events <= 0;
    DELETE FROM usage_rollups_daily r USING (SELECT DISTINCT customer_id, date_bin('1 day', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name
                                             FROM usage_rollup_change WHERE sign < 0) t
    WHERE r.customer_id = t.customer_id AND r.bucket_start = t.bucket_start AND r.service_name = t.service_name AND r.events <= 0;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS usage_rollups_after_update ON billing_usage_records;
CREATE TRIGGER usage_rollups_after_update
    AFTER UPDATE ON billing_usage_records
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_after_change();

DROP TRIGGER IF EXISTS usage_rollups_after_delete ON billing_usage_records;
CREATE TRIGGER usage_rollups_after_delete
    AFTER DELETE ON billing_usage_records
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_after_change();

-- An explicit NULL recorded_at (nself's schema allows it; its column default is now()) is the
-- insert time. Done by the insert trigger, once per statement, and not by a BEFORE ROW trigger:
-- any BEFORE ROW trigger, even one whose WHEN is false, makes COPY insert row by row instead of
-- in batches, and cost the module's own pipeline into PostgreSQL about a tenth of its speed
-- (measured: 87-88 % of the rate without it). The rows with a time are rolled up as before; the
-- others are given the statement's now() by an UPDATE, whose trigger above rolls them up.
CREATE OR REPLACE FUNCTION usage_rollups_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    WITH delta AS (
        SELECT i.customer_id, date_bin('15 minutes', i.recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, i.service_name,
               count(*) AS events, sum(i.quantity) AS quantity, min(i.quantity) AS min_quantity, max(i.quantity) AS max_quantity
        FROM inserted i
        WHERE i.recorded_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = i.customer_id AND a.event_id = i.event_id)
        GROUP BY 1, 2, 3
    ), quarter_hours AS (
        INSERT INTO usage_rollups AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
        SELECT * FROM delta ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
            events = r.events + EXCLUDED.events,
            quantity = r.quantity + EXCLUDED.quantity,
            min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
            max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity)
    ), days AS (
        INSERT INTO usage_rollups_daily AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
        SELECT customer_id, date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name, sum(events), sum(quantity), min(min_quantity), max(max_quantity)
        FROM delta GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
            events = r.events + EXCLUDED.events,
            quantity = r.quantity + EXCLUDED.quantity,
            min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
            max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity)
    )
    DELETE FROM usage_archived_events a USING inserted i WHERE a.customer_id = i.customer_id AND a.event_id = i.event_id;
    -- Checked first: an UPDATE of no row would still run the UPDATE statement trigger.
    IF EXISTS (SELECT 1 FROM inserted WHERE recorded_at IS NULL) THEN
        UPDATE billing_usage_records r SET recorded_at = now()
        FROM inserted i WHERE r.usage_id = i.usage_id AND i.recorded_at IS NULL;
    END IF;
    RETURN NULL;
END
$$;
