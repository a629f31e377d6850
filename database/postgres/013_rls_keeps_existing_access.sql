-- NSelf.Usage PostgreSQL migration 13: row-level security never takes away access a role had.
--
-- Migrations 3, 4, 5, 6, 7 and 11 enable row-level security on the tables below with the module's
-- policies only: admin (app.is_admin = 'true') and customer-scoped (app.current_customer_id). A
-- role that is not the tables' owner and sets neither setting, as nself's own application role
-- does on a database where nself never enabled its row-level security (its migration 019), then
-- read no rows and could insert none. Such a session names no customer, so it keeps what its
-- grants gave it before the upgrade: the policy <table>_unscoped_all lets a session with no
-- app.current_customer_id read and write as if row-level security were off.
--
-- A session that names a customer (Connect-UsageStore -CustomerScope, or nself's tenant context)
-- is untouched by that policy and still sees and writes only that customer's rows.
--
-- A table that already carries a policy other than the module's own (nself's 019 on
-- billing_usage_records, or an operator's) gets nothing: whoever enabled row-level security there
-- decided who sees what, and the module neither widens nor narrows it. (Policies added there after
-- this migration are the operator's to combine: permissive policies are OR-ed, so a later foreign
-- policy on a table with <table>_unscoped_all does not hide rows from unscoped sessions.)
--
-- This is not tenant isolation: the database does not stop a session from omitting or changing
-- app.current_customer_id; it is the role's grants that decide, as before the upgrade. Isolation
-- keyed on the role, which a session cannot opt out of, is issue 22 (Enable-UsageTenantIsolation).

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['billing_customers', 'billing_subscriptions', 'billing_usage_records', 'billing_invoices',
                             'usage_rollups', 'usage_customer_quotas', 'usage_alerts', 'billing_invoice_lines',
                             'usage_archived_events', 'usage_rollups_daily', 'billing_plan_changes', 'billing_line_events'] LOOP
        -- By the table itself (pg_policy.polrelid), not by name: a same-named table in another
        -- schema says nothing about this one.
        IF NOT EXISTS (SELECT 1 FROM pg_policy p
                       WHERE p.polrelid = format('%I', t)::regclass
                         AND p.polname NOT IN (t || '_admin_all', t || '_customer_select', t || '_customer_insert', t || '_unscoped_all'))
           AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = format('%I', t)::regclass AND p.polname = t || '_unscoped_all') THEN
            EXECUTE format('CREATE POLICY %I ON %I FOR ALL USING (usage_current_customer() IS NULL) WITH CHECK (usage_current_customer() IS NULL)',
                           t || '_unscoped_all', t);
        END IF;
    END LOOP;
END
$$;
