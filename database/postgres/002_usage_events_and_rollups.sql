-- NSelf.Usage PostgreSQL migration 2: what the module adds to nself's schema. Additive only:
-- new columns on billing_usage_records (nullable or defaulted, back-filled for existing rows),
-- new tables, a trigger. nself's columns keep their meaning; recorded_at stays the time the usage
-- happened.

-- The idempotency key, the ingest time and the unit of each event.
ALTER TABLE billing_usage_records ADD COLUMN IF NOT EXISTS event_id varchar(255);
ALTER TABLE billing_usage_records ADD COLUMN IF NOT EXISTS ingested_at timestamptz;
ALTER TABLE billing_usage_records ADD COLUMN IF NOT EXISTS unit varchar(50);

-- Rows written by nself's tools before this migration get an id derived from their usage_id.
UPDATE billing_usage_records SET event_id = 'nself-' || usage_id WHERE event_id IS NULL;
-- Rows already stored were ingested when they were recorded, as far as anyone can tell.
UPDATE billing_usage_records SET ingested_at = coalesce(recorded_at, now()) WHERE ingested_at IS NULL;
ALTER TABLE billing_usage_records ALTER COLUMN ingested_at SET DEFAULT now();

-- Rows nself's tools insert later (without an event id) get one too, so the key is never null.
ALTER TABLE billing_usage_records ALTER COLUMN event_id SET DEFAULT 'nself-' || gen_random_uuid();
ALTER TABLE billing_usage_records ALTER COLUMN event_id SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS ux_billing_usage_customer_event ON billing_usage_records (customer_id, event_id);

-- Metered services: the six built-in ones with the bash library's units and display prices.
CREATE TABLE IF NOT EXISTS usage_services (
    service_name  varchar(100) PRIMARY KEY,
    unit          varchar(50) NOT NULL,
    display_price numeric(20,10) NOT NULL DEFAULT 0,
    currency      varchar(3) NOT NULL DEFAULT 'USD',
    builtin       boolean NOT NULL DEFAULT false,
    description   text,
    created_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO usage_services (service_name, unit, display_price, currency, builtin, description) VALUES
    ('api', 'requests', 0.0001, 'USD', true, 'API requests'),
    ('storage', 'GB-hours', 0.001, 'USD', true, 'Stored bytes over time'),
    ('bandwidth', 'GB', 0.01, 'USD', true, 'Transferred bytes'),
    ('compute', 'CPU-hours', 0.05, 'USD', true, 'CPU time'),
    ('database', 'queries', 0.00001, 'USD', true, 'Database queries'),
    ('functions', 'invocations', 0.0002, 'USD', true, 'Function invocations')
ON CONFLICT (service_name) DO NOTHING;

UPDATE billing_usage_records r SET unit = s.unit FROM usage_services s WHERE r.unit IS NULL AND s.service_name = r.service_name;

-- Quarter-hour totals per customer and service. Every zone in use today is offset from UTC by
-- whole quarter hours, so local hours, days, months and billing periods are unions of buckets.
CREATE TABLE IF NOT EXISTS usage_rollups (
    customer_id  varchar(255) NOT NULL,
    bucket_start timestamptz NOT NULL,
    service_name varchar(100) NOT NULL,
    events       bigint NOT NULL,
    quantity     numeric(30,6) NOT NULL,
    min_quantity numeric(20,6) NOT NULL,
    max_quantity numeric(20,6) NOT NULL,
    PRIMARY KEY (customer_id, bucket_start, service_name)
);
CREATE INDEX IF NOT EXISTS ix_usage_rollups_bucket ON usage_rollups (bucket_start);

-- The database keeps the rollups itself: one statement-level trigger folds every inserted batch
-- into its buckets, whoever inserts (this module's hosts, or nself's own tools). Rows are
-- upserted in key order so concurrent writers lock buckets in the same order and never deadlock.
-- SECURITY DEFINER: a customer-scoped role may insert its usage without being able to write the
-- rollups directly.
CREATE OR REPLACE FUNCTION usage_rollups_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    INSERT INTO usage_rollups AS r (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
    SELECT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name,
           count(*), sum(quantity), min(quantity), max(quantity)
    FROM inserted
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
        events = r.events + EXCLUDED.events,
        quantity = r.quantity + EXCLUDED.quantity,
        min_quantity = least(r.min_quantity, EXCLUDED.min_quantity),
        max_quantity = greatest(r.max_quantity, EXCLUDED.max_quantity);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS usage_rollups_after_insert ON billing_usage_records;
CREATE TRIGGER usage_rollups_after_insert
    AFTER INSERT ON billing_usage_records
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION usage_rollups_after_insert();

-- Existing usage (written by nself before this migration) is folded in once.
INSERT INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
SELECT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00'), service_name,
       count(*), sum(quantity), min(quantity), max(quantity)
FROM billing_usage_records
WHERE recorded_at IS NOT NULL
GROUP BY 1, 2, 3
ON CONFLICT DO NOTHING;
