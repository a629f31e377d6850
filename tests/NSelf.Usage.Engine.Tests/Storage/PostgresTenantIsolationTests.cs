using System.Globalization;
using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 22: tenant isolation keyed on the database role, attacked as a tenant would attack it:
/// with plain Npgsql as a least-privileged role holding the credentials (any SQL, any setting),
/// and through the engine store as that role. Each test has a database of its own; every role it
/// creates has a unique name and is dropped afterwards (roles are cluster-wide).
/// </summary>
public sealed class PostgresTenantIsolationTests : IDisposable
{
    private const string Password = "tenant-secret";
    private static readonly IReadOnlyList<string> Tables = TenantIsolation.CustomerTables;

    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At(Clock.Utc(2026, 11, 27, 12));
    private readonly string _database = PostgresServer.CreateDatabase();
    private readonly List<string> _roles = new();

    public void Dispose()
    {
        foreach (var role in _roles)
            PostgresConnections.Forget(b => b.Username == role);
        NpgsqlConnection.ClearAllPools();
        foreach (var role in _roles)
            PostgresServer.Execute(_database, $"DROP OWNED BY {role}; DROP ROLE {role};");
        PostgresServer.DropDatabase(_database);
    }

    // ------------------------------------------------------------------ set-up

    /// <summary>One row (or a few) of cus_a, cus_b and cus_c in every one of the customer tables.</summary>
    private const string Seed = """
        INSERT INTO billing_customers (customer_id, project_name) VALUES ('cus_a', 'a'), ('cus_b', 'b'), ('cus_c', 'c');
        INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, current_period_start, current_period_end)
        SELECT 'sub_' || c, c, 'starter', '2026-11-01Z', '2026-12-01Z' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, recorded_at)
        SELECT 'ev_' || c || '_' || i, c, 'api', 1, '2026-11-02T10:00:00Z'::timestamptz + i * interval '1 minute' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c, generate_series(1, 3) i;
        INSERT INTO billing_invoices (invoice_id, customer_id, status, period_start, period_end)
        SELECT 'inv_' || c, c, 'draft', '2026-11-01Z', '2026-12-01Z' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_invoice_lines (invoice_id, line_number, customer_id, kind, description, quantity, included, billable, amount, period_start, period_end)
        SELECT 'inv_' || c, 1, c, 'usage', 'api', 3, 0, 3, 0, '2026-11-01Z', '2026-12-01Z' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
        SELECT c, 'ev_' || c || '_1', 'inv_' || c, 1, 1 FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO usage_customer_quotas (customer_id, service_name, limit_value) SELECT c, 'api', 100 FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, message)
        SELECT c, 'api', 'warning', 80, 100, 80, '2026-11-01Z', '2026-12-01Z', '80 %' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_plan_changes (subscription_id, customer_id, effective_from, changed_at, from_plan, to_plan)
        SELECT 'sub_' || c, c, '2026-11-15Z', '2026-11-10Z', 'starter', 'pro' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_invoice_deliveries (invoice_id, customer_id, status, recipients, server, message_id, started_at, sent_at)
        SELECT 'inv_' || c, c, 'sent', c || '@example.com', 'smtp.example:587', 'm.' || c || '@example', '2026-12-01Z', '2026-12-01Z' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_ledger (customer_id, kind, currency, amount, effective_at, recorded_by)
        SELECT c, 'grant', 'USD', 10, '2026-11-01Z', 'seed@test' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_credit_notes (credit_note_id, credit_note_number, invoice_id, customer_id, currency, subtotal, tax_rate, tax, total, applied_to_invoice, credited_to_balance, reason, issued_at, issued_by)
        SELECT 'CN-inv_' || c, 'INV-CN-' || c, 'inv_' || c, c, 'USD', 1, 0, 0, 1, 1, 0, 'seed', '2026-12-01Z', 'seed@test' FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO billing_credit_note_lines (credit_note_id, line_number, customer_id, description, amount)
        SELECT 'CN-inv_' || c, 1, c, 'credit', 1 FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        INSERT INTO usage_alert_actions (name, kind, target, on_warning, on_critical, on_exceeded, created_at, created_by)
        VALUES ('seed', 'email', 'ops@example.com', false, false, false, '2026-11-01Z', 'seed@test');
        INSERT INTO usage_alert_deliveries (alert_id, action_id, action_name, customer_id, next_attempt_at, created_at)
        SELECT a.alert_id, (SELECT max(action_id) FROM usage_alert_actions), 'seed', a.customer_id, '2026-11-02Z', '2026-11-02Z' FROM usage_alerts a;
        INSERT INTO usage_archives (path, rows, checksum, cutoff) VALUES ('/tmp/a.jsonl', 3, repeat('0', 64), '2026-11-01Z');
        INSERT INTO usage_archived_events (customer_id, event_id, service_name, recorded_at, ingested_at, archive_id, quantity)
        SELECT c, 'old_' || c, 'api', '2026-10-02Z', '2026-10-02Z', (SELECT max(archive_id) FROM usage_archives), 1 FROM unnest(ARRAY['cus_a', 'cus_b', 'cus_c']) c;
        """;

