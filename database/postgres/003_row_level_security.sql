-- NSelf.Usage PostgreSQL migration 3: nself's row-level security (its migration 019), where it
-- is not already in place. A session scoped to a customer (the setting app.current_customer_id,
-- which Connect-UsageStore -CustomerScope sets) reads only that customer's rows and may insert
-- usage for itself, never update or delete it; a session with app.is_admin = 'true' sees all.
-- Table owners and superusers bypass these policies, as in any PostgreSQL database.

CREATE OR REPLACE FUNCTION usage_is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.is_admin', true), '') = 'true'
$$;

CREATE OR REPLACE FUNCTION usage_current_customer() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT nullif(current_setting('app.current_customer_id', true), '')
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['billing_customers', 'billing_subscriptions', 'billing_usage_records', 'billing_invoices', 'usage_rollups'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = t AND policyname = t || '_admin_all') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (usage_is_admin()) WITH CHECK (usage_is_admin())', t || '_admin_all', t);
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = t AND policyname = t || '_customer_select') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR SELECT USING (customer_id = usage_current_customer())', t || '_customer_select', t);
        END IF;
    END LOOP;
    -- A customer may register itself and insert its own usage; nothing else.
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_customers' AND policyname = 'billing_customers_customer_insert') THEN
        CREATE POLICY billing_customers_customer_insert ON billing_customers FOR INSERT WITH CHECK (customer_id = usage_current_customer());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_usage_records' AND policyname = 'billing_usage_records_customer_insert') THEN
        CREATE POLICY billing_usage_records_customer_insert ON billing_usage_records FOR INSERT WITH CHECK (customer_id = usage_current_customer());
    END IF;
END
$$;
