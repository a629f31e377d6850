-- NSelf.Usage SQLite schema, migration 1: customers, services, usage events and rollups.
-- The logical schema follows nself's PostgreSQL billing schema (billing_customers,
-- billing_usage_records) with SQLite storage choices:
--   * instants are INTEGER microseconds since 1970-01-01 UTC (exact, sortable);
--   * quantities are INTEGER millionths (nself's numeric(20,6) scaled by 10^6), so SUM is an
--     exact integer sum that fails on overflow instead of rounding;
--   * prices are decimal TEXT, never arithmetic in SQL.

CREATE TABLE billing_customers (
    customer_id        TEXT    NOT NULL PRIMARY KEY,
    project_name       TEXT    NOT NULL,
    email              TEXT,
    name               TEXT,
    company            TEXT,
    stripe_customer_id TEXT    UNIQUE,
    metadata           TEXT    NOT NULL DEFAULT '{}',
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    deleted_at         INTEGER
);

CREATE TABLE usage_services (
    service_name  TEXT    NOT NULL PRIMARY KEY,
    unit          TEXT    NOT NULL,
    display_price TEXT    NOT NULL DEFAULT '0',
    currency      TEXT    NOT NULL DEFAULT 'USD',
    builtin       INTEGER NOT NULL DEFAULT 0,
    description   TEXT,
    created_at    INTEGER NOT NULL
);

INSERT INTO usage_services (service_name, unit, display_price, currency, builtin, description, created_at) VALUES
    ('api',       'requests',    '0.0001',  'USD', 1, 'API requests',          0),
    ('storage',   'GB-hours',    '0.001',   'USD', 1, 'Stored bytes over time', 0),
    ('bandwidth', 'GB',          '0.01',    'USD', 1, 'Transferred bytes',     0),
    ('compute',   'CPU-hours',   '0.05',    'USD', 1, 'CPU time',              0),
    ('database',  'queries',     '0.00001', 'USD', 1, 'Database queries',      0),
    ('functions', 'invocations', '0.0002',  'USD', 1, 'Function invocations',  0);

-- One row per event. recorded_at is when the usage happened (nself's meaning of the column);
-- ingested_at is when this store accepted it. (customer_id, event_id) is the idempotency key.
CREATE TABLE billing_usage_records (
    usage_id     INTEGER NOT NULL PRIMARY KEY,
    event_id     TEXT    NOT NULL,
    customer_id  TEXT    NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    service_name TEXT    NOT NULL,
    quantity     INTEGER NOT NULL CHECK (quantity >= 0),
    unit         TEXT    NOT NULL,
    metadata     TEXT    NOT NULL DEFAULT '{}',
    recorded_at  INTEGER NOT NULL,
    ingested_at  INTEGER NOT NULL,
    invoice_id   TEXT,
    UNIQUE (customer_id, event_id)
);

-- Raw events are read by customer and time (interval edges, listings). There is deliberately no
-- index on time alone: every index costs each insert, and reads across all customers come from
-- the rollups; only maintenance (archiving every customer) scans the table.
CREATE INDEX ix_usage_records_customer_time ON billing_usage_records (customer_id, recorded_at);

-- Quarter-hour totals per customer and service, updated in the same transaction as the events.
-- Quarter hours (not hours) because every zone in use today is offset from UTC by whole
-- quarter hours, so local hours, days and months in any zone are unions of these buckets.
CREATE TABLE usage_rollups (
    customer_id  TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,
    service_name TEXT    NOT NULL,
    events       INTEGER NOT NULL,
    quantity     INTEGER NOT NULL,
    min_quantity INTEGER NOT NULL,
    max_quantity INTEGER NOT NULL,
    PRIMARY KEY (customer_id, bucket_start, service_name)
) WITHOUT ROWID;

CREATE INDEX ix_usage_rollups_bucket ON usage_rollups (bucket_start);