    /// <summary>An insert of a new row of the customer {0} into each table (in the order of <see cref="Tables"/>).</summary>
    private static readonly string[] Inserts =
    {
        "INSERT INTO billing_customers (customer_id, project_name) VALUES ('{0}', 'x')",
        "INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, status, current_period_start, current_period_end) VALUES ('sub_x_{0}', '{0}', 'starter', 'canceled', '2026-10-01Z', '2026-11-01Z')",
        "INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, recorded_at) VALUES ('ev_x', '{0}', 'api', 1, '2026-11-03Z')",
        "INSERT INTO billing_invoices (invoice_id, customer_id, status, period_start, period_end) VALUES ('inv_x_{0}', '{0}', 'draft', '2026-10-01Z', '2026-11-01Z')",
        "INSERT INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity) VALUES ('{0}', '2026-11-05Z', 'api', 1, 1, 1, 1)",
        "INSERT INTO usage_customer_quotas (customer_id, service_name, limit_value) VALUES ('{0}', 'sms', 10)",
        "INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, message) VALUES ('{0}', 'sms', 'warning', 8, 10, 80, '2026-11-01Z', '2026-12-01Z', 'x')",
        "INSERT INTO billing_invoice_lines (invoice_id, line_number, customer_id, kind, description, quantity, included, billable, amount, period_start, period_end) VALUES ('inv_{0}', 2, '{0}', 'usage', 'x', 1, 0, 1, 0, '2026-11-01Z', '2026-12-01Z')",
        "INSERT INTO usage_archived_events (customer_id, event_id, service_name, recorded_at, ingested_at, archive_id, quantity) VALUES ('{0}', 'old_x', 'api', '2026-10-03Z', '2026-10-03Z', 1, 1)",
        "INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity) VALUES ('{0}', '2026-11-05Z', 'api', 1, 1, 1, 1)",
        "INSERT INTO billing_plan_changes (subscription_id, customer_id, effective_from, changed_at, from_plan, to_plan) VALUES ('sub_{0}', '{0}', '2026-11-20Z', '2026-11-11Z', 'pro', 'starter')",
        "INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity) VALUES ('{0}', 'ev_{0}_2', 'inv_{0}', 1, 1)",
        "INSERT INTO billing_invoice_deliveries (invoice_id, customer_id, status, recipients, server, message_id, started_at) VALUES ('inv_{0}', '{0}', 'sending', 'x@example.com', 'h:25', 'm@h', '2026-12-02Z')",
        "INSERT INTO billing_ledger (customer_id, kind, currency, amount, effective_at, recorded_by) VALUES ('{0}', 'grant', 'USD', 5, '2026-12-02Z', 'x@h')",
        "INSERT INTO billing_credit_notes (credit_note_id, credit_note_number, invoice_id, customer_id, currency, subtotal, tax_rate, tax, total, applied_to_invoice, credited_to_balance, reason, issued_at, issued_by) VALUES ('CN-x-{0}', 'X-CN-{0}', 'inv_{0}', '{0}', 'USD', 1, 0, 0, 1, 1, 0, 'x', '2026-12-02Z', 'x@h')",
        "INSERT INTO billing_credit_note_lines (credit_note_id, line_number, customer_id, description, amount) VALUES ('CN-inv_{0}', 2, '{0}', 'x', 1)",
        // Alert 1 exists (a foreign key is checked whatever the policies): the policy is what refuses another customer's row.
        "INSERT INTO usage_alert_deliveries (alert_id, action_id, action_name, customer_id, next_attempt_at, created_at) VALUES (1, NULL, 'x', '{0}', '2026-12-02Z', '2026-12-02Z')",
    };

    /// <summary>The ways a tenant holding the credentials may set up its session before it attacks.</summary>
    private static readonly string[] Sessions =
    {
        "",
        "SET app.is_admin = 'true'",
        "SET app.current_customer_id = 'cus_b'",
        "SET app.is_admin = 'true'; SET app.current_customer_id = 'cus_b'",
        "SET app.is_admin = 'true'; SET app.current_customer_id = ''",
    };

    private PostgresUsageStore Owner() => new(_database, null, _time);

    private void Migrate(bool? nself = null)
    {
        if (nself is { } with019)
            NselfFixture.Load(_database, with019);
        using (var owner = Owner())
            owner.Migrate();
        PostgresServer.Execute(_database, Seed);
    }

