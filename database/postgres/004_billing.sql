-- NSelf.Usage PostgreSQL migration 4: pricing, per-customer quotas, subscription anchors, alerts
-- and invoice lines. Additive: new nullable or defaulted columns on nself's tables, new tables,
-- and uniqueness rules that are only created when existing data already satisfies them.

ALTER TABLE billing_plans ADD COLUMN IF NOT EXISTS currency varchar(3) NOT NULL DEFAULT 'USD';

ALTER TABLE billing_quotas ADD COLUMN IF NOT EXISTS pricing_model varchar(20) NOT NULL DEFAULT 'per_unit';
ALTER TABLE billing_quotas ADD COLUMN IF NOT EXISTS price_tiers jsonb;
ALTER TABLE billing_quotas ADD COLUMN IF NOT EXISTS package_size numeric(20,6);
ALTER TABLE billing_quotas ADD COLUMN IF NOT EXISTS package_price numeric(20,6);

-- One customer's quota for a service, overriding its plan's.
CREATE TABLE IF NOT EXISTS usage_customer_quotas (
    customer_id      varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    service_name     varchar(100) NOT NULL,
    limit_value      bigint NOT NULL DEFAULT -1,
    limit_type       varchar(50) NOT NULL DEFAULT 'requests',
    enforcement_mode varchar(20) NOT NULL DEFAULT 'soft' CHECK (enforcement_mode IN ('soft', 'hard')),
    overage_price    numeric(10,6) NOT NULL DEFAULT 0,
    reset_period     varchar(20) NOT NULL DEFAULT 'monthly' CHECK (reset_period IN ('daily', 'weekly', 'monthly')),
    pricing_model    varchar(20) NOT NULL DEFAULT 'per_unit',
    price_tiers      jsonb,
    package_size     numeric(20,6),
    package_price    numeric(20,6),
    PRIMARY KEY (customer_id, service_name)
);

-- Periods roll forward from an anchor in the customer's zone.
ALTER TABLE billing_subscriptions ADD COLUMN IF NOT EXISTS anchor_local timestamp;
ALTER TABLE billing_subscriptions ADD COLUMN IF NOT EXISTS time_zone varchar(64) NOT NULL DEFAULT 'UTC';
UPDATE billing_subscriptions SET anchor_local = current_period_start AT TIME ZONE 'UTC' WHERE anchor_local IS NULL;

-- At most one live subscription per customer; nself did not enforce it, so it is added only
-- where the existing rows already keep the rule (otherwise the module enforces it on writes).
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT customer_id FROM billing_subscriptions WHERE status IN ('active', 'trialing', 'past_due')
        GROUP BY customer_id HAVING count(*) > 1)
    THEN
        CREATE UNIQUE INDEX IF NOT EXISTS ux_billing_subscriptions_live ON billing_subscriptions (customer_id)
            WHERE status IN ('active', 'trialing', 'past_due');
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS usage_alerts (
    alert_id     bigserial PRIMARY KEY,
    customer_id  varchar(255) NOT NULL,
    service_name varchar(100) NOT NULL,
    level        varchar(20) NOT NULL,
    used         numeric(30,6) NOT NULL,
    limit_value  numeric(30,6) NOT NULL,
    percent      numeric(12,4) NOT NULL,
    period_start timestamptz NOT NULL,
    period_end   timestamptz NOT NULL,
    raised_at    timestamptz NOT NULL DEFAULT now(),
    message      text NOT NULL,
    UNIQUE (customer_id, service_name, level, period_start)
);
CREATE INDEX IF NOT EXISTS ix_usage_alerts_raised ON usage_alerts (raised_at);

ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS plan_name varchar(100);
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS tax_rate numeric(8,4) NOT NULL DEFAULT 0;
ALTER TABLE billing_invoices ADD COLUMN IF NOT EXISTS finalized_at timestamptz;

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT customer_id FROM billing_invoices WHERE status <> 'void'
        GROUP BY customer_id, period_start, period_end HAVING count(*) > 1)
    THEN
        CREATE UNIQUE INDEX IF NOT EXISTS ux_billing_invoices_period ON billing_invoices (customer_id, period_start, period_end)
            WHERE status <> 'void';
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS billing_invoice_lines (
    invoice_id       varchar(255) NOT NULL REFERENCES billing_invoices (invoice_id) ON DELETE CASCADE,
    line_number      integer NOT NULL,
    customer_id      varchar(255) NOT NULL,
    kind             varchar(20) NOT NULL CHECK (kind IN ('base_fee', 'usage', 'adjustment')),
    service_name     varchar(100),
    description      text NOT NULL,
    quantity         numeric(30,6) NOT NULL,
    included         numeric(30,6) NOT NULL,
    billable         numeric(30,6) NOT NULL,
    unit             varchar(50),
    unit_price       numeric(20,10),
    amount           numeric(14,4) NOT NULL,
    period_start     timestamptz NOT NULL,
    period_end       timestamptz NOT NULL,
    tiers            jsonb,
    events           bigint NOT NULL DEFAULT 0,
    events_hash      char(64),
    ingested_after   timestamptz,
    ingested_through timestamptz,
    PRIMARY KEY (invoice_id, line_number)
);
CREATE INDEX IF NOT EXISTS ix_billing_invoice_lines_customer ON billing_invoice_lines (customer_id, period_start);

-- Row-level security for the new per-customer tables, as for nself's.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['usage_customer_quotas', 'usage_alerts', 'billing_invoice_lines'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = t AND policyname = t || '_admin_all') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin())', t || '_admin_all', t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = t AND policyname = t || '_customer_select') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (customer_id = usage_current_customer())', t || '_customer_select', t);
        END IF;
    END LOOP;
    -- A customer-scoped session records its own quota alerts.
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'usage_alerts' AND policyname = 'usage_alerts_customer_insert') THEN
        CREATE POLICY usage_alerts_customer_insert ON usage_alerts FOR INSERT WITH CHECK (customer_id = usage_current_customer());
    END IF;
END
$$;
