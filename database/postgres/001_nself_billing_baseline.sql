-- NSelf.Usage PostgreSQL migration 1: nself's billing schema (its migration 015), as the baseline.
-- On an empty database this creates nself's tables, seeds its plans and quotas, and creates the
-- daily summary view and helper functions. On a database where nself already created them,
-- every statement is a no-op: nothing of nself's is altered, replaced or re-seeded.

CREATE TABLE IF NOT EXISTS billing_customers (
    customer_id        varchar(255) PRIMARY KEY,
    project_name       varchar(255) NOT NULL,
    email              varchar(255),
    name               varchar(255),
    company            varchar(255),
    stripe_customer_id varchar(255) UNIQUE,
    metadata           jsonb DEFAULT '{}'::jsonb,
    created_at         timestamptz DEFAULT now(),
    updated_at         timestamptz DEFAULT now(),
    deleted_at         timestamptz
);

CREATE TABLE IF NOT EXISTS billing_plans (
    plan_id                 serial PRIMARY KEY,
    plan_name               varchar(100) UNIQUE NOT NULL,
    display_name            varchar(255),
    description             text,
    price_monthly           numeric(10,2) DEFAULT 0,
    price_yearly            numeric(10,2) DEFAULT 0,
    stripe_price_id_monthly varchar(255),
    stripe_price_id_yearly  varchar(255),
    features                jsonb DEFAULT '{}'::jsonb,
    is_active               boolean DEFAULT true,
    sort_order              integer DEFAULT 0,
    created_at              timestamptz DEFAULT now(),
    updated_at              timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS billing_subscriptions (
    subscription_id        varchar(255) PRIMARY KEY,
    customer_id            varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    plan_name              varchar(100) NOT NULL REFERENCES billing_plans (plan_name),
    stripe_subscription_id varchar(255) UNIQUE,
    status                 varchar(50) NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'trialing', 'past_due', 'canceled', 'unpaid')),
    billing_cycle          varchar(20) NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'yearly')),
    current_period_start   timestamptz NOT NULL,
    current_period_end     timestamptz NOT NULL,
    cancel_at_period_end   boolean DEFAULT false,
    canceled_at            timestamptz,
    trial_start            timestamptz,
    trial_end              timestamptz,
    metadata               jsonb DEFAULT '{}'::jsonb,
    created_at             timestamptz DEFAULT now(),
    updated_at             timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS billing_quotas (
    quota_id         serial PRIMARY KEY,
    plan_name        varchar(100) NOT NULL REFERENCES billing_plans (plan_name) ON DELETE CASCADE,
    service_name     varchar(100) NOT NULL,
    limit_value      bigint NOT NULL DEFAULT -1,
    limit_type       varchar(50) NOT NULL DEFAULT 'requests',
    enforcement_mode varchar(20) NOT NULL DEFAULT 'soft' CHECK (enforcement_mode IN ('soft', 'hard')),
    overage_price    numeric(10,6) DEFAULT 0,
    reset_period     varchar(20) DEFAULT 'monthly' CHECK (reset_period IN ('daily', 'weekly', 'monthly')),
    metadata         jsonb DEFAULT '{}'::jsonb,
    created_at       timestamptz DEFAULT now(),
    updated_at       timestamptz DEFAULT now(),
    UNIQUE (plan_name, service_name)
);

CREATE TABLE IF NOT EXISTS billing_usage_records (
    usage_id     bigserial PRIMARY KEY,
    customer_id  varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    service_name varchar(100) NOT NULL,
    quantity     numeric(20,6) NOT NULL DEFAULT 1,
    unit_cost    numeric(10,6) DEFAULT 0,
    metadata     jsonb DEFAULT '{}'::jsonb,
    recorded_at  timestamptz DEFAULT now(),
    aggregated   boolean DEFAULT false,
    invoice_id   varchar(255)
);

CREATE INDEX IF NOT EXISTS idx_billing_usage_customer ON billing_usage_records (customer_id);
CREATE INDEX IF NOT EXISTS idx_billing_usage_service ON billing_usage_records (service_name);
CREATE INDEX IF NOT EXISTS idx_billing_usage_recorded ON billing_usage_records (recorded_at);
CREATE INDEX IF NOT EXISTS idx_billing_usage_customer_service ON billing_usage_records (customer_id, service_name);
CREATE INDEX IF NOT EXISTS idx_billing_usage_customer_recorded ON billing_usage_records (customer_id, recorded_at);
CREATE INDEX IF NOT EXISTS idx_billing_usage_customer_service_recorded ON billing_usage_records (customer_id, service_name, recorded_at);

