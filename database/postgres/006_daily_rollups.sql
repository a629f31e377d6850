-- NSelf.Usage PostgreSQL migration 6: daily rollups beside the quarter-hour ones. A month read
-- across a thousand customers is then ~31 rows per customer and service instead of up to 2,976:
-- whole UTC days come from here, the ragged ends of a period from the quarter hours.

CREATE TABLE IF NOT EXISTS usage_rollups_daily (
    customer_id  varchar(255) NOT NULL,
    bucket_start timestamptz NOT NULL,
    service_name varchar(100) NOT NULL,
    events       bigint NOT NULL,
    quantity     numeric(30,6) NOT NULL,
    min_quantity numeric(20,6) NOT NULL,
    max_quantity numeric(20,6) NOT NULL,
    PRIMARY KEY (customer_id, bucket_start, service_name)
);
CREATE INDEX IF NOT EXISTS ix_usage_rollups_daily_bucket ON usage_rollups_daily (bucket_start);

INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
SELECT customer_id, date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name, sum(events), sum(quantity), min(min_quantity), max(max_quantity)
FROM usage_rollups
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;

-- The trigger keeps both levels, in key order, from the same inserted rows.
CREATE OR REPLACE FUNCTION usage_rollups_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    CREATE TEMP TABLE IF NOT EXISTS usage_rollup_delta (customer_id varchar(255), bucket_start timestamptz, service_name varchar(100),
        events bigint, quantity numeric(30,6), min_quantity numeric(20,6), max_quantity numeric(20,6)) ON COMMIT DELETE ROWS;
    DELETE FROM usage_rollup_delta;
    INSERT INTO usage_rollup_delta
    SELECT i.customer_id, date_bin('15 minutes', i.recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), i.service_name,
           count(*), sum(i.quantity), min(i.quantity), max(i.quantity)
    FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = i.customer_id AND a.event_id = i.event_id)
    GROUP BY 1, 2, 3;

    INSERT INTO usage_rollups AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    SELECT * FROM usage_rollup_delta ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        quantity = r.quantity + EXCLUDED.quantity,
        min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
        max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity);

    INSERT INTO usage_rollups_daily AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    SELECT customer_id, date_bin('1 day', bucket_start, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name, sum(events), sum(quantity), min(min_quantity), max(max_quantity)
    FROM usage_rollup_delta GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        quantity = r.quantity + EXCLUDED.quantity,
        min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
        max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity);

    DELETE FROM usage_archived_events a USING inserted i WHERE a.customer_id = i.customer_id AND a.event_id = i.event_id;
    RETURN NULL;
END
$$;

DO $$
BEGIN
    ALTER TABLE usage_rollups_daily ENABLE ROW LEVEL SECURITY;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'usage_rollups_daily' AND policyname = 'usage_rollups_daily_admin_all') THEN
        CREATE POLICY usage_rollups_daily_admin_all ON usage_rollups_daily FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'usage_rollups_daily' AND policyname = 'usage_rollups_daily_customer_select') THEN
        CREATE POLICY usage_rollups_daily_customer_select ON usage_rollups_daily FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
END
$$;
