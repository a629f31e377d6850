using System.Globalization;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage.Sql;

namespace NSelf.Usage.Engine.Storage.Postgres;

// Tenant isolation keyed on the database role (issue 22; migration 14 holds the mapping table and
// the functions). Enabled means: every customer table carries the restrictive policy
// <table>_tenant_isolation, so no permissive policy (the module's settings-based ones, nself's
// 019, an operator's) admits a row of a customer the role may not act for; and the permissive
// <table>_tenant_admit, so a mapped role reads its rows where the other permissive policies want
// a setting. The presence of the restrictive policies is the state: there is no flag to drift.
//
// The permissive policy is USING (true): a row passes when the restrictive test admits it AND
// some permissive policy does, so a permissive copy of the test admits exactly what `true` does,
// and `true` lets the planner fold away the OR of every permissive policy (the module's, nself's).
// A second copy of the test doubled what the executor sets up per statement (its sub-selects,
// three per table reference) and was most of what isolation cost a scoped tracking call
// (decision 177; the figures are in bench/results.md). Enable and Disable create
// and drop the pair in one transaction; a restrictive policy dropped by hand leaves `true`, so
// GetTenantIsolation then reports Enabled = false and Enable restores it.
public sealed partial class PostgresUsageStore
{
    // What both policies admit: an admin's rows (narrowed by the session's customer, when it names
    // one); a scoped session's customer when a role it acts as is mapped to it; an unscoped
    // session's mapped customers. Every sub-select is uncorrelated, so PostgreSQL evaluates it
    // once per statement (an InitPlan, and only when its branch is reached), never once per row,
    // and plans it with the statement (a prepared tracking call plans nothing again). The scoped
    // branch is the module's hot path: one index probe of the mapping table, whose own policy
    // keeps the mappings of roles the current role is a member of. A row without a customer
    // (nself's tables allow a NULL customer_id) is admitted to an unscoped admin only.
    // app.is_admin plays no part.
    // A scoped session (the hot path) runs one sub-select per table reference, admin test and
    // mapping probe in one: a separate admin sub-select ahead of the CASE cost a scoped tracking
    // call measurably more (bench/results.md, tenant isolation). Unscoped: usage_tenant_customers() is NULL for an admin, so
    // the coalesce falls to the admin test (true) for every row, a NULL customer included; for
    // anyone else a NULL customer compares NULL and the admin test says false. That admin test is
    // an inlined expression evaluated per row where reached (an unscoped admin's rows, a NULL
    // customer's), not a sub-select: each sub-select is set up for every statement, in a scoped
    // session too, and that set-up was what remained of the scoped call's cost.
    private const string TenantPolicyTest = """
        CASE WHEN usage_current_customer() IS NOT NULL
             THEN customer_id = usage_current_customer()
                  AND (SELECT usage_tenant_is_admin() OR EXISTS (SELECT 1 FROM usage_customer_access a WHERE a.customer_id = usage_current_customer()))
             ELSE coalesce(customer_id = ANY ((SELECT usage_tenant_customers())::varchar[]), usage_tenant_is_admin())
        END
        """;

    private static string[] CustomerTableNames => TenantIsolation.CustomerTables.ToArray();

    // Who the current role is to the isolation. "Owner" is PostgreSQL's own test (a member with
    // the owner's privileges), on every customer table; such a role, a superuser and a BYPASSRLS
    // role are not subject to row-level security at all.
    private const string StatusSql = """
        WITH t AS (SELECT c.oid, c.relname, c.relowner FROM pg_class c WHERE c.oid = ANY (@tables::regclass[])),
        me AS (SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = current_user)
        SELECT current_user::text,
               EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'usage_admin'),
               (SELECT rolsuper FROM me) OR (SELECT bool_and(pg_has_role(current_user, t.relowner, 'USAGE')) FROM t),
               (SELECT rolbypassrls FROM me) OR usage_tenant_is_admin(),
               (SELECT rolsuper OR rolcreaterole FROM me),
               (SELECT count(*) FROM t JOIN pg_policy p ON p.polrelid = t.oid AND p.polname = t.relname || '_tenant_isolation' AND NOT p.polpermissive),
               (SELECT count(*) FROM t),
               -- Who may read nself's materialized view, which row-level security cannot cover.
               (SELECT coalesce(array_agg(DISTINCT s.n ORDER BY s.n), '{}') FROM (
                    SELECT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE r.rolname::text END AS n
                    FROM pg_class c CROSS JOIN aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) x LEFT JOIN pg_roles r ON r.oid = x.grantee
                    WHERE c.oid = to_regclass('billing_usage_daily_summary') AND x.privilege_type = 'SELECT' AND x.grantee <> c.relowner
                      AND (x.grantee = 0 OR (NOT r.rolsuper AND NOT r.rolbypassrls AND r.rolname !~ '^pg_' AND r.rolname <> 'usage_admin'))) s)
        """;

