using System.Globalization;
using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 15, item 3: the upgrade never takes access away from nself's application role (a role
/// that does not own the tables), and never widens what nself's own row-level security allows;
/// a session that names a customer still sees and writes only that customer.
/// </summary>
public sealed class PostgresRowLevelSecurityTests : IDisposable
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At();
    private readonly string _database = PostgresServer.CreateDatabase();
    private readonly string _role = "nself_app_" + Guid.NewGuid().ToString("n")[..8];
    private bool _roleCreated;

    public void Dispose()
    {
        if (_roleCreated)
        {
            PostgresConnections.Forget(b => b.Username == _role);
            NpgsqlConnection.ClearAllPools();
            PostgresServer.Execute(_database, $"DROP OWNED BY {_role}; DROP ROLE {_role};");
        }
        PostgresServer.DropDatabase(_database);
    }

    /// <summary>nself's application role, granted as nself grants it (before the upgrade).</summary>
    private void CreateNselfRole()
    {
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {_role} LOGIN PASSWORD 'app-secret';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {_role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_role};
            """);
        _roleCreated = true;
    }

    /// <summary>Plain Npgsql as the role, no pool, with the given session settings (none: as nself's tools connect).</summary>
    private string AsRole(string settings = "") =>
        new NpgsqlConnectionStringBuilder(_database) { Username = _role, Password = "app-secret", Pooling = false, Options = settings }.ConnectionString;

    private const string Seen = """
        SELECT concat_ws(',', 'usage=' || (SELECT count(*) FROM billing_usage_records),
                              'customers=' || (SELECT count(*) FROM billing_customers),
                              'subscriptions=' || (SELECT count(*) FROM billing_subscriptions),
                              'invoices=' || (SELECT count(*) FROM billing_invoices))
        """;

    // What nself's tools write, as they write it: a new customer, its bulk insert and record
    // functions (no event id, no time, a service the module never registered), an operator's
    // correction, its usage_archive's DELETE of old rows, and a subscription change.
    private static readonly string[] CustomerWrites =
    {
        "INSERT INTO billing_customers (customer_id, project_name, email) VALUES ('cus_new', 'new', NULL)",
        "UPDATE billing_subscriptions SET status = 'past_due' WHERE subscription_id = 'sub_1'",
    };

    private static readonly string[] UsageWrites =
    {
        "INSERT INTO billing_usage_records (customer_id, service_name, quantity) VALUES ('cus_old1', 'sms', 3)",
        "INSERT INTO billing_usage_records (customer_id, service_name, quantity) VALUES ('cus_old2', 'sms', 3)",
        "UPDATE billing_usage_records SET quantity = quantity + 1 WHERE service_name = 'api' AND recorded_at < '2026-10-02T00:00:00Z'",
        "DELETE FROM billing_usage_records WHERE recorded_at < '2026-10-01T12:00:00Z'",
    };

    /// <summary>
    /// Each write in a transaction of its own, rolled back so the data stays as it was: the rows
    /// it touched, or the SQLSTATE it failed with (42501: refused by row-level security).
    /// </summary>
    private static string Outcomes(string connectionString, IEnumerable<string> writes)
    {
        var outcomes = new List<string>();
        foreach (var sql in writes)
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
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
        return string.Join(',', outcomes);
    }

    private void Upgrade()
    {
        using var owner = new PostgresUsageStore(_database, null, _time);
        Assert.Equal(owner.LatestSchemaVersion, owner.Migrate().Count);
    }

    [SkippableFact]
    public void NselfRole_OnNselfWithoutItsRowLevelSecurity_ReadsAndWritesExactlyAsBeforeTheUpgrade()
    {
        NselfFixture.Load(_database, with019: false);
        CreateNselfRole();
        var writes = CustomerWrites.Concat(UsageWrites).ToList();
        var seenBefore = PostgresServer.Scalar<string>(AsRole(), Seen);
        var writtenBefore = Outcomes(AsRole(), writes);
        Assert.Equal("usage=3000,customers=2,subscriptions=1,invoices=1", seenBefore);
        Assert.All(writtenBefore.Split(','), n => Assert.True(int.Parse(n, CultureInfo.InvariantCulture) > 0, writtenBefore));

        Upgrade();

        Assert.Equal(seenBefore, PostgresServer.Scalar<string>(AsRole(), Seen));
        Assert.Equal(writtenBefore, Outcomes(AsRole(), writes));
        // Committed, the insert reaches the rollups through the owner's trigger, as the owner sees.
        PostgresServer.Execute(AsRole(), "INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES ('cus_old2', 'api', 5, '2026-10-20T10:00:00Z')");
        Assert.Equal(3001L, PostgresServer.Scalar<long>(AsRole(), "SELECT count(*) FROM billing_usage_records"));

        // A session of the same role that names a customer sees and writes only that customer.
        var scoped = AsRole("-c app.current_customer_id=cus_old2");
        Assert.Equal("usage=1001,customers=1,subscriptions=0,invoices=0", PostgresServer.Scalar<string>(scoped, Seen));
        Assert.Equal("42501,0,42501,1,0,0", Outcomes(scoped, writes));
    }

    [SkippableFact]
    public void ModuleCustomerScope_AsNselfRole_OnTheUpgradedDatabase_SeesAndWritesOnlyItsCustomer()
    {
        NselfFixture.Load(_database, with019: false);
        CreateNselfRole();
        Upgrade();
        // The module's own tables are new: the operator grants them to the role, as for any table.
        PostgresServer.Execute(_database, $"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {_role}");
        var asApp = new NpgsqlConnectionStringBuilder(_database) { Username = _role, Password = "app-secret" }.ConnectionString;

        using var scoped = new PostgresUsageStore(asApp, "cus_old1", _time);
        var visible = new UsageReports(scoped).Summaries(UsageFilter.AllCustomers(), Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal(new[] { "cus_old1" }, visible.Select(s => s.CustomerId).Distinct());
        Assert.Equal(2000L, visible.Sum(s => s.Events));
        Assert.Empty(scoped.ReadRecords(new RecordQuery(new UsageFilter("cus_old2"), null, null)));
        var factory = new UsageEventFactory(scoped.GetServices(), _time);
        Assert.Equal(1, scoped.Ingest(new[] { factory.Create("cus_old1", "api", 1, Clock.Utc(2026, 10, 20)) }).Inserted);
        var denied = Assert.Throws<UsageException>(() => scoped.Ingest(new[] { factory.Create("cus_old2", "api", 1, Clock.Utc(2026, 10, 20)) }));
        Assert.Equal(ErrorIds.AccessDenied, denied.ErrorId);

        using var unscoped = new PostgresUsageStore(asApp, null, _time);
        var all = new UsageReports(unscoped).Summaries(UsageFilter.AllCustomers(), Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal(3001L, all.Sum(s => s.Events));
    }

    [SkippableFact]
    public void NselfRole_UnderNselfsOwnRowLevelSecurity_NeitherLosesNorGainsAnyUsageRow()
    {
        NselfFixture.Load(_database, with019: true);
        CreateNselfRole();
        var sessions = new[] { "-c app.current_customer_id=cus_old1", "-c app.is_admin=true", "" };
        const string OwnUsage = "SELECT count(*) || '/' || count(*) FILTER (WHERE customer_id <> 'cus_old1') FROM billing_usage_records";
        var usageBefore = sessions.Select(s => PostgresServer.Scalar<string>(AsRole(s), OwnUsage)).ToList();
        var usageWritesBefore = sessions.Select(s => Outcomes(AsRole(s), UsageWrites)).ToList();
        var seenBefore = sessions.Select(s => PostgresServer.Scalar<string>(AsRole(s), Seen)).ToList();
        var customerWritesBefore = sessions.Select(s => Outcomes(AsRole(s), CustomerWrites)).ToList();
        // nself's policy: its customer's 2000 rows, all 3000 for an admin, none without settings.
        Assert.Equal(new[] { "2000/0", "3000/1000", "0/0" }, usageBefore);

        Upgrade();

        // nself's policy is the only one that decides on its table; the module added none there.
        Assert.False(PostgresServer.Scalar<bool>(_database, "SELECT EXISTS (SELECT 1 FROM pg_policies WHERE tablename = 'billing_usage_records' AND policyname = 'billing_usage_records_unscoped_all')"));
        Assert.Equal(usageBefore, sessions.Select(s => PostgresServer.Scalar<string>(AsRole(s), OwnUsage)));
        Assert.Equal(usageWritesBefore, sessions.Select(s => Outcomes(AsRole(s), UsageWrites)));
        // On nself's tables without its policies, the admin and the session naming no customer
        // keep everything they had; a session naming a customer is scoped to it there too.
        Assert.Equal(seenBefore.Skip(1), sessions.Skip(1).Select(s => PostgresServer.Scalar<string>(AsRole(s), Seen)));
        Assert.Equal(customerWritesBefore.Skip(1), sessions.Skip(1).Select(s => Outcomes(AsRole(s), CustomerWrites)));
        Assert.Equal("usage=2000,customers=1,subscriptions=1,invoices=1", PostgresServer.Scalar<string>(AsRole(sessions[0]), Seen));
    }

    [SkippableFact]
    public void FreshDatabase_EndsWithTheSamePoliciesAsAnUpgradedNselfDatabase()
    {
        using (var fresh = new PostgresUsageStore(_database, null, _time))
            fresh.Migrate();
        var upgraded = PostgresServer.CreateDatabase();
        try
        {
            NselfFixture.Load(upgraded, with019: false);
            using (var owner = new PostgresUsageStore(upgraded, null, _time))
                owner.Migrate();
            const string Policies = """
                SELECT string_agg(tablename || '.' || policyname || ':' || cmd || ':' || coalesce(qual, '') || ':' || coalesce(with_check, ''), E'\n' ORDER BY tablename, policyname)
                FROM pg_policies WHERE schemaname = 'public'
                """;
            var policies = PostgresServer.Scalar<string>(_database, Policies);
            Assert.Equal(policies, PostgresServer.Scalar<string>(upgraded, Policies));
            Assert.Equal(18, policies.Split('\n').Count(p => p.Contains("_unscoped_all:", StringComparison.Ordinal)));
            // Every table with row-level security has the policy, and running the migration again adds none.
            // (Migration 14's usage_customer_access is new, so no access was there to keep: only admins write it.
            // Migration 16's billing_smtp_secret and 18's usage_alert_action_secrets are the owner's alone:
            // row-level security without any policy.)
            Assert.Equal(0L, PostgresServer.Scalar<long>(_database, """
                SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relname NOT IN ('usage_customer_access', 'billing_smtp_secret', 'usage_alert_action_secrets')
                  AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = c.relname || '_unscoped_all')
                """));
            var migration = MigrationScript.Load("postgres").Single(m => m.Version == 13);
            PostgresServer.Execute(_database, migration.Sql);
            Assert.Equal(policies, PostgresServer.Scalar<string>(_database, Policies));
        }
        finally
        {
            PostgresServer.DropDatabase(upgraded);
        }
    }
}