    /// <summary>A login role with every table privilege in the schema (the least-privileged application role Connect-UsageStore recommends has these).</summary>
    private string CreateRole(string kind)
    {
        var role = $"i22_{kind}_{Guid.NewGuid().ToString("n")[..8]}";
        _roles.Add(role);
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {role} LOGIN PASSWORD '{Password}';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};
            """);
        return role;
    }

    private string As(string role, bool pooling = false, string options = "") =>
        new NpgsqlConnectionStringBuilder(_database) { Username = role, Password = Password, Pooling = pooling, Options = options }.ConnectionString;

    private static NpgsqlConnection Connect(string connectionString, string session)
    {
        var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        if (session.Length > 0)
        {
            using var set = new NpgsqlCommand(session, connection);
            set.ExecuteNonQuery();
        }
        return connection;
    }

    /// <summary>Rows visible per customer table, in the order of <see cref="Tables"/>, optionally of one customer only.</summary>
    private static string Visible(string connectionString, string session, string? customer = null)
    {
        var where = customer is null ? "" : $" WHERE customer_id = '{customer}'";
        using var connection = Connect(connectionString, session);
        using var command = new NpgsqlCommand("SELECT concat_ws(',', " + string.Join(", ", Tables.Select(t => $"(SELECT count(*) FROM {t}{where})")) + ")", connection);
        return (string)command.ExecuteScalar()!;
    }

    private static string Zeros => string.Join(',', Tables.Select(_ => "0"));

    /// <summary>
    /// Each statement in a transaction of its own, rolled back: the rows it touched, or the
    /// SQLSTATE it failed with (42501: refused by row-level security).
    /// </summary>
    private static List<string> Outcomes(string connectionString, string session, IEnumerable<string> statements)
    {
        var outcomes = new List<string>();
        using var connection = Connect(connectionString, session);
        foreach (var sql in statements)
        {
            using var transaction = connection.BeginTransaction();
            try
            {
                using var command = new NpgsqlCommand(sql, connection, transaction);
                outcomes.Add(command.ExecuteNonQuery().ToString(CultureInfo.InvariantCulture));
            }
            catch (PostgresException e)
            {
                outcomes.Add(e.SqlState);
            }
            transaction.Rollback();
        }
        return outcomes;
    }

    private static IEnumerable<string> InsertsOf(string customer) => Inserts.Select(i => string.Format(CultureInfo.InvariantCulture, i, customer));

    private static IEnumerable<string> UpdatesOf(string customer) => Tables.Select(t => $"UPDATE {t} SET customer_id = customer_id WHERE customer_id = '{customer}'");

    private static IEnumerable<string> DeletesOf(string customer) => Tables.Select(t => $"DELETE FROM {t} WHERE customer_id = '{customer}'");

    private const string PolicySnapshot = """
        SELECT coalesce(string_agg(tablename || '.' || policyname || ':' || permissive || ':' || cmd || ':' || coalesce(qual, '') || ':' || coalesce(with_check, ''), E'\n' ORDER BY tablename, policyname), '')
        FROM pg_policies WHERE schemaname = 'public'
        """;

    // ------------------------------------------------------------------ the attack

    [SkippableFact]
    public void MappedTenant_WithAnySetting_ReadsNoRowOfAnotherCustomer_AndCannotWriteOne_ButKeepsItsOwn()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_a");
        }
        var ownA = Visible(_database, "", "cus_a");
        Assert.DoesNotContain(",0", "," + ownA);

        foreach (var session in Sessions)
        {
            Assert.Equal(Zeros, Visible(As(tenant), session, "cus_b"));
            Assert.Equal(Zeros, Visible(As(tenant), session, "cus_c"));
            // Inserts refused by the policies; updates and deletes find no row to touch.
            Assert.All(Outcomes(As(tenant), session, InsertsOf("cus_b")), o => Assert.Equal("42501", o));
            Assert.All(Outcomes(As(tenant), session, UpdatesOf("cus_b").Concat(DeletesOf("cus_b"))), o => Assert.Equal("0", o));
            // Moving its own rows onto another customer is a write of that customer too.
            Assert.All(Outcomes(As(tenant), session, Tables.Select(t => $"UPDATE {t} SET customer_id = 'cus_b' WHERE customer_id = 'cus_a'")),
                o => Assert.True(o is "0" or "42501", session + ": " + o));
        }

        // Its own rows: all of them, read and written, unless its session narrows to another customer.
        foreach (var session in new[] { "", "SET app.is_admin = 'true'", "SET app.current_customer_id = 'cus_a'" })
        {
            Assert.Equal(ownA, Visible(As(tenant), session));
            Assert.All(Outcomes(As(tenant), session, InsertsOf("cus_a").Skip(1)), o => Assert.Equal("1", o));
            Assert.All(Outcomes(As(tenant), session, UpdatesOf("cus_a").Concat(DeletesOf("cus_a"))), o => Assert.NotEqual("0", o));
        }
        Assert.Equal(Zeros, Visible(As(tenant), "SET app.current_customer_id = 'cus_b'"));
        // It cannot register a customer of its own either: a new customer is nobody's until an admin maps it.
        Assert.Equal(new[] { "42501" }, Outcomes(As(tenant), "SET app.is_admin = 'true'", new[] { "INSERT INTO billing_customers (customer_id, project_name) VALUES ('cus_new', 'n')" }));
    }

    [SkippableFact]
    public void AdminMemberAndOwner_SeeEveryone_AnUnmappedRoleSeesNothing_AndAScopedSessionNarrows()
    {
        Migrate();
        var admin = CreateRole("admin");
        var nobody = CreateRole("nobody");
        var twoCustomers = CreateRole("two");
        var everything = Visible(_database, "");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(twoCustomers, "cus_a");
            owner.GrantCustomerAccess(twoCustomers, "cus_c");
        }
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {admin}");

        Assert.Equal(everything, Visible(_database, ""));
        Assert.Equal(everything, Visible(As(admin), ""));
        Assert.Equal(everything, Visible(As(admin), "SET app.is_admin = 'false'"));
        Assert.Equal(Visible(_database, "", "cus_b"), Visible(As(admin), "SET app.current_customer_id = 'cus_b'"));
        Assert.Equal(new[] { "1" }, Outcomes(As(admin), "", new[] { string.Format(CultureInfo.InvariantCulture, Inserts[2], "cus_b") }));

        foreach (var session in Sessions)
        {
            Assert.Equal(Zeros, Visible(As(nobody), session));
            Assert.All(Outcomes(As(nobody), session, InsertsOf("cus_a")), o => Assert.Equal("42501", o));
        }

        var ofA = Visible(_database, "", "cus_a");
        var ofC = Visible(_database, "", "cus_c");
        var ofBoth = string.Join(',', ofA.Split(',').Zip(ofC.Split(','), (a, c) => (long.Parse(a, CultureInfo.InvariantCulture) + long.Parse(c, CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(ofBoth, Visible(As(twoCustomers), ""));
        Assert.Equal(ofA, Visible(As(twoCustomers), "SET app.current_customer_id = 'cus_a'"));
        Assert.Equal(ofC, Visible(As(twoCustomers), "SET app.current_customer_id = 'cus_c'"));
    }

    [SkippableFact]
    public void Tenant_CannotMapItself_NorChangeOrReadAnotherRolesMapping()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        var other = CreateRole("other");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_a");
            owner.GrantCustomerAccess(other, "cus_b");
        }
        foreach (var session in Sessions)
        {
            Assert.Equal(new[] { "42501", "0", "0", "0" }, Outcomes(As(tenant), session, new[]
            {
                "INSERT INTO usage_customer_access (role_name, customer_id) VALUES (current_user, 'cus_b')",
                "UPDATE usage_customer_access SET customer_id = 'cus_b'",
                "DELETE FROM usage_customer_access",
                $"UPDATE usage_customer_access SET role_name = current_user WHERE role_name = '{other}'",
            }));
            Assert.Equal(1L, PostgresServer.Scalar<long>(As(tenant), "SELECT count(*) FROM usage_customer_access"));
        }
        // The same as the engine store: AccessDenied, nothing written.
        using var asTenant = new PostgresUsageStore(As(tenant, pooling: true), null, _time);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.GrantCustomerAccess(tenant, "cus_b")).ErrorId);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.RevokeCustomerAccess(tenant, "cus_a")).ErrorId);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.GetCustomerAccess(null, null)).ErrorId);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.EnableTenantIsolation(apply: false)).ErrorId);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.EnableTenantIsolation(apply: true)).ErrorId);
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asTenant.DisableTenantIsolation()).ErrorId);
        using var owner2 = Owner();
        Assert.Equal(new[] { (other, "cus_b"), (tenant, "cus_a") }.OrderBy(m => m.Item1, StringComparer.Ordinal),
            owner2.GetCustomerAccess(null, null).Select(a => (a.Role, a.CustomerId)));
        Assert.True(owner2.GetTenantIsolation().Enabled);
    }

    [SkippableFact]
    public void ThroughTheEngineStore_AsAMappedTenant_WithOrWithoutAScope_OnlyItsCustomer()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_a");
        }
        // The module's unscoped session sends app.is_admin=true; its scoped one the scope.
        foreach (var scope in new[] { null, "cus_a", "cus_b" })
        {
            using var store = new PostgresUsageStore(As(tenant, pooling: true), scope, _time);
            var factory = new UsageEventFactory(store.GetServices(), _time);
            var ownVisible = scope is null or "cus_a";
            var ownRows = PostgresServer.Scalar<long>(_database, "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_a'");
            Assert.Equal(ownVisible ? ownRows : 0, store.CountRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)));
            Assert.Equal(0, store.CountRecords(new RecordQuery(new UsageFilter("cus_b"), null, null)));
            Assert.Equal(ownVisible ? new[] { "cus_a" } : System.Array.Empty<string>(), store.GetCustomers().Select(c => c.CustomerId));
            // One event (one statement) and a COPY-sized batch (the staging path): refused for cus_b, nothing stored.
            var one = Assert.Throws<UsageException>(() => store.Ingest(new[] { factory.Create("cus_b", "api", 1, Clock.Utc(2026, 11, 3), $"b_one_{scope}") }));
            Assert.Equal(ErrorIds.AccessDenied, one.ErrorId);
            var batch = Assert.Throws<UsageException>(() => store.Ingest(Enumerable.Range(0, 100).Select(i => factory.Create("cus_b", "api", 1, Clock.Utc(2026, 11, 3), $"b_{scope}_{i}")).ToList()));
            Assert.Equal(ErrorIds.AccessDenied, batch.ErrorId);
            // A customer it may not see is one that does not exist, to it: nothing about it leaks.
            Assert.Equal(ErrorIds.CustomerNotFound, Assert.Throws<UsageException>(() => store.UpdateCustomer("cus_b", new CustomerChange(Name: "mine"))).ErrorId);
            if (ownVisible)
            {
                Assert.Equal(1, store.Ingest(new[] { factory.Create("cus_a", "api", 1, Clock.Utc(2026, 11, 3), $"a_one_{scope}") }).Inserted);
                Assert.Equal(100, store.Ingest(Enumerable.Range(0, 100).Select(i => factory.Create("cus_a", "api", 1, Clock.Utc(2026, 11, 3), $"a_{scope}_{i}")).ToList()).Inserted);
            }
            Assert.True(store.MayActFor("cus_a"));
            Assert.False(store.MayActFor("cus_b"));
        }
        Assert.Equal(3L, PostgresServer.Scalar<long>(_database, "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_b'"));
        Assert.Equal(0L, PostgresServer.Scalar<long>(_database, "SELECT count(*) FROM billing_customers WHERE name = 'mine'"));
        Assert.Equal(3L + 2 * 101, PostgresServer.Scalar<long>(_database, "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_a'"));
        // The rollups (written by the owner's trigger) follow the rows the tenant wrote.
        Assert.Equal(3L + 2 * 101, PostgresServer.Scalar<long>(_database, "SELECT sum(events)::bigint FROM usage_rollups WHERE customer_id = 'cus_a'"));
    }

    [SkippableFact]
    public void ABatchOfANonOwnerRole_UnderRowLevelSecurity_IsStored_BothBeforeAndAfterEnable()
    {
        // A customer with no archived events, so the batch may take the direct COPY path, which
        // PostgreSQL refuses ("COPY FROM not supported with row-level security") for a role the
        // policies apply to: such a role must take the staging path.
        Migrate();
        var tenant = CreateRole("tenant");
        using (var owner = Owner())
            owner.AddCustomer("cus_d", new CustomerChange(Name: "D"));
        foreach (var enable in new[] { false, true })
        {
            if (enable)
                using (var owner = Owner())
                {
                    owner.EnableTenantIsolation(apply: true);
                    owner.GrantCustomerAccess(tenant, "cus_d");
                }
            using var store = new PostgresUsageStore(As(tenant, pooling: true), null, _time);
            var factory = new UsageEventFactory(store.GetServices(), _time);
            Assert.Equal(100, store.Ingest(Enumerable.Range(0, 100).Select(i => factory.Create("cus_d", "api", 1, Clock.Utc(2026, 11, 3), $"d_{enable}_{i}")).ToList()).Inserted);
        }
        Assert.Equal(200L, PostgresServer.Scalar<long>(_database, "SELECT sum(events)::bigint FROM usage_rollups WHERE customer_id = 'cus_d'"));
    }

    [SkippableFact]
    public void OnNselfWith019_ItsIsAdminSetting_NoLongerWidensPastIsolation_AndAnAdminMemberKeepsWorking()
    {
        Migrate(nself: true);
        var tenant = CreateRole("tenant");
        var nselfApp = CreateRole("nself");
        const string Usage = "SELECT count(*) || '/' || count(*) FILTER (WHERE customer_id <> 'cus_old1') FROM billing_usage_records";
        // Before: nself's 019 lets anyone who sets app.is_admin read every usage row.
        Assert.Equal("3009/1009", PostgresServer.Scalar<string>(As(tenant, options: "-c app.is_admin=true"), Usage));

        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_old1");
        }
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {nselfApp}");

        foreach (var session in new[] { "-c app.is_admin=true", "-c app.current_customer_id=cus_old2", "-c app.is_admin=true -c app.current_customer_id=cus_old2", "" })
        {
            var seen = PostgresServer.Scalar<string>(As(tenant, options: session), Usage);
            Assert.True(seen is "2000/0" or "0/0", session + ": " + seen);
            // nself's table allows a usage row without a customer: nobody's, so no tenant's either.
            Assert.Equal(new[] { "42501", "42501" }, Outcomes(As(tenant, options: session), "", new[]
            {
                "INSERT INTO billing_usage_records (customer_id, service_name, quantity) VALUES ('cus_old2', 'sms', 3)",
                "INSERT INTO billing_usage_records (customer_id, service_name, quantity) VALUES (NULL, 'sms', 3)",
            }));
        }
        // Mapped, it reads its customer's rows even without the setting nself's policy demands.
        Assert.Equal("2000/0", PostgresServer.Scalar<string>(As(tenant), Usage));
        // nself's application role made a usage_admin member: nself's tools see what 019 gives them, narrowed by the setting.
        Assert.Equal("3009/1009", PostgresServer.Scalar<string>(As(nselfApp, options: "-c app.is_admin=true"), Usage));
        Assert.Equal("2000/0", PostgresServer.Scalar<string>(As(nselfApp, options: "-c app.current_customer_id=cus_old1"), Usage));
    }

    [SkippableFact]
    public void OnNselfWithout019_IsolationHoldsTheSame()
    {
        Migrate(nself: false);
        var tenant = CreateRole("tenant");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_old1");
        }
        foreach (var session in Sessions)
        {
            Assert.Equal(Zeros, Visible(As(tenant), session, "cus_old2"));
            Assert.Equal(Zeros, Visible(As(tenant), session, "cus_b"));
            Assert.All(Outcomes(As(tenant), session, InsertsOf("cus_old2").Skip(1).Take(1)), o => Assert.Equal("42501", o));
        }
        Assert.Equal(2000L, PostgresServer.Scalar<long>(As(tenant, options: "-c app.is_admin=true"), "SELECT count(*) FROM billing_usage_records"));
    }

    // ------------------------------------------------------------------ enable, disable, preview

    [SkippableFact]
    public void Disable_RestoresExactlyTheAccessBeforeEnable_AndEnableTwiceChangesNothing()
    {
        Migrate();
        var mapped = CreateRole("mapped");
        var nobody = CreateRole("nobody");
        var admin = CreateRole("admin");
        PostgresServer.Execute(_database, $"DO $$ BEGIN CREATE ROLE {TenantIsolation.AdminRole} NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$");
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {admin}");
        var roles = new[] { mapped, nobody, admin };
        var sessions = new[] { "", "SET app.is_admin = 'true'", "SET app.current_customer_id = 'cus_b'" };
        List<string> Access() => roles.SelectMany(r => sessions.Select(s => r + "|" + s + "|" + Visible(As(r), s) + "|" + string.Join(',', Outcomes(As(r), s, InsertsOf("cus_b").Concat(UpdatesOf("cus_a")))))).ToList();

        var before = Access();
        var policiesBefore = PostgresServer.Scalar<string>(_database, PolicySnapshot);
        using var owner = Owner();
        owner.GrantCustomerAccess(mapped, "cus_a");
        Assert.False(owner.GetTenantIsolation().Enabled);
        owner.EnableTenantIsolation(apply: true);
        var enabled = Access();
        Assert.NotEqual(before, enabled);
        var policiesEnabled = PostgresServer.Scalar<string>(_database, PolicySnapshot);
        Assert.Equal(2 * Tables.Count + 1, policiesEnabled.Split('\n').Count(p => p.Contains("_tenant_isolation:", StringComparison.Ordinal) || p.Contains("_tenant_admit:", StringComparison.Ordinal)));

        Assert.Empty(owner.EnableTenantIsolation(apply: true));
        Assert.Equal(policiesEnabled, PostgresServer.Scalar<string>(_database, PolicySnapshot));
        Assert.Equal(enabled, Access());

        var status = owner.DisableTenantIsolation();
        Assert.False(status.Enabled);
        Assert.Equal(before, Access());
        Assert.Equal(policiesBefore, PostgresServer.Scalar<string>(_database, PolicySnapshot));
        // The mapping stays for the next Enable, which restores the same isolation.
        Assert.Single(owner.GetCustomerAccess(mapped, null));
        owner.EnableTenantIsolation(apply: true);
        Assert.Equal(enabled, Access());
    }

    /// <summary>The archive records a role reads: their customers in order, "all" for an all-customers archive.</summary>
    private static string Archives(string connectionString, string session)
    {
        using var connection = Connect(connectionString, session);
        using var command = new NpgsqlCommand($"SELECT coalesce(string_agg(coalesce(customer_id, 'all'), ',' ORDER BY customer_id NULLS FIRST), '') FROM {TenantIsolation.ArchiveTable}", connection);
        return (string)command.ExecuteScalar()!;
    }

    [SkippableFact]
    public void ArchiveRecords_OfOtherCustomers_AreHidden_AnAllCustomersArchiveIsAnAdminsOnly_AndDisableRestoresThem()
    {
        Migrate();
        // Seed holds one all-customers archive (customer_id NULL); one archive of cus_a, one of cus_b.
        PostgresServer.Execute(_database, """
            INSERT INTO usage_archives (path, rows, checksum, cutoff, customer_id) VALUES
                ('/archives/a.jsonl', 1, repeat('a', 64), '2026-11-01Z', 'cus_a'), ('/archives/b.jsonl', 1, repeat('b', 64), '2026-11-01Z', 'cus_b')
            """);
        var tenant = CreateRole("tenant");
        var admin = CreateRole("admin");
        string InsertArchive(string? customer) =>
            $"INSERT INTO usage_archives (path, rows, checksum, cutoff, customer_id) VALUES ('/archives/x.jsonl', 1, repeat('c', 64), '2026-11-01Z', {(customer is null ? "NULL" : $"'{customer}'")})";
        Assert.Equal("all,cus_a,cus_b", Archives(As(tenant), ""));
        // A role that may read only the archive records loses other customers' archives too: the preview names it.
        var reader = $"i22_reader_{Guid.NewGuid().ToString("n")[..8]}";
        _roles.Add(reader);
        PostgresServer.Execute(_database, $"CREATE ROLE {reader} LOGIN PASSWORD '{Password}'; GRANT SELECT ON {TenantIsolation.ArchiveTable} TO {reader};");
        using var owner = Owner();
        Assert.Contains(owner.EnableTenantIsolation(apply: false), c => c.Role == reader && c.LosesAccess == "every customer's rows");
        owner.GrantCustomerAccess(tenant, "cus_a");
        owner.EnableTenantIsolation(apply: true);
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {admin}");
        Assert.Equal("", Archives(As(reader), "SET app.is_admin = 'true'"));

        Assert.Equal("cus_a", Archives(As(tenant), ""));
        Assert.Equal("cus_a", Archives(As(tenant), "SET app.is_admin = 'true'"));
        foreach (var session in Sessions)
        {
            Assert.DoesNotContain("cus_b", Archives(As(tenant), session), StringComparison.Ordinal);
            Assert.DoesNotContain("all", Archives(As(tenant), session), StringComparison.Ordinal);
            Assert.Equal(new[] { "42501", "42501" }, Outcomes(As(tenant), session, new[] { InsertArchive("cus_b"), InsertArchive(null) }));
            Assert.Equal(new[] { "0", "0" }, Outcomes(As(tenant), session, new[] { $"UPDATE {TenantIsolation.ArchiveTable} SET path = path WHERE customer_id = 'cus_b' OR customer_id IS NULL", $"DELETE FROM {TenantIsolation.ArchiveTable} WHERE customer_id = 'cus_b' OR customer_id IS NULL" }));
        }
        Assert.Equal(new[] { "1" }, Outcomes(As(tenant), "", new[] { InsertArchive("cus_a") }));
        Assert.Equal("all,cus_a,cus_b", Archives(As(admin), ""));
        Assert.Equal("cus_b", Archives(As(admin), "SET app.current_customer_id = 'cus_b'"));
        Assert.Equal("all,cus_a,cus_b", Archives(_database, ""));

        owner.DisableTenantIsolation();
        Assert.Equal("all,cus_a,cus_b", Archives(As(tenant), "SET app.current_customer_id = 'cus_b'"));
        Assert.False(PostgresServer.Scalar<bool>(_database, $"SELECT relrowsecurity FROM pg_class WHERE oid = '{TenantIsolation.ArchiveTable}'::regclass"));
    }

    [SkippableFact]
    public void Status_NamesTheRolesThatCanReadNselfsMaterializedView_WhichIsolationCannotCover()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        using var owner = Owner();
        // GRANT ... ON ALL TABLES includes materialized views: the tenant reads every customer's totals.
        Assert.Contains(tenant, owner.GetTenantIsolation().SummaryReaders);
        owner.EnableTenantIsolation(apply: true);
        Assert.Contains(tenant, owner.GetTenantIsolation().SummaryReaders);
        PostgresServer.Execute(_database, $"REVOKE SELECT ON billing_usage_daily_summary FROM {tenant}");
        Assert.DoesNotContain(tenant, owner.GetTenantIsolation().SummaryReaders);
        PostgresServer.Execute(_database, "GRANT SELECT ON billing_usage_daily_summary TO PUBLIC");
        Assert.Equal(new[] { "PUBLIC" }, owner.GetTenantIsolation().SummaryReaders);
    }

    [SkippableFact]
    public void Preview_ListsTheRolesThatLoseAccess_WithTheirCustomers_AndChangesNothing()
    {
        Migrate();
        var mapped = CreateRole("mapped");
        var nobody = CreateRole("nobody");
        var admin = CreateRole("admin");
        var member = CreateRole("member");
        using var owner = Owner();
        owner.GrantCustomerAccess(mapped, "cus_a");
        owner.GrantCustomerAccess(mapped, "cus_c");
        owner.EnableTenantIsolation(apply: true);
        owner.DisableTenantIsolation();
        PostgresServer.Execute(_database, $"""
            GRANT {TenantIsolation.AdminRole} TO {admin};
            GRANT {mapped} TO {member};
            GRANT SELECT ON billing_invoices TO PUBLIC;
            """);
        var policies = PostgresServer.Scalar<string>(_database, PolicySnapshot);

        var changes = owner.EnableTenantIsolation(apply: false);

        Assert.Equal(policies, PostgresServer.Scalar<string>(_database, PolicySnapshot));
        Assert.False(owner.GetTenantIsolation().Enabled);
        Assert.Equal(
            new[] { ("PUBLIC", "", "every customer's rows"), (mapped, "cus_a,cus_c", "all but 2 customers' rows"), (member, "cus_a,cus_c", "all but 2 customers' rows"), (nobody, "", "every customer's rows") }
                .OrderBy(c => c.Item1, StringComparer.Ordinal),
            changes.Select(c => (c.Role, string.Join(',', c.MappedCustomers), c.LosesAccess)));
        // Apply returns the same list, and then nothing is left to lose.
        Assert.Equal(changes.Select(c => c.Role), owner.EnableTenantIsolation(apply: true).Select(c => c.Role));
        Assert.Empty(owner.EnableTenantIsolation(apply: false));
    }

    // ------------------------------------------------------------------ grants, status, MayActFor

    [SkippableFact]
    public void Grant_ChecksRoleAndCustomer_IsIdempotent_AndRevokeSaysWhetherThereWasOne()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        using var owner = Owner();
        var missingRole = "i22_missing_" + Guid.NewGuid().ToString("n")[..8];
        var e = Assert.Throws<UsageException>(() => owner.GrantCustomerAccess(missingRole, "cus_a"));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)missingRole), (e.ErrorId, e.Target));
        e = Assert.Throws<UsageException>(() => owner.GrantCustomerAccess(tenant, "cus_zzz"));
        Assert.Equal((ErrorIds.CustomerNotFound, (object?)"cus_zzz"), (e.ErrorId, e.Target));
        foreach (var bad in new[] { "", "a;drop role postgres", "x\"y", "1abc", new string('a', 64), "role\n" })
            Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => owner.GrantCustomerAccess(bad, "cus_a")).ErrorId);
        Assert.Equal(ErrorIds.InvalidCustomerId, Assert.Throws<UsageException>(() => owner.GrantCustomerAccess(tenant, "cus a")).ErrorId);
        Assert.Empty(owner.GetCustomerAccess(null, null));

        var first = owner.GrantCustomerAccess(tenant, "cus_a");
        Assert.Equal((tenant, "cus_a", "postgres"), (first.Role, first.CustomerId, first.GrantedBy));
        Assert.Equal(TimeSpan.Zero, first.GrantedAt.Offset);
        var again = owner.GrantCustomerAccess(tenant, "cus_a");
        Assert.Equal(first.GrantedAt, again.GrantedAt);
        owner.GrantCustomerAccess(tenant, "cus_b");
        Assert.Equal(new[] { "cus_a", "cus_b" }, owner.GetCustomerAccess(tenant, null).Select(a => a.CustomerId));
        Assert.Equal(new[] { tenant }, owner.GetCustomerAccess(null, "cus_b").Select(a => a.Role));
        Assert.Single(owner.GetCustomerAccess(tenant, "cus_b"));

        Assert.True(owner.RevokeCustomerAccess(tenant, "cus_b"));
        Assert.False(owner.RevokeCustomerAccess(tenant, "cus_b"));
        Assert.Equal(new[] { "cus_a" }, owner.GetCustomerAccess(null, null).Select(a => a.CustomerId));
    }

    [SkippableFact]
    public void MayActFor_AnswersForTheRole_WhateverTheSessionsScope()
    {
        Migrate();
        var tenant = CreateRole("tenant");
        var admin = CreateRole("admin");
        var nobody = CreateRole("nobody");
        using (var owner = Owner())
        {
            owner.EnableTenantIsolation(apply: true);
            owner.GrantCustomerAccess(tenant, "cus_a");
            Assert.True(owner.MayActFor("cus_b"));
            var status = owner.GetTenantIsolation();
            Assert.True(status.Enabled && status.AdminRoleExists && status.CurrentRoleIsAdmin);
            Assert.Equal((TenantIsolation.AdminRole, "postgres", 17), (status.AdminRole, status.CurrentRole, status.CustomerTables));
        }
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {admin}");
        foreach (var scope in new[] { null, "cus_a", "cus_b" })
        {
            using var asTenant = new PostgresUsageStore(As(tenant, pooling: true), scope, _time);
            Assert.Equal((true, false, false), (asTenant.MayActFor("cus_a"), asTenant.MayActFor("cus_b"), asTenant.MayActFor("cus_new")));
            var status = asTenant.GetTenantIsolation();
            Assert.Equal((true, false, tenant), (status.Enabled, status.CurrentRoleIsAdmin, status.CurrentRole));
            using var asAdmin = new PostgresUsageStore(As(admin, pooling: true), scope, _time);
            Assert.Equal((true, true), (asAdmin.MayActFor("cus_a"), asAdmin.MayActFor("cus_b")));
            Assert.True(asAdmin.GetTenantIsolation().CurrentRoleIsAdmin);
            using var asNobody = new PostgresUsageStore(As(nobody, pooling: true), scope, _time);
            Assert.False(asNobody.MayActFor("cus_a"));
        }
        // The scope was cleared for the question only: the scoped session still sees only its customer.
        using var scoped = new PostgresUsageStore(As(tenant, pooling: true), "cus_a", _time);
        scoped.MayActFor("cus_a");
        Assert.Equal(3, scoped.CountRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)));
    }

    [SkippableFact]
    public void AdminMember_NotOwner_ManagesTheMappings_ButCannotEnable()
    {
        Migrate();
        var admin = CreateRole("admin");
        var tenant = CreateRole("tenant");
        using (var owner = Owner())
            owner.EnableTenantIsolation(apply: true);
        PostgresServer.Execute(_database, $"GRANT {TenantIsolation.AdminRole} TO {admin}");
        using var asAdmin = new PostgresUsageStore(As(admin, pooling: true), null, _time);
        Assert.Equal(tenant, asAdmin.GrantCustomerAccess(tenant, "cus_b").Role);
        Assert.Single(asAdmin.GetCustomerAccess(null, null));
        Assert.True(asAdmin.RevokeCustomerAccess(tenant, "cus_b"));
        Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => asAdmin.DisableTenantIsolation()).ErrorId);
        Assert.True(asAdmin.GetTenantIsolation().Enabled);
    }
}