CREATE TABLE IF NOT EXISTS billing_invoices (
    invoice_id        varchar(255) PRIMARY KEY,
    customer_id       varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    stripe_invoice_id varchar(255) UNIQUE,
    subscription_id   varchar(255) REFERENCES billing_subscriptions (subscription_id),
    status            varchar(50) NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    total_amount      numeric(10,2) DEFAULT 0,
    subtotal          numeric(10,2) DEFAULT 0,
    tax_amount        numeric(10,2) DEFAULT 0,
    discount_amount   numeric(10,2) DEFAULT 0,
    currency          varchar(3) DEFAULT 'USD',
    period_start      timestamptz,
    period_end        timestamptz,
    due_date          timestamptz,
    paid_at           timestamptz,
    payment_method    varchar(50),
    line_items        jsonb DEFAULT '[]'::jsonb,
    metadata          jsonb DEFAULT '{}'::jsonb,
    created_at        timestamptz DEFAULT now(),
    updated_at        timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS billing_payment_methods (
    payment_method_id        varchar(255) PRIMARY KEY,
    customer_id              varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    stripe_payment_method_id varchar(255) UNIQUE,
    type                     varchar(50),
    is_default               boolean DEFAULT false,
    metadata                 jsonb DEFAULT '{}'::jsonb,
    created_at               timestamptz DEFAULT now(),
    updated_at               timestamptz DEFAULT now()
);

CREATE TABLE IF NOT EXISTS billing_events (
    event_id        bigserial PRIMARY KEY,
    event_type      varchar(100) NOT NULL,
    stripe_event_id varchar(255) UNIQUE,
    customer_id     varchar(255),
    payload         jsonb DEFAULT '{}'::jsonb,
    processed       boolean DEFAULT false,
    processed_at    timestamptz,
    created_at      timestamptz DEFAULT now()
);

-- nself's seeded plans and quotas; existing rows (and any changes made to them) are kept.
INSERT INTO billing_plans (plan_name, display_name, description, price_monthly, price_yearly, sort_order) VALUES
    ('free', 'Free', 'For trying things out', 0, 0, 1),
    ('starter', 'Starter', 'For small projects', 29, 290, 2),
    ('pro', 'Pro', 'For growing teams', 99, 990, 3),
    ('enterprise', 'Enterprise', 'For large organisations', 499, 4990, 4)
ON CONFLICT (plan_name) DO NOTHING;

INSERT INTO billing_quotas (plan_name, service_name, limit_value, limit_type, enforcement_mode, overage_price) VALUES
    ('free', 'api', 10000, 'requests', 'hard', 0.0001),
    ('free', 'storage', 1, 'gb', 'hard', 0.10),
    ('free', 'bandwidth', 10, 'gb', 'hard', 0.05),
    ('free', 'compute', 10, 'cpu-hours', 'hard', 0.05),
    ('free', 'database', 1000, 'connections', 'hard', 0.01),
    ('free', 'functions', 1000, 'invocations', 'hard', 0.0002),
    ('starter', 'api', 100000, 'requests', 'soft', 0.0001),
    ('starter', 'storage', 10, 'gb', 'soft', 0.10),
    ('starter', 'bandwidth', 100, 'gb', 'soft', 0.05),
    ('starter', 'compute', 100, 'cpu-hours', 'soft', 0.05),
    ('starter', 'database', 10000, 'connections', 'soft', 0.01),
    ('starter', 'functions', 10000, 'invocations', 'soft', 0.0002),
    ('pro', 'api', 1000000, 'requests', 'soft', 0.00005),
    ('pro', 'storage', 100, 'gb', 'soft', 0.08),
    ('pro', 'bandwidth', 1000, 'gb', 'soft', 0.04),
    ('pro', 'compute', 1000, 'cpu-hours', 'soft', 0.04),
    ('pro', 'database', 100000, 'connections', 'soft', 0.005),
    ('pro', 'functions', 100000, 'invocations', 'soft', 0.0001),
    ('enterprise', 'api', -1, 'requests', 'soft', 0),
    ('enterprise', 'storage', -1, 'gb', 'soft', 0),
    ('enterprise', 'bandwidth', -1, 'gb', 'soft', 0),
    ('enterprise', 'compute', -1, 'cpu-hours', 'soft', 0),
    ('enterprise', 'database', -1, 'connections', 'soft', 0),
    ('enterprise', 'functions', -1, 'invocations', 'soft', 0)
ON CONFLICT (plan_name, service_name) DO NOTHING;

CREATE MATERIALIZED VIEW IF NOT EXISTS billing_usage_daily_summary AS
SELECT customer_id,
       service_name,
       date_trunc('day', recorded_at AT TIME ZONE 'UTC') AS usage_date,
       count(*) AS event_count,
       sum(quantity) AS total_quantity,
       sum(quantity * unit_cost) AS total_cost,
       min(recorded_at) AS first_event,
       max(recorded_at) AS last_event
FROM billing_usage_records
GROUP BY customer_id, service_name, date_trunc('day', recorded_at AT TIME ZONE 'UTC')
WITH DATA;

CREATE UNIQUE INDEX IF NOT EXISTS idx_billing_usage_daily_summary_unique
    ON billing_usage_daily_summary (customer_id, service_name, usage_date);

-- nself's helpers, created only where nself has not already defined them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'refresh_billing_usage_summary') THEN
        CREATE FUNCTION refresh_billing_usage_summary() RETURNS void LANGUAGE plpgsql AS $f$
        BEGIN
            REFRESH MATERIALIZED VIEW CONCURRENTLY billing_usage_daily_summary;
        END
        $f$;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'get_quota_usage') THEN
        CREATE FUNCTION get_quota_usage(p_customer_id varchar, p_service_name varchar) RETURNS numeric LANGUAGE sql STABLE AS $f$
            SELECT coalesce(sum(quantity), 0) FROM billing_usage_records
            WHERE customer_id = p_customer_id AND service_name = p_service_name
              AND recorded_at >= date_trunc('month', now());
        $f$;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = 'is_quota_exceeded') THEN
        CREATE FUNCTION is_quota_exceeded(p_customer_id varchar, p_service_name varchar, p_requested numeric DEFAULT 1) RETURNS boolean LANGUAGE sql STABLE AS $f$
            SELECT coalesce(bool_or(q.limit_value <> -1 AND get_quota_usage(p_customer_id, p_service_name) + p_requested > q.limit_value), false)
            FROM billing_subscriptions s
            JOIN billing_quotas q ON q.plan_name = s.plan_name AND q.service_name = p_service_name
            WHERE s.customer_id = p_customer_id AND s.status IN ('active', 'trialing');
        $f$;
    END IF;
END
$$;
