-- NSelf.Usage PostgreSQL migration 18: alerts that reach people (issue 20). Actions say where an
-- alert goes (a signed webhook, e-mail); an outbox holds one delivery per new alert and matching
-- action until it has been delivered.

-- kind 'webhook': target is the URL; 'email': target is the addresses, joined by ', '. An alert
-- goes to an action when its level is one the action takes (on_*), and the action names no
-- service and no customer or the alert's.
CREATE TABLE IF NOT EXISTS usage_alert_actions (
    action_id    bigserial    PRIMARY KEY,
    name         varchar(100) NOT NULL UNIQUE,
    kind         varchar(10)  NOT NULL CHECK (kind IN ('webhook', 'email')),
    target       text         NOT NULL,
    on_warning   boolean      NOT NULL,
    on_critical  boolean      NOT NULL,
    on_exceeded  boolean      NOT NULL,
    service_name varchar(100),
    customer_id  varchar(255),
    created_at   timestamptz  NOT NULL,
    created_by   varchar(300) NOT NULL
);

-- A webhook's signing secret, apart from the action: row-level security without a policy hides it
-- from every role but the owner (as billing_smtp_secret, migration 16).
CREATE TABLE IF NOT EXISTS usage_alert_action_secrets (
    action_id bigint PRIMARY KEY REFERENCES usage_alert_actions (action_id) ON DELETE CASCADE,
    secret    text   NOT NULL
);
REVOKE ALL ON usage_alert_action_secrets FROM PUBLIC;
ALTER TABLE usage_alert_action_secrets ENABLE ROW LEVEL SECURITY;

-- The outbox. status: pending (to be sent at next_attempt_at; a sender holding an unexpired lease
-- is sending it now), delivered, failed (gave up after the last attempt), cancelled (its action was
-- removed first). action_name keeps the history readable after the action is gone.
CREATE TABLE IF NOT EXISTS usage_alert_deliveries (
    delivery_id     bigserial    PRIMARY KEY,
    alert_id        bigint       NOT NULL REFERENCES usage_alerts (alert_id) ON DELETE CASCADE,
    action_id       bigint       REFERENCES usage_alert_actions (action_id) ON DELETE SET NULL,
    action_name     varchar(100) NOT NULL,
    customer_id     varchar(255) NOT NULL,
    status          varchar(10)  NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts        integer      NOT NULL DEFAULT 0,
    next_attempt_at timestamptz  NOT NULL,
    lease_owner     varchar(300),
    lease_until     timestamptz,
    last_attempt_at timestamptz,
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz  NOT NULL,
    UNIQUE (alert_id, action_id)
);
CREATE INDEX IF NOT EXISTS ix_usage_alert_deliveries_due ON usage_alert_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS ix_usage_alert_deliveries_customer ON usage_alert_deliveries (customer_id, delivery_id);

-- Every new alert, whoever records it (this module on any host, nself's tools, an operator with
-- psql, a customer-scoped session), is put in the outbox in the same transaction, once per matching
-- action. SECURITY DEFINER: the alert's writer need not read the actions or write the outbox.
CREATE OR REPLACE FUNCTION usage_alerts_enqueue() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO usage_alert_deliveries (alert_id, action_id, action_name, customer_id, next_attempt_at, created_at)
    SELECT NEW.alert_id, a.action_id, a.name, NEW.customer_id, NEW.raised_at, NEW.raised_at
    FROM usage_alert_actions a
    WHERE ((NEW.level = 'warning' AND a.on_warning) OR (NEW.level = 'critical' AND a.on_critical) OR (NEW.level = 'exceeded' AND a.on_exceeded))
      AND (a.service_name IS NULL OR a.service_name = NEW.service_name)
      AND (a.customer_id IS NULL OR a.customer_id = NEW.customer_id);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION usage_alerts_enqueue() FROM PUBLIC;
DROP TRIGGER IF EXISTS usage_alerts_enqueue ON usage_alerts;
CREATE TRIGGER usage_alerts_enqueue AFTER INSERT ON usage_alerts FOR EACH ROW EXECUTE FUNCTION usage_alerts_enqueue();

-- Row-level security. The actions are the operator's: an admin or a session that names no customer
-- reads and writes them; a customer-scoped session sees none. The outbox as the ledger (migration
-- 17): an admin writes, a customer-scoped session reads its own, an unscoped session keeps its grants.
ALTER TABLE usage_alert_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_alert_deliveries ENABLE ROW LEVEL SECURITY;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_alert_actions'::regclass AND polname = 'usage_alert_actions_admin_all') THEN
        CREATE POLICY usage_alert_actions_admin_all ON usage_alert_actions FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_alert_actions'::regclass AND polname = 'usage_alert_actions_unscoped_all') THEN
        CREATE POLICY usage_alert_actions_unscoped_all ON usage_alert_actions FOR ALL
            USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_alert_deliveries'::regclass AND polname = 'usage_alert_deliveries_admin_all') THEN
        CREATE POLICY usage_alert_deliveries_admin_all ON usage_alert_deliveries FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_alert_deliveries'::regclass AND polname = 'usage_alert_deliveries_customer_select') THEN
        CREATE POLICY usage_alert_deliveries_customer_select ON usage_alert_deliveries FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_alert_deliveries'::regclass AND polname = 'usage_alert_deliveries_unscoped_all') THEN
        CREATE POLICY usage_alert_deliveries_unscoped_all ON usage_alert_deliveries FOR ALL
            USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL);
    END IF;
END
$$;
