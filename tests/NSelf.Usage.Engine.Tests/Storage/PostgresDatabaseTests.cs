using System.Diagnostics;
using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// What only the PostgreSQL store has: upgrading nself's schema in place, row-level security,
/// credentials, COPY ingestion, and nself's own views and queries over data we write.
/// </summary>
public sealed class PostgresDatabaseTests : IDisposable
{
    private readonly List<string> _databases = new();
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At();

    public PostgresDatabaseTests() => PostgresServer.RequireServer();

    public void Dispose()
    {
        foreach (var database in _databases)
            PostgresServer.DropDatabase(database);
    }

    private string NewDatabase()
    {
        var connectionString = PostgresServer.CreateDatabase();
        _databases.Add(connectionString);
        return connectionString;
    }

    private string NselfDatabase()
    {
        var connectionString = NewDatabase();
        var fixture = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Storage", "Fixtures", "nself_015_019.sql"));
        PostgresServer.Execute(connectionString, fixture);
        return connectionString;
    }

    private UsageEvent Event(IUsageStore store, string customer, string service, decimal quantity, DateTimeOffset at, string? id = null) =>
        new UsageEventFactory(store.GetServices(), _time).Create(customer, service, quantity, at, id);

    private const string TableCounts = """
        SELECT string_agg(t || '=' || n, ',' ORDER BY t) FROM (
            SELECT 'customers' AS t, count(*) AS n FROM billing_customers UNION ALL
            SELECT 'plans', count(*) FROM billing_plans UNION ALL
            SELECT 'subscriptions', count(*) FROM billing_subscriptions UNION ALL
            SELECT 'usage', count(*) FROM billing_usage_records UNION ALL
            SELECT 'invoices', count(*) FROM billing_invoices) AS counts
        """;

    // nself's own question: usage per service for a customer over a period.
    private const string NselfUsageQuery = """
        SELECT string_agg(service_name || '=' || total::text, ',' ORDER BY service_name) FROM (
            SELECT service_name, sum(quantity) AS total FROM billing_usage_records
            WHERE customer_id = 'cus_old1' AND recorded_at >= '2026-10-01T00:00:00Z' AND recorded_at < '2026-11-01T00:00:00Z'
            GROUP BY service_name) AS usage
        """;