    private readonly record struct IsolationStatus(string Role, bool AdminRoleExists, bool Owner, bool Member, bool MayCreateRole, long Restricted, long Tables, string[] SummaryReaders)
    {
        public bool Admin => Owner || Member;

        public bool Enabled => Tables > 0 && Restricted == Tables;
    }

    private static IsolationStatus ReadStatus(SqlSession session) =>
        session.Query(StatusSql, r => new IsolationStatus(r.Text(0), r.Bool(1), r.Bool(2), r.Bool(3), r.Bool(4), r.Long(5), r.Long(6), r.Value<string[]>(7)),
            ("tables", CustomerTableNames))[0];

    private UsageTenantIsolation Describe(IsolationStatus status) => new()
    {
        Enabled = status.Enabled,
        AdminRole = TenantIsolation.AdminRole,
        AdminRoleExists = status.AdminRoleExists,
        CurrentRole = status.Role,
        CurrentRoleIsAdmin = status.Admin,
        CustomerTables = (int)status.Tables,
        SummaryReaders = status.SummaryReaders,
        Location = Location,
    };

    public UsageTenantIsolation GetTenantIsolation() => InReadSession(session => Describe(ReadStatus(session)));

    // The roles that lose rows: a privilege on a customer table (granted to it or to a role whose
    // privileges it has) and nothing that exempts it (owner, superuser, BYPASSRLS, usage_admin).
    // Privileges granted to PUBLIC are one row "PUBLIC": every role has them.
    private const string LosersSql = """
        WITH t AS (SELECT c.oid, c.relowner, coalesce(c.relacl, acldefault('r', c.relowner)) AS acl FROM pg_class c WHERE c.oid = ANY (@tables::regclass[])),
        g AS (SELECT DISTINCT t.oid, t.relowner, x.grantee FROM t, aclexplode(t.acl) x WHERE x.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')),
        admin AS (SELECT oid FROM pg_roles WHERE rolname = 'usage_admin')
        SELECT r.rolname::text,
               ARRAY(SELECT DISTINCT a.customer_id::text FROM usage_customer_access a JOIN pg_roles m ON m.rolname = a.role_name
                     WHERE pg_has_role(r.oid, m.oid, 'MEMBER') ORDER BY 1)
        FROM pg_roles r
        WHERE NOT r.rolsuper AND NOT r.rolbypassrls AND r.rolname !~ '^pg_'
          AND NOT EXISTS (SELECT 1 FROM admin WHERE pg_has_role(r.oid, admin.oid, 'MEMBER'))
          AND EXISTS (SELECT 1 FROM g WHERE g.grantee <> 0 AND pg_has_role(r.oid, g.grantee, 'USAGE') AND NOT pg_has_role(r.oid, g.relowner, 'USAGE'))
        UNION ALL
        SELECT 'PUBLIC', '{}'::text[] WHERE EXISTS (SELECT 1 FROM g WHERE g.grantee = 0)
        ORDER BY 1
        """;

    // A role that may read only the archive records loses other customers' archives too.
    private static List<UsageTenantIsolationChange> ReadLosers(SqlSession session) =>
        session.Query(LosersSql, r => r.Value<string[]>(1) is var mapped ? new UsageTenantIsolationChange
        {
            Role = r.Text(0),
            MappedCustomers = mapped,
            LosesAccess = mapped.Length switch
            {
                0 => "every customer's rows",
                1 => "all but 1 customer's rows",
                var n => string.Create(CultureInfo.InvariantCulture, $"all but {n} customers' rows"),
            },
        } : null!, ("tables", CustomerTableNames.Append(TenantIsolation.ArchiveTable).ToArray()));

