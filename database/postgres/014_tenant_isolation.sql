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

-- The functions that query are PL/pgSQL, not SQL: PostgreSQL plans a SQL function's body again
-- for every statement that calls it (several times when one statement reads several customer
-- tables), and that planning was most of what isolation cost a tracking call (2.8 ms against
-- 0.4 ms); a PL/pgSQL function keeps its plans for the session. A SQL function that is a bare
-- expression is inlined instead, which costs nothing.

-- The roles the current role acts as: itself and every role it is a member of (directly or not).
-- From pg_roles, not from the mapping's names, so a mapping of a role since dropped is ignored
-- instead of failing every query (pg_has_role raises on an unknown role name).
CREATE OR REPLACE FUNCTION usage_current_roles() RETURNS name[] LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT coalesce(array_agg(rolname), '{}') FROM pg_roles WHERE pg_has_role(current_user, oid, 'MEMBER'));
END
$$;

-- Whether the current role is a member of usage_admin; false (not an error) while that role does
-- not exist (to_regrole answers NULL, and pg_has_role of NULL is NULL). An expression, no scan.
CREATE OR REPLACE FUNCTION usage_tenant_is_admin() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(pg_has_role(current_user, to_regrole('usage_admin'), 'MEMBER'), false)
$$;

-- The customers the current role may act for in this session: NULL for every customer (an admin
-- whose session names none), otherwise an array (empty: none). app.current_customer_id narrows
-- it to that one customer; app.is_admin plays no part. Not SECURITY DEFINER: current_user must be
-- the querying role. The policies call it once per statement and table (an uncorrelated
-- sub-select is an InitPlan), so a batch of many rows pays one lookup, not one per row.
CREATE OR REPLACE FUNCTION usage_tenant_customers() RETURNS varchar[] LANGUAGE plpgsql STABLE
-- A generic plan: re-planning the mapping query (with its row-level security) for every call
-- cost 100 us; the plan does not depend on the values.
SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    scope text := usage_current_customer();
BEGIN
    IF usage_tenant_is_admin() THEN
        RETURN CASE WHEN scope IS NULL THEN NULL ELSE ARRAY[scope]::varchar[] END;
    END IF;
    IF scope IS NOT NULL THEN
        -- The hot path (a scoped session): the mappings of that one customer, by its index; the
        -- mapping table's own policy keeps those of roles the current role is a member of.
        RETURN CASE WHEN EXISTS (SELECT 1 FROM usage_customer_access a WHERE a.customer_id = scope) THEN ARRAY[scope]::varchar[] ELSE '{}' END;
    END IF;
    RETURN coalesce((SELECT array_agg(DISTINCT a.customer_id)
                     FROM usage_customer_access a
                     WHERE a.role_name = ANY (usage_current_roles())), '{}');
END
$$;

-- Whether the current role may act for a customer in this session (for one-off checks; the
-- policies inline the same test around a once-per-statement sub-select).
CREATE OR REPLACE FUNCTION usage_tenant_admits(customer varchar) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT t IS NULL OR customer = ANY (t) FROM (SELECT usage_tenant_customers() AS t) s
$$;

-- Every role may read the mappings of the roles it acts as, and no others (so the function above
-- sees exactly its own: it relies on this policy);
-- only admins (usage_admin members, and the owner, who bypasses row-level security) see all and
-- write: a tenant cannot map itself to another customer.
GRANT SELECT ON usage_customer_access TO PUBLIC;
ALTER TABLE usage_customer_access ENABLE ROW LEVEL SECURITY;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_customer_access'::regclass AND polname = 'usage_customer_access_member_select') THEN
        CREATE POLICY usage_customer_access_member_select ON usage_customer_access FOR SELECT
            USING (coalesce(pg_has_role(current_user, to_regrole(quote_ident(role_name)), 'MEMBER'), false) OR usage_tenant_is_admin());
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'usage_customer_access'::regclass AND polname = 'usage_customer_access_admin_all') THEN
        CREATE POLICY usage_customer_access_admin_all ON usage_customer_access FOR ALL
            USING (usage_tenant_is_admin()) WITH CHECK (usage_tenant_is_admin());
    END IF;
END
$$;