    [SkippableFact]
    public void UpgradeInPlace_KeepsEveryRowAndColumnOfNself()
    {
        var database = NselfDatabase();
        var countsBefore = PostgresServer.Scalar<string>(database, TableCounts);
        var usageBefore = PostgresServer.Scalar<string>(database, NselfUsageQuery);
        var quotaBefore = PostgresServer.Scalar<long>(database, "SELECT limit_value FROM billing_quotas WHERE plan_name = 'starter' AND service_name = 'api'");

        using var store = new PostgresUsageStore(database, null, _time);
        Assert.Equal(store.LatestSchemaVersion, store.Migrate().Count);

        Assert.Equal(countsBefore, PostgresServer.Scalar<string>(database, TableCounts));
        // nself's seeded quotas are completed where missing; the ones present keep their values.
        Assert.Equal(24L, PostgresServer.Scalar<long>(database, "SELECT count(*) FROM billing_quotas"));
        Assert.Equal(quotaBefore, PostgresServer.Scalar<long>(database, "SELECT limit_value FROM billing_quotas WHERE plan_name = 'starter' AND service_name = 'api'"));
        Assert.Equal(usageBefore, PostgresServer.Scalar<string>(database, NselfUsageQuery));
        Assert.Equal(0L, PostgresServer.Scalar<long>(database, "SELECT count(*) FROM billing_usage_records WHERE event_id IS NULL OR event_id NOT LIKE 'nself-%'"));
        // Rows nself stored before count as ingested when they were recorded, not at the upgrade.
        Assert.Equal(0L, PostgresServer.Scalar<long>(database, "SELECT count(*) FROM billing_usage_records WHERE ingested_at IS DISTINCT FROM recorded_at"));
        Assert.True(PostgresServer.Scalar<bool>(database, "SELECT EXISTS (SELECT 1 FROM pg_policies WHERE policyname = 'usage_records_tenant_isolation')"));

        // Usage nself wrote before the upgrade is in the rollups and answers Get-Usage.
        var october = new UsageReports(store).Summaries(new UsageFilter("cus_old1"), Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal(usageBefore, string.Join(',', october.OrderBy(s => s.Service).Select(s => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s.Service}={s.Quantity:F6}"))));

        // Re-running is a no-op; nself's tools keep working, and their new rows are rolled up too.
        Assert.Empty(store.Migrate());
        var apiBefore = PostgresServer.Scalar<decimal>(database, "SELECT sum(quantity) FROM billing_usage_records WHERE customer_id = 'cus_old2' AND service_name = 'api'");
        PostgresServer.Execute(database, "INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES ('cus_old2', 'api', 5, '2026-10-20T10:00:00Z')");
        Assert.Equal(apiBefore + 5, new UsageReports(store).Summaries(new UsageFilter("cus_old2", new[] { "api" }), Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)).Single().Quantity);
        Assert.NotNull(store.RefreshSummaries());
    }

    [SkippableFact]
    public void TwoLiveSubscriptionsFromNself_TheNewestIsTheCustomers_AndNoReadFails()
    {
        var database = NselfDatabase();
        PostgresServer.Execute(database, """
            INSERT INTO billing_customers (customer_id, project_name) VALUES ('cus_dup', 'dup');
            INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, status, current_period_start, current_period_end, created_at)
            VALUES ('sub_old', 'cus_dup', 'starter', 'active', '2026-10-01', '2026-11-01', '2026-10-01'),
                   ('sub_new', 'cus_dup', 'pro', 'active', '2026-10-05', '2026-11-05', '2026-10-05');
            """);
        using var store = new PostgresUsageStore(database, null, _time);
        store.Migrate();
        var book = new NSelf.Usage.Engine.Accounts.Subscriptions(store, _time);
        Assert.Equal("sub_new", book.LiveSubscription("cus_dup")!.SubscriptionId);
        var terms = book.TermsFor(null, TimeZoneInfo.Utc);
        Assert.Equal("pro", Assert.Single(terms, t => t.CustomerId == "cus_dup").Plan!.Name);
        Assert.Equal(terms.Select(t => t.CustomerId).Distinct().Count(), terms.Count);
        // A cancellation at the period end marks both, and resuming withdraws both marks.
        // Both subscriptions are named first: Assert.All over an empty list would pass.
        book.Cancel("cus_dup", atPeriodEnd: true);
        var marked = store.GetSubscriptions("cus_dup");
        Assert.Equal(new[] { "sub_new", "sub_old" }, marked.Select(s => s.SubscriptionId).Order(StringComparer.Ordinal));
        Assert.All(marked, s => Assert.True(s.CancelAtPeriodEnd));
        book.Cancel("cus_dup", atPeriodEnd: false, resume: true);
        var resumed = store.GetSubscriptions("cus_dup");
        Assert.Equal(new[] { "sub_new", "sub_old" }, resumed.Select(s => s.SubscriptionId).Order(StringComparer.Ordinal));
        Assert.All(resumed, s => Assert.False(s.CancelAtPeriodEnd));
        // Cancelling cancels both, so the stray older one does not become the customer's plan.
        book.Cancel("cus_dup", atPeriodEnd: false);
        Assert.Null(book.LiveSubscription("cus_dup"));
    }

    [SkippableFact]
    public void Statistics_MatchPostgresPercentileCont_OnTheSameData()
    {
        var database = NewDatabase();
        using var store = new PostgresUsageStore(database, null, _time);
        var random = new Random(11);
        var start = _time.GetUtcNow().AddDays(-3);
        store.Ingest(Enumerable.Range(0, 5001).Select(i => Event(store, "cus_pct", i % 3 == 0 ? "compute" : "api",
            Math.Round((decimal)random.NextDouble() * 1000m, random.Next(0, 7)), start.AddSeconds(i * 7))).ToList());
        var ours = new UsageAnalytics(store).Statistics(new UsageFilter("cus_pct"), start, _time.GetUtcNow()).ToDictionary(s => s.Service);
        foreach (var service in new[] { "api", "compute" })
        {
            var sql = $"SELECT {{0}} FROM billing_usage_records WHERE customer_id = 'cus_pct' AND service_name = '{service}'";
            var theirs = PostgresServer.Scalar<string>(database, string.Format(System.Globalization.CultureInfo.InvariantCulture, sql,
                "concat_ws('|', percentile_cont(0.5) WITHIN GROUP (ORDER BY quantity), percentile_cont(0.95) WITHIN GROUP (ORDER BY quantity), percentile_cont(0.99) WITHIN GROUP (ORDER BY quantity), min(quantity), max(quantity), count(*))"))
                .Split('|').Select(v => decimal.Parse(v, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var stat = ours[service];
            // percentile_cont works in double precision; ours is exact, so they agree to double's precision.
            Assert.Equal((double)theirs[0], (double)stat.Median, 9);
            Assert.Equal((double)theirs[1], (double)stat.P95, 9);
            Assert.Equal((double)theirs[2], (double)stat.P99, 9);
            Assert.Equal((theirs[3], theirs[4], (long)theirs[5]), (stat.Minimum, stat.Maximum, stat.Events));
        }
    }

    [SkippableFact]
    public void NselfsOwnQuery_GivesTheSameTotalsAsGetUsage_OnDataWeWrote()
    {
        var database = NewDatabase();
        using var store = new PostgresUsageStore(database, null, _time);
        var random = new Random(7);
        store.Ingest(Enumerable.Range(0, 2000).Select(i => Event(store, "cus_old1", i % 2 == 0 ? "api" : "storage",
            i % 2 == 0 ? 1m : Math.Round((decimal)random.NextDouble(), 6), Clock.Utc(2026, 10, 1).AddMinutes(i * 20))).ToList());
        var ours = new UsageReports(store).Summaries(new UsageFilter("cus_old1"), Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        Assert.Equal(PostgresServer.Scalar<string>(database, NselfUsageQuery), string.Join(',', ours.OrderBy(s => s.Service).Select(s => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{s.Service}={s.Quantity:F6}"))));

        // nself's daily summary view agrees after Update-UsageSummary, costs included.
        var refresh = store.RefreshSummaries();
        Assert.Equal("billing_usage_daily_summary", refresh.Summary);
        Assert.Equal(ours.Sum(s => s.Events), PostgresServer.Scalar<decimal>(database, "SELECT sum(event_count) FROM billing_usage_daily_summary WHERE customer_id = 'cus_old1'"));
        Assert.Equal(ours.Single(s => s.Service == "api").Cost, PostgresServer.Scalar<decimal>(database, "SELECT sum(total_cost) FROM billing_usage_daily_summary WHERE customer_id = 'cus_old1' AND service_name = 'api'"));
    }

    [SkippableFact]
    public void NewDatabase_IsReachableWithEveryMigrationPending()
    {
        using var store = new PostgresUsageStore(NewDatabase(), null, _time);
        var health = store.CheckHealth();
        Assert.True(health.Reachable, health.Error);
        Assert.Equal((0, store.LatestSchemaVersion, true), (health.SchemaVersion, health.PendingMigrations, health.Writable));
        Assert.StartsWith("PostgreSQL ", health.ServerVersion);
    }

    [SkippableFact]
    public void ConnectTimeout_DefaultsToTenSecondsUnlessTheCallerGivesOne()
    {
        Assert.Equal(10, PostgresConnections.Settings("Host=h;Command Timeout=60", null).Timeout);
        Assert.Equal(10, PostgresConnections.Settings("Host=h;Password=timeout", null).Timeout);
        Assert.Equal(3, PostgresConnections.Settings("Host=h;Timeout=3", null).Timeout);
    }

    [SkippableFact]
    public void Sessions_RunWithoutJit_UnlessTheCallersOptionsAskForIt_AndTheScopeComesLast()
    {
        // LLVM compiling a plan does not hear a cancel, and our reads lose time to it (decision 248).
        var database = NewDatabase();
        string Show(string connectionString, string setting) =>
            PostgresServer.Scalar<string>(PostgresConnections.Settings(connectionString, null).ConnectionString, $"SHOW {setting}");
        Assert.Equal(("off", "true"), (Show(database, "jit"), Show(database, "app.is_admin")));
        var asked = new NpgsqlConnectionStringBuilder(database) { Options = "-c jit=on -c app.is_admin=false" }.ConnectionString;
        Assert.Equal(("on", "true"), (Show(asked, "jit"), Show(asked, "app.is_admin")));
    }

    [SkippableFact]
    public void CopyIngestion_IsExactlyOnce()
    {
        var database = NewDatabase();
        using var store = new PostgresUsageStore(database, null, _time);
        var first = Enumerable.Range(0, 500).Select(i => Event(store, "cus_c", "api", 1, Clock.Utc(2026, 11, 2).AddSeconds(i), $"c-{i}")).ToList();
        var second = first.Concat(Enumerable.Range(500, 500).Select(i => Event(store, "cus_c", "api", 1, Clock.Utc(2026, 11, 2).AddSeconds(i), $"c-{i}"))).ToList();
        Assert.Equal((500, 0), (store.Ingest(first).Inserted, store.Ingest(first).Inserted));
        var result = store.Ingest(second);
        Assert.Equal((500, 500), (result.Inserted, result.Duplicates));
        Assert.Equal(1000L, PostgresServer.Scalar<long>(database, "SELECT sum(events)::bigint FROM usage_rollups WHERE customer_id = 'cus_c'"));
    }

    [SkippableFact]
    public void ScopedSession_SeesAndWritesOnlyItsOwnCustomer()
    {
        var database = NewDatabase();
        using (var admin = new PostgresUsageStore(database, null, _time))
        {
            admin.Ingest(new[] { Event(admin, "cus_b", "api", 7, Clock.Utc(2026, 11, 2)) });
        }
        // A least-privileged application role, as an operator would create it.
        var role = "billing_app_" + Guid.NewGuid().ToString("n")[..8];
        PostgresServer.Execute(database, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-secret';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
            """);
        var asApp = new NpgsqlConnectionStringBuilder(database) { Username = role, Password = "app-secret" }.ConnectionString;
        try
        {
            using var scoped = new PostgresUsageStore(asApp, "cus_a", _time);
            Assert.Equal(1, scoped.Ingest(new[] { Event(scoped, "cus_a", "api", 1, Clock.Utc(2026, 11, 2)) }).Inserted);
            var visible = new UsageReports(scoped).Summaries(UsageFilter.AllCustomers(), Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
            Assert.Equal(new[] { "cus_a" }, visible.Select(s => s.CustomerId));
            Assert.Empty(scoped.FindRecords("cus_b", new[] { "anything" }));
            Assert.Empty(scoped.ReadRecords(new RecordQuery(new UsageFilter("cus_b"), null, null)));
            var denied = Assert.Throws<UsageException>(() => scoped.Ingest(new[] { Event(scoped, "cus_b", "api", 1, Clock.Utc(2026, 11, 2)) }));
            Assert.Equal(ErrorIds.AccessDenied, denied.ErrorId);
            // A customer may not change its own billing record either; that is reported, not ignored.
            Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => scoped.UpdateCustomer("cus_a", new CustomerChange(Name: "A"))).ErrorId);
            Assert.Equal(ErrorIds.AccessDenied, Assert.Throws<UsageException>(() => scoped.RemoveCustomer("cus_a")).ErrorId);

            // Not even raw SQL in a scoped session may change usage.
            var scopedSql = new NpgsqlConnectionStringBuilder(asApp) { Options = "-c app.current_customer_id=cus_a" }.ConnectionString;
            using (var connection = new NpgsqlConnection(scopedSql))
            {
                connection.Open();
                using var update = new NpgsqlCommand("UPDATE billing_usage_records SET quantity = 0", connection);
                Assert.Equal(0, update.ExecuteNonQuery());
                using var delete = new NpgsqlCommand("DELETE FROM billing_usage_records", connection);
                Assert.Equal(0, delete.ExecuteNonQuery());
            }

            using var unscoped = new PostgresUsageStore(asApp, null, _time);
            var all = new UsageReports(unscoped).Summaries(UsageFilter.AllCustomers(), Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
            Assert.Equal(new[] { ("cus_a", 1m), ("cus_b", 7m) }, all.Select(s => (s.CustomerId, s.Quantity)));
        }
        finally
        {
            PostgresConnections.Forget(b => b.Username == role);
            NpgsqlConnection.ClearAllPools();
            PostgresServer.Execute(database, $"DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }

    [SkippableFact]
    public void WrongPassword_IsStoreUnavailableNamingHostPortAndDatabase_WithoutThePassword()
    {
        var database = NewDatabase();
        var wrong = new NpgsqlConnectionStringBuilder(database) { Password = "Wr0ng-Pa55word" };
        using var store = new PostgresUsageStore(wrong.ConnectionString, null, _time);
        var e = Assert.Throws<UsageException>(() => store.GetServices());
        Assert.Equal(ErrorIds.StoreUnavailable, e.ErrorId);
        Assert.Contains($"{wrong.Host}:{wrong.Port}/{wrong.Database}", e.Message);
        Assert.DoesNotContain("Wr0ng-Pa55word", e.Message);
        Assert.DoesNotContain("Wr0ng-Pa55word", store.Location);
        Assert.DoesNotContain("Wr0ng-Pa55word", e.Target?.ToString() ?? "");
    }

    [SkippableFact]
    public void UnreachableServer_FailsWithinTheConnectTimeout()
    {
        var closedPort = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closedPort.Start();
        var port = ((System.Net.IPEndPoint)closedPort.LocalEndpoint).Port;
        closedPort.Stop();
        var watch = Stopwatch.StartNew();
        using var store = new PostgresUsageStore($"Host=127.0.0.1;Port={port};Database=none;Username=x;Password=y;Timeout=3", null, _time);
        var e = Assert.Throws<UsageException>(() => store.GetServices());
        Assert.Equal(ErrorIds.StoreUnavailable, e.ErrorId);
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [SkippableFact]
    public void PasswordFile_IsUsedWhenTheConnectionStringHasNoPassword()
    {
        var database = new NpgsqlConnectionStringBuilder(NewDatabase());
        using var directory = new TempDirectory();
        var passfile = directory.File("pgpass");
        File.WriteAllText(passfile, $"{database.Host}:{database.Port}:*:{database.Username}:{database.Password}\n");
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(passfile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var withoutPassword = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Password = null, Passfile = passfile };
        using var store = new PostgresUsageStore(withoutPassword.ConnectionString, null, _time);
        Assert.Equal(store.LatestSchemaVersion, store.GetSchemaVersion() + store.Migrate().Count);
    }

    [SkippableFact]
    public async Task HostsStartingTogether_ApplyEachMigrationOnce()
    {
        var database = NewDatabase();
        var stores = Enumerable.Range(0, 4).Select(_ => new PostgresUsageStore(database, null, _time)).ToList();
        await Task.WhenAll(stores.Select(s => Task.Run(() => s.GetServices())));
        Assert.Equal((long)stores[0].LatestSchemaVersion, PostgresServer.Scalar<long>(database, "SELECT count(*) FROM usage_schema_migrations"));
        stores.ForEach(s => s.Dispose());
    }
}
