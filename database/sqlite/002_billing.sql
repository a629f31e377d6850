-- NSelf.Usage SQLite schema, migration 2: plans, quotas with pricing, subscriptions, alerts and
-- invoices (the logical schema of nself's billing tables plus the module's additions).
-- Money and prices are decimal TEXT (never arithmetic in SQL); instants are UTC microseconds.

CREATE TABLE billing_plans (
    plan_name     TEXT    NOT NULL PRIMARY KEY,
    display_name  TEXT,
    description   TEXT,
    price_monthly TEXT    NOT NULL DEFAULT '0',
    price_yearly  TEXT    NOT NULL DEFAULT '0',
    currency      TEXT    NOT NULL DEFAULT 'USD',
    is_active     INTEGER NOT NULL DEFAULT 1,
    sort_order    INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL DEFAULT 0
);

INSERT INTO billing_plans (plan_name, display_name, description, price_monthly, price_yearly, sort_order) VALUES
    ('free', 'Free', 'For trying things out', '0', '0', 1),
    ('starter', 'Starter', 'For small projects', '29', '290', 2),
    ('pro', 'Pro', 'For growing teams', '99', '990', 3),
    ('enterprise', 'Enterprise', 'For large organisations', '499', '4990', 4);

-- A plan's quota and price per service. limit_value -1 is unlimited (nself's rule).
CREATE TABLE billing_quotas (
    plan_name        TEXT    NOT NULL REFERENCES billing_plans (plan_name) ON DELETE CASCADE,
    service_name     TEXT    NOT NULL,
    limit_value      INTEGER NOT NULL DEFAULT -1,
    limit_type       TEXT    NOT NULL DEFAULT 'requests',
    enforcement_mode TEXT    NOT NULL DEFAULT 'soft' CHECK (enforcement_mode IN ('soft', 'hard')),
    overage_price    TEXT    NOT NULL DEFAULT '0',
    reset_period     TEXT    NOT NULL DEFAULT 'monthly' CHECK (reset_period IN ('daily', 'weekly', 'monthly')),
    pricing_model    TEXT    NOT NULL DEFAULT 'per_unit' CHECK (pricing_model IN ('per_unit', 'graduated', 'volume', 'package')),
    price_tiers      TEXT,
    package_size     TEXT,
    package_price    TEXT,
    PRIMARY KEY (plan_name, service_name)
);

INSERT INTO billing_quotas (plan_name, service_name, limit_value, limit_type, enforcement_mode, overage_price) VALUES
    ('free', 'api', 10000, 'requests', 'hard', '0.0001'),
    ('free', 'storage', 1, 'gb', 'hard', '0.10'),
    ('free', 'bandwidth', 10, 'gb', 'hard', '0.05'),
    ('free', 'compute', 10, 'cpu-hours', 'hard', '0.05'),
    ('free', 'database', 1000, 'connections', 'hard', '0.01'),
    ('free', 'functions', 1000, 'invocations', 'hard', '0.0002'),
    ('starter', 'api', 100000, 'requests', 'soft', '0.0001'),
    ('starter', 'storage', 10, 'gb', 'soft', '0.10'),
    ('starter', 'bandwidth', 100, 'gb', 'soft', '0.05'),
    ('starter', 'compute', 100, 'cpu-hours', 'soft', '0.05'),
    ('starter', 'database', 10000, 'connections', 'soft', '0.01'),
    ('starter', 'functions', 10000, 'invocations', 'soft', '0.0002'),
    ('pro', 'api', 1000000, 'requests', 'soft', '0.00005'),
    ('pro', 'storage', 100, 'gb', 'soft', '0.08'),
    ('pro', 'bandwidth', 1000, 'gb', 'soft', '0.04'),
    ('pro', 'compute', 1000, 'cpu-hours', 'soft', '0.04'),
    ('pro', 'database', 100000, 'connections', 'soft', '0.005'),
    ('pro', 'functions', 100000, 'invocations', 'soft', '0.0001'),
    ('enterprise', 'api', -1, 'requests', 'soft', '0'),
    ('enterprise', 'storage', -1, 'gb', 'soft', '0'),
    ('enterprise', 'bandwidth', -1, 'gb', 'soft', '0'),
    ('enterprise', 'compute', -1, 'cpu-hours', 'soft', '0'),
    ('enterprise', 'database', -1, 'connections', 'soft', '0'),
    ('enterprise', 'functions', -1, 'invocations', 'soft', '0');