    public IReadOnlyList<UsageTenantIsolationChange> EnableTenantIsolation(bool apply) => InWriteTransaction(session =>
    {
        var status = ReadStatus(session);
        RequireOwner(status, "enable");
        // Already on: nobody loses anything now (they lost it when it was first enabled).
        var changes = status.Enabled ? [] : ReadLosers(session);
        if (!apply)
            return changes;
        if (!status.AdminRoleExists)
        {
            if (!status.MayCreateRole)
                throw new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                    $"Tenant isolation needs the role {TenantIsolation.AdminRole}, which does not exist on {Location}, and the role '{status.Role}' may not create roles. " +
                    $"Have a superuser run this once, then enable again: CREATE ROLE {TenantIsolation.AdminRole} NOLOGIN;", Location);
            // Roles are cluster-wide: another database's Enable may create it at the same moment.
            session.Execute($"""
                DO $$ BEGIN CREATE ROLE {TenantIsolation.AdminRole} NOLOGIN;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$
                """);
        }
        // Admins who are not the owner manage the mappings through the mapping table's policies.
        session.Execute($"GRANT SELECT, INSERT, DELETE ON usage_customer_access TO {TenantIsolation.AdminRole}");
        foreach (var table in TenantIsolation.CustomerTables)
            session.Execute($"""
                ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
                DROP POLICY IF EXISTS {table}_tenant_isolation ON {table};
                CREATE POLICY {table}_tenant_isolation ON {table} AS RESTRICTIVE FOR ALL USING ({TenantPolicyTest}) WITH CHECK ({TenantPolicyTest});
                DROP POLICY IF EXISTS {table}_tenant_admit ON {table};
                CREATE POLICY {table}_tenant_admit ON {table} AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
                """);
        // usage_archives has no row-level security until now: turning it on with a permissive
        // USING (true) keeps everyone's access but what the restrictive test takes; that policy is
        // also the mark for Disable that it was Enable that turned row-level security on. When an
        // operator had turned it on already, their policies stay the permissive side.
        session.Execute($$"""
            DO $$ BEGIN
                IF NOT (SELECT relrowsecurity FROM pg_class WHERE oid = '{{TenantIsolation.ArchiveTable}}'::regclass) THEN
                    CREATE POLICY {{TenantIsolation.ArchiveTable}}_existing_access ON {{TenantIsolation.ArchiveTable}} AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
                    ALTER TABLE {{TenantIsolation.ArchiveTable}} ENABLE ROW LEVEL SECURITY;
                END IF;
            END $$;
            DROP POLICY IF EXISTS {{TenantIsolation.ArchiveTable}}_tenant_isolation ON {{TenantIsolation.ArchiveTable}};
            CREATE POLICY {{TenantIsolation.ArchiveTable}}_tenant_isolation ON {{TenantIsolation.ArchiveTable}} AS RESTRICTIVE FOR ALL USING ({{TenantPolicyTest}}) WITH CHECK ({{TenantPolicyTest}});
            """);
        return changes;
    });

    public UsageTenantIsolation DisableTenantIsolation() => InWriteTransaction(session =>
    {
        RequireOwner(ReadStatus(session), "disable");
        foreach (var table in TenantIsolation.CustomerTables)
            session.Execute($"""
                DROP POLICY IF EXISTS {table}_tenant_isolation ON {table};
                DROP POLICY IF EXISTS {table}_tenant_admit ON {table};
                """);
        session.Execute($$"""
            DROP POLICY IF EXISTS {{TenantIsolation.ArchiveTable}}_tenant_isolation ON {{TenantIsolation.ArchiveTable}};
            DO $$ BEGIN
                IF EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = '{{TenantIsolation.ArchiveTable}}'::regclass AND polname = '{{TenantIsolation.ArchiveTable}}_existing_access') THEN
                    DROP POLICY {{TenantIsolation.ArchiveTable}}_existing_access ON {{TenantIsolation.ArchiveTable}};
                    ALTER TABLE {{TenantIsolation.ArchiveTable}} DISABLE ROW LEVEL SECURITY;
                END IF;
            END $$;
            """);
        return Describe(ReadStatus(session));
    });

    private void RequireOwner(IsolationStatus status, string verb)
    {
        // Only a table's owner (or a superuser) may create or drop its policies.
        if (!status.Owner)
            throw new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                $"Only the owner of the billing tables (or a superuser) can {verb} tenant isolation on {Location}; the role '{status.Role}' is neither. " +
                "Connect as the role that owns them (the one that ran Initialize-UsageStore) and run it again.", Location);
    }

    private void RequireAdmin(IsolationStatus status, string what, object? target)
    {
        if (!status.Admin)
            throw new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                $"Only an admin (the billing tables' owner, a superuser, or a member of {TenantIsolation.AdminRole}) can {what} on {Location}; the role '{status.Role}' is none of these.", target);
    }

    private const string AccessColumns = "role_name::text, customer_id::text, granted_at, granted_by::text";

    private static UsageCustomerAccess ReadAccess(SqlRow r) => new()
    {
        Role = r.Text(0),
        CustomerId = r.Text(1),
        GrantedAt = r.Time(2),
        GrantedBy = r.Text(3),
    };

    public UsageCustomerAccess GrantCustomerAccess(string role, string customerId)
    {
        TenantIsolation.RoleName(role);
        TextRules.CustomerId(customerId);
        return InWriteTransaction(session =>
        {
            RequireAdmin(ReadStatus(session), "grant customer access", role);
            if (session.Scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = @role)", ("role", role)) is not true)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    $"There is no role '{role}' on {Location} (role names are case-sensitive as pg_roles spells them).", role);
            if (session.Scalar("SELECT EXISTS (SELECT 1 FROM billing_customers WHERE customer_id = @customer AND deleted_at IS NULL)", ("customer", customerId)) is not true)
                throw CustomerNotFound(customerId);
            return session.Query($"""
                INSERT INTO usage_customer_access (role_name, customer_id) VALUES (@role, @customer) ON CONFLICT DO NOTHING;
                SELECT {AccessColumns} FROM usage_customer_access WHERE role_name = @role AND customer_id = @customer
                """, ReadAccess, ("role", role), ("customer", customerId))[0];
        });
    }

    public bool RevokeCustomerAccess(string role, string customerId)
    {
        TenantIsolation.RoleName(role);
        TextRules.CustomerId(customerId);
        return InWriteTransaction(session =>
        {
            RequireAdmin(ReadStatus(session), "revoke customer access", role);
            return session.Execute("DELETE FROM usage_customer_access WHERE role_name = @role AND customer_id = @customer", ("role", role), ("customer", customerId)) > 0;
        });
    }

    public IReadOnlyList<UsageCustomerAccess> GetCustomerAccess(string? role, string? customerId)
    {
        if (role is not null)
            TenantIsolation.RoleName(role);
        if (customerId is not null)
            TextRules.CustomerId(customerId);
        return InReadSession(session =>
        {
            RequireAdmin(ReadStatus(session), "read customer access", (object?)role ?? customerId ?? Location);
            // The casts name the type of a NULL parameter.
            return session.Query($"""
                SELECT {AccessColumns} FROM usage_customer_access
                WHERE (@role::text IS NULL OR role_name = @role::text) AND (@customer::text IS NULL OR customer_id = @customer::text)
                ORDER BY role_name, customer_id
                """, ReadAccess, ("role", role), ("customer", customerId));
        });
    }

    public bool MayActFor(string customerId)
    {
        TextRules.CustomerId(customerId);
        return InReadSession(session =>
        {
            // The question is about the role, so the session's own scope must not narrow the
            // answer: cleared for this transaction only (a pooled scoped session keeps its scope).
            using var transaction = session.Connection.BeginTransaction();
            var scoped = new SqlSession(session.Connection, transaction, Dialect);
            var admitted = ReadStatus(scoped).Admin
                || scoped.Scalar("SELECT set_config('app.current_customer_id', '', true) IS NULL OR usage_tenant_admits(@customer)", ("customer", customerId)) is true;
            transaction.Rollback();
            return admitted;
        });
    }
}
