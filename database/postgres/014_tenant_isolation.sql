-- NSelf.Usage PostgreSQL migration 14: what tenant isolation keyed on the database role needs
-- (issue 22). It changes nobody's access: Enable-UsageTenantIsolation turns the policies on.
--
-- The settings of migration 3 (app.is_admin, app.current_customer_id) are the session's to
-- change, so they cannot isolate tenants who hold the credentials. The role a session logged in
-- as can be changed only to a role it is a member of. So isolation asks: is the current role a
-- member of usage_admin (sees every customer), or of a role mapped to the row's customer in
-- usage_customer_access? The setting app.current_customer_id then narrows (never widens) that.
--
-- usage_admin is not created here: a migration must not need CREATEROLE. Enable creates it.

CREATE TABLE IF NOT EXISTS usage_customer_access (
    role_name   name NOT NULL,
    customer_id varchar(255) NOT NULL REFERENCES billing_customers (customer_id) ON DELETE CASCADE,
    granted_at  timestamptz NOT NULL DEFAULT now(),
    granted_by  name NOT NULL DEFAULT current_user,
    PRIMARY KEY (role_name, customer_id)
);

CREATE INDEX IF NOT EXISTS usage_customer_access_customer ON usage_customer_access (customer_id);

-- The roles the current role acts as: itself and every role it is a member of (directly or not).
-- From pg_roles, not from the mapping's names, so a mapping of a role since dropped is ignored
-- instead of failing every query (pg_has_role raises on an unknown role name).
CREATE OR REPLACE FUNCTION usage_current_roles() RETURNS name[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(rolname), '{}') FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER')
$$;

-- Whether the current role is a member of usage_admin; false (not an error) while that role does not exist.
CREATE OR REPLACE FUNCTION usage_tenant_is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'usage_admin' AND pg_has_role(current_user, oid, 'MEMBER'))
$$;

-- The customers the current role may act for in this session: NULL for every customer (an admin
-- whose session names none), otherwise an array (empty: none). app.current_customer_id narrows
-- it to that one customer; app.is_admin plays no part. Not SECURITY DEFINER: current_user must be
-- the querying role. The policies call it once per statement (an uncorrelated sub-select is an
-- InitPlan), so a COPY of many rows pays one lookup, not one per row.
CREATE OR REPLACE FUNCTION usage_tenant_customers() RETURNS varchar[] LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN usage_tenant_is_admin() THEN
            CASE WHEN usage_current_customer() IS NULL THEN NULL ELSE ARRAY[usage_current_customer()]::varchar[] END
        ELSE coalesce((SELECT array_agg(DISTINCT a.customer_id)
                       FROM usage_customer_access a
                       WHERE a.role_name = ANY ((SELECT usage_current_roles())::name[])
                         AND (usage_current_customer() IS NULL OR a.customer_id = usage_current_customer())), '{}')
    END
$$;

-- Whether the current role may act for a customer in this session (for one-off checks; the
-- policies inline the same test around a once-per-statement sub-select).
CREATE OR REPLACE FUNCTION usage_tenant_admits(customer varchar) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT t IS NULL OR customer = ANY (t) FROM (SELECT usage_tenant_customers() AS t) s
$$;

-- Every role may read the mappings of the roles it acts as (so the function above sees them);
-- only admins (usage_admin members, and the owner, who bypasses row-level security) see all and
-- write: a tenant cannot map itself to another customer.
GRANT SELECT ON usage_customer_access TO PUBLIC;
ALTER TABLE usage_customer_access ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_customer_access'::regclass AND polname = 'usage_customer_access_member_select') THEN
        CREATE POLICY usage_customer_access_member_select ON usage_customer_access FOR SELECT
            USING (role_name = ANY ((SELECT usage_current_roles())::name[]) OR (SELECT usage_tenant_is_admin()));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_customer_access'::regclass AND polname = 'usage_customer_access_admin_all') THEN
        CREATE POLICY usage_customer_access_admin_all ON usage_customer_access FOR ALL
            USING ((SELECT usage_tenant_is_admin())) WITH CHECK ((SELECT usage_tenant_is_admin()));
    END IF;
END
$$;