-- One customer's quota for a service, overriding its plan's.
CREATE TABLE usage_customer_quotas (
    customer_id      TEXT    NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    service_name     TEXT    NOT NULL,
    limit_value      INTEGER NOT NULL DEFAULT -1,
    limit_type       TEXT    NOT NULL DEFAULT 'requests',
    enforcement_mode TEXT    NOT NULL DEFAULT 'soft' CHECK (enforcement_mode IN ('soft', 'hard')),
    overage_price    TEXT    NOT NULL DEFAULT '0',
    reset_period     TEXT    NOT NULL DEFAULT 'monthly' CHECK (reset_period IN ('daily', 'weekly', 'monthly')),
    pricing_model    TEXT    NOT NULL DEFAULT 'per_unit' CHECK (pricing_model IN ('per_unit', 'graduated', 'volume', 'package')),
    price_tiers      TEXT,
    package_size     TEXT,
    package_price    TEXT,
    PRIMARY KEY (customer_id, service_name)
);

CREATE TABLE billing_subscriptions (
    subscription_id      TEXT    NOT NULL PRIMARY KEY,
    customer_id          TEXT    NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    plan_name            TEXT    NOT NULL REFERENCES billing_plans (plan_name),
    status               TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'trialing', 'past_due', 'canceled', 'unpaid')),
    billing_cycle        TEXT    NOT NULL DEFAULT 'monthly' CHECK (billing_cycle IN ('monthly', 'yearly')),
    current_period_start INTEGER NOT NULL,
    current_period_end   INTEGER NOT NULL,
    anchor_local         TEXT    NOT NULL,
    time_zone            TEXT    NOT NULL DEFAULT 'UTC',
    cancel_at_period_end INTEGER NOT NULL DEFAULT 0,
    canceled_at          INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

-- At most one live subscription per customer.
CREATE UNIQUE INDEX ux_billing_subscriptions_live ON billing_subscriptions (customer_id) WHERE status IN ('active', 'trialing', 'past_due');

-- An alert is raised once per customer, service, level and quota period.
CREATE TABLE usage_alerts (
    alert_id     INTEGER NOT NULL PRIMARY KEY,
    customer_id  TEXT    NOT NULL,
    service_name TEXT    NOT NULL,
    level        TEXT    NOT NULL,
    used         TEXT    NOT NULL,
    limit_value  TEXT    NOT NULL,
    percent      TEXT    NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    raised_at    INTEGER NOT NULL,
    message      TEXT    NOT NULL,
    UNIQUE (customer_id, service_name, level, period_start)
);
CREATE INDEX ix_usage_alerts_raised ON usage_alerts (raised_at);

CREATE TABLE billing_invoices (
    invoice_id   TEXT    NOT NULL PRIMARY KEY,
    customer_id  TEXT    NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    plan_name    TEXT,
    status       TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency     TEXT    NOT NULL DEFAULT 'USD',
    subtotal     TEXT    NOT NULL,
    tax_rate     TEXT    NOT NULL,
    tax          TEXT    NOT NULL,
    total        TEXT    NOT NULL,
    period_start INTEGER NOT NULL,
    period_end   INTEGER NOT NULL,
    due_date     INTEGER,
    created_at   INTEGER NOT NULL,
    finalized_at INTEGER
);

-- One invoice per customer and period: a period can never be billed twice.
CREATE UNIQUE INDEX ux_billing_invoices_period ON billing_invoices (customer_id, period_start, period_end) WHERE status <> 'void';

-- Invoice lines, with the period each bills and the usage it came from: the events with
-- recorded_at in the period and ingested_at in (ingested_after, ingested_through].
CREATE TABLE billing_invoice_lines (
    invoice_id       TEXT    NOT NULL REFERENCES billing_invoices (invoice_id) ON DELETE CASCADE,
    line_number      INTEGER NOT NULL,
    customer_id      TEXT    NOT NULL,
    kind             TEXT    NOT NULL CHECK (kind IN ('base_fee', 'usage', 'adjustment')),
    service_name     TEXT,
    description      TEXT    NOT NULL,
    quantity         TEXT    NOT NULL,
    included         TEXT    NOT NULL,
    billable         TEXT    NOT NULL,
    unit             TEXT,
    unit_price       TEXT,
    amount           TEXT    NOT NULL,
    period_start     INTEGER NOT NULL,
    period_end       INTEGER NOT NULL,
    tiers            TEXT,
    events           INTEGER NOT NULL DEFAULT 0,
    events_hash      TEXT,
    ingested_after   INTEGER,
    ingested_through INTEGER,
    PRIMARY KEY (invoice_id, line_number)
);
CREATE INDEX ix_billing_invoice_lines_customer ON billing_invoice_lines (customer_id, period_start);
