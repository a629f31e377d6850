-- NSelf.Usage PostgreSQL migration 7: the plan history of subscriptions. A plan change takes
-- effect from the start of the billing period it is made in; closed periods keep the plan they
-- had, so an invoice made later for one of them is priced as it would have been then.

CREATE TABLE IF NOT EXISTS billing_plan_changes (
    subscription_id varchar(255) NOT NULL REFERENCES billing_subscriptions (subscription_id) ON DELETE CASCADE,
    customer_id     varchar(255) NOT NULL,
    effective_from  timestamptz NOT NULL,
    changed_at      timestamptz NOT NULL,
    from_plan       varchar(100) NOT NULL,
    to_plan         varchar(100) NOT NULL,
    PRIMARY KEY (subscription_id, effective_from, changed_at)
);
CREATE INDEX IF NOT EXISTS ix_billing_plan_changes_customer ON billing_plan_changes (customer_id);

DO $$
BEGIN
    ALTER TABLE billing_plan_changes ENABLE ROW LEVEL SECURITY;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_plan_changes' AND policyname = 'billing_plan_changes_admin_all') THEN
        CREATE POLICY billing_plan_changes_admin_all ON billing_plan_changes FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_plan_changes' AND policyname = 'billing_plan_changes_customer_select') THEN
        CREATE POLICY billing_plan_changes_customer_select ON billing_plan_changes FOR SELECT USING (customer_id = usage_current_customer());
    END IF;
END
$$;
