-- A database as nself's own migrations 015 (billing system) and 019 (row-level security) leave
-- it, with data nself's tools wrote. Used to prove NSelf.Usage upgrades such a database in place.
CREATE TABLE billing_customers (
    customer_id varchar(255) PRIMARY KEY, project_name varchar(255) NOT NULL, email varchar(255), name varchar(255),
    company varchar(255), stripe_customer_id varchar(255) UNIQUE, metadata jsonb DEFAULT '{}',
    created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(), deleted_at timestamptz);
CREATE TABLE billing_plans (
    plan_id serial PRIMARY KEY, plan_name varchar(100) UNIQUE NOT NULL, display_name varchar(255), description text,
    price_monthly numeric(10,2), price_yearly numeric(10,2), stripe_price_id_monthly varchar(255), stripe_price_id_yearly varchar(255),
    features jsonb DEFAULT '{}', is_active boolean DEFAULT true, sort_order int DEFAULT 0, created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE TABLE billing_subscriptions (
    subscription_id varchar(255) PRIMARY KEY, customer_id varchar(255) REFERENCES billing_customers ON DELETE CASCADE,
    plan_name varchar(100) REFERENCES billing_plans (plan_name), stripe_subscription_id varchar(255) UNIQUE,
    status varchar(50) DEFAULT 'active', billing_cycle varchar(20) DEFAULT 'monthly', current_period_start timestamptz NOT NULL,
    current_period_end timestamptz NOT NULL, cancel_at_period_end boolean DEFAULT false, canceled_at timestamptz, trial_start timestamptz,
    trial_end timestamptz, metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE TABLE billing_quotas (
    quota_id serial PRIMARY KEY, plan_name varchar(100) REFERENCES billing_plans (plan_name), service_name varchar(100),
    limit_value bigint DEFAULT -1, limit_type varchar(50), enforcement_mode varchar(20) DEFAULT 'soft', overage_price numeric(10,6),
    reset_period varchar(20) DEFAULT 'monthly', metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now(),
    UNIQUE (plan_name, service_name));
CREATE TABLE billing_usage_records (
    usage_id bigserial PRIMARY KEY, customer_id varchar(255) REFERENCES billing_customers ON DELETE CASCADE, service_name varchar(100),
    quantity numeric(20,6) DEFAULT 1, unit_cost numeric(10,6) DEFAULT 0, metadata jsonb DEFAULT '{}', recorded_at timestamptz DEFAULT now(),
    aggregated boolean DEFAULT false, invoice_id varchar(255));
CREATE INDEX idx_usage_customer ON billing_usage_records (customer_id);
CREATE INDEX idx_usage_service ON billing_usage_records (service_name);
CREATE INDEX idx_usage_time ON billing_usage_records (recorded_at);
CREATE INDEX idx_usage_customer_service ON billing_usage_records (customer_id, service_name);
CREATE INDEX idx_usage_customer_time ON billing_usage_records (customer_id, recorded_at);
CREATE INDEX idx_usage_customer_service_time ON billing_usage_records (customer_id, service_name, recorded_at);
CREATE TABLE billing_invoices (
    invoice_id varchar(255) PRIMARY KEY, customer_id varchar(255) REFERENCES billing_customers, stripe_invoice_id varchar(255) UNIQUE,
    subscription_id varchar(255) REFERENCES billing_subscriptions, status varchar(50) DEFAULT 'draft', total_amount numeric(10,2),
    subtotal numeric(10,2), tax_amount numeric(10,2), discount_amount numeric(10,2), currency varchar(3) DEFAULT 'USD',
    period_start timestamptz, period_end timestamptz, due_date timestamptz, paid_at timestamptz, payment_method varchar(50),
    line_items jsonb DEFAULT '[]', metadata jsonb DEFAULT '{}', created_at timestamptz DEFAULT now(), updated_at timestamptz DEFAULT now());
CREATE MATERIALIZED VIEW billing_usage_daily_summary AS
    SELECT customer_id, service_name, date_trunc('day', recorded_at) AS usage_date, count(*) AS event_count,
           sum(quantity) AS total_quantity, sum(quantity * unit_cost) AS total_cost, min(recorded_at) AS first_event, max(recorded_at) AS last_event
    FROM billing_usage_records GROUP BY customer_id, service_name, date_trunc('day', recorded_at);
CREATE UNIQUE INDEX idx_usage_daily_summary ON billing_usage_daily_summary (customer_id, service_name, usage_date);
CREATE FUNCTION refresh_billing_usage_summary() RETURNS void AS $$
BEGIN REFRESH MATERIALIZED VIEW CONCURRENTLY billing_usage_daily_summary; END $$ LANGUAGE plpgsql;
CREATE FUNCTION get_quota_usage(p_customer varchar, p_service varchar) RETURNS numeric AS $$
    SELECT coalesce(sum(quantity), 0) FROM billing_usage_records
    WHERE customer_id = p_customer AND service_name = p_service AND recorded_at >= date_trunc('month', now()) $$ LANGUAGE sql;
INSERT INTO billing_plans (plan_name, display_name, price_monthly, price_yearly) VALUES
    ('free', 'Free', 0, 0), ('starter', 'Starter', 29, 290), ('pro', 'Pro', 99, 990), ('enterprise', 'Enterprise', 499, 4990);
INSERT INTO billing_quotas (plan_name, service_name, limit_value, limit_type, enforcement_mode, overage_price) VALUES
    ('free', 'api', 10000, 'requests', 'hard', 0.0001), ('starter', 'api', 150000, 'requests', 'soft', 0.0001);

-- 019: nself's policies.
ALTER TABLE billing_usage_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY usage_records_tenant_isolation ON billing_usage_records
    USING (customer_id = current_setting('app.current_customer_id', true) OR current_setting('app.is_admin', true) = 'true');

-- Data nself's tools wrote: two customers, a subscription, usage in October 2026, an invoice.
INSERT INTO billing_customers (customer_id, project_name, email) VALUES ('cus_old1', 'shop', 'a@shop.example'), ('cus_old2', 'blog', NULL);
INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, current_period_start, current_period_end)
    VALUES ('sub_1', 'cus_old1', 'starter', '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z');
INSERT INTO billing_usage_records (customer_id, service_name, quantity, metadata, recorded_at)
SELECT CASE WHEN i % 3 = 0 THEN 'cus_old2' ELSE 'cus_old1' END,
       CASE WHEN i % 2 = 0 THEN 'api' ELSE 'storage' END,
       CASE WHEN i % 2 = 0 THEN 1 ELSE 0.125 END,
       jsonb_build_object('n', i),
       TIMESTAMPTZ '2026-10-01T00:00:00Z' + (i * interval '7 minutes 13 seconds')
FROM generate_series(1, 3000) AS i;
INSERT INTO billing_invoices (invoice_id, customer_id, status, total_amount, period_start, period_end)
    VALUES ('inv_1', 'cus_old1', 'open', 29, '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z');
REFRESH MATERIALIZED VIEW billing_usage_daily_summary;
