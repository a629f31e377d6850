-- NSelf.Usage PostgreSQL migration 5: archives. Move-UsageRecord moves old events to a verified
-- file and leaves a tombstone per event, so an archived event sent again (or imported back) is
-- restored with its original ingest time and never counted twice in the rollups, which keep
-- the archived history.

CREATE TABLE IF NOT EXISTS usage_archived_events (
    customer_id  varchar(255) NOT NULL,
    event_id     varchar(255) NOT NULL,
    service_name varchar(100) NOT NULL,
    recorded_at  timestamptz NOT NULL,
    ingested_at  timestamptz NOT NULL,
    archive_id   bigint NOT NULL,
    PRIMARY KEY (customer_id, event_id)
);

CREATE TABLE IF NOT EXISTS usage_archives (
    archive_id  bigserial PRIMARY KEY,
    path        text NOT NULL,
    rows        bigint NOT NULL,
    checksum    char(64) NOT NULL,
    cutoff      timestamptz NOT NULL,
    customer_id varchar(255),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Rollups count an inserted event unless it is an archived one coming back; its tombstone goes.
CREATE OR REPLACE FUNCTION usage_rollups_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO usage_rollups AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    SELECT i.customer_id, date_bin('15 minutes', i.recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), i.service_name,
           count(*), sum(i.quantity), min(i.quantity), max(i.quantity)
    FROM inserted i
    WHERE NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = i.customer_id AND a.event_id = i.event_id)
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
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
    ALTER TABLE usage_archived_events ENABLE ROW LEVEL SECURITY;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'usage_archived_events' AND policyname = 'usage_archived_events_admin_all') THEN
        CREATE POLICY usage_archived_events_admin_all ON usage_archived_events FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'usage_archived_events' AND policyname = 'usage_archived_events_customer_select') THEN
        CREATE POLICY usage_archived_events_customer_select ON usage_archived_events FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
END
$$;
