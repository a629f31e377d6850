using System.Diagnostics;
using System.Globalization;
using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 22's cost budget, measured at the engine (opt-in: NSELF_TENANT_BENCH=1; it prints, it
/// does not assert, because timings on a shared machine are no pass/fail signal): one committed
/// tracking call of a mapped, scoped role against an unscoped owner with isolation enabled, in
/// the same run, interleaved; and 100,000 events in 5,000-event chunks (the module's chunk) by
/// each. The same role with isolation disabled separates the policies' cost from the path's.
/// </summary>
public sealed class TenantIsolationBench : IDisposable
{
    private const string Password = "bench-secret";
    private readonly ITestOutputHelper _output;
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At(Clock.Utc(2026, 11, 27, 12));
    private readonly string _database;
    private readonly string _role = "i22_bench_" + Guid.NewGuid().ToString("n")[..8];
    private int _next;

    public TenantIsolationBench(ITestOutputHelper output)
    {
        _output = output;
        Skip.IfNot(Environment.GetEnvironmentVariable("NSELF_TENANT_BENCH") == "1", "Set NSELF_TENANT_BENCH=1 to run the tenant isolation bench.");
        _database = PostgresServer.CreateDatabase();
    }

    public void Dispose()
    {
        if (_database is null)
            return;
        PostgresConnections.Forget(b => b.Username == _role);
        NpgsqlConnection.ClearAllPools();
        PostgresServer.Execute(_database, $"DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{_role}') THEN DROP OWNED BY {_role}; DROP ROLE {_role}; END IF; END $$");
        PostgresServer.DropDatabase(_database);
    }

    private string AsRole => new NpgsqlConnectionStringBuilder(_database) { Username = _role, Password = Password }.ConnectionString;

    private IReadOnlyList<UsageEvent> Events(UsageEventFactory factory, string customer, int count) =>
        Enumerable.Range(0, count).Select(_ => factory.Create(customer, "api", 1, Clock.Utc(2026, 11, 3).AddSeconds(_next % 86_400), "b" + (_next++).ToString(CultureInfo.InvariantCulture))).ToList();

    private static double MedianMicros(List<long> ticks)
    {
        ticks.Sort();
        return ticks[ticks.Count / 2] * 1_000_000.0 / Stopwatch.Frequency;
    }

    /// <summary>Per-call times of stores called in turn, round after round, so drift hits each alike.</summary>
    private List<long>[] Interleaved(IReadOnlyList<(IUsageStore Store, string Customer)> callers, int rounds, int perRound)
    {
        var factories = callers.Select(c => new UsageEventFactory(c.Store.GetServices(), _time)).ToArray();
        var times = callers.Select(_ => new List<long>()).ToArray();
        for (var round = 0; round < rounds; round++)
            for (var i = 0; i < callers.Count; i++)
                for (var n = 0; n < perRound; n++)
                {
                    var e = Events(factories[i], callers[i].Customer, 1);
                    var started = Stopwatch.GetTimestamp();
                    callers[i].Store.Ingest(e);
                    times[i].Add(Stopwatch.GetTimestamp() - started);
                }
        return times;
    }

    private double Bulk(IUsageStore store, string customer, int total)
    {
        var factory = new UsageEventFactory(store.GetServices(), _time);
        var chunks = Enumerable.Range(0, total / 5000).Select(_ => Events(factory, customer, 5000)).ToList();
        var started = Stopwatch.GetTimestamp();
        foreach (var chunk in chunks)
            Assert.Equal(5000, store.Ingest(chunk).Inserted);
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }

    [SkippableFact]
    public void ScopedMappedRole_AgainstUnscopedOwner()
    {
        using var owner = new PostgresUsageStore(_database, null, _time);
        owner.Migrate();
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {_role} LOGIN PASSWORD '{Password}';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {_role};
            GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {_role};
            """);
        foreach (var c in new[] { "cus_owner", "cus_tenant", "cus_bulk_owner", "cus_bulk_tenant", "cus_bulk_off" })
            owner.AddCustomer(c, new CustomerChange());
        owner.GrantCustomerAccess(_role, "cus_tenant");
        owner.GrantCustomerAccess(_role, "cus_bulk_tenant");
        owner.GrantCustomerAccess(_role, "cus_bulk_off");
        using var scoped = new PostgresUsageStore(AsRole, "cus_tenant", _time);
        using var unscoped = new PostgresUsageStore(AsRole, null, _time);
        var callers = new[] { ((IUsageStore)owner, "cus_owner"), (scoped, "cus_tenant"), (unscoped, "cus_tenant") };

        // Disabled and enabled alternate, ten rounds each, so drift of the shared machine hits both
        // alike; the first calls after each switch (plans made again) are not counted.
        var off = callers.Select(_ => new List<long>()).ToArray();
        var on = callers.Select(_ => new List<long>()).ToArray();
        for (var round = 0; round < 10; round++)
            foreach (var enabled in new[] { false, true })
            {
                if (enabled)
                    owner.EnableTenantIsolation(apply: true);
                else
                    owner.DisableTenantIsolation();
                Interleaved(callers, 1, 30);
                var times = Interleaved(callers, 1, 200);
                for (var i = 0; i < callers.Length; i++)
                    (enabled ? on : off)[i].AddRange(times[i]);
            }

        owner.DisableTenantIsolation();
        using var offBulk = new PostgresUsageStore(AsRole, "cus_bulk_off", _time);
        var bulkOff = Bulk(offBulk, "cus_bulk_off", 100_000);
        owner.EnableTenantIsolation(apply: true);
        using var tenantBulk = new PostgresUsageStore(AsRole, "cus_bulk_tenant", _time);
        var bulkOwner = Bulk(owner, "cus_bulk_owner", 100_000);
        var bulkTenant = Bulk(tenantBulk, "cus_bulk_tenant", 100_000);

        string Line(List<long>[] t) => string.Create(CultureInfo.InvariantCulture,
            $"owner unscoped {MedianMicros(t[0]):F0} us, mapped role scoped {MedianMicros(t[1]):F0} us ({(MedianMicros(t[1]) / MedianMicros(t[0]) - 1) * 100:+0.0;-0.0} %), same role unscoped {MedianMicros(t[2]):F0} us (scoped {(MedianMicros(t[1]) / MedianMicros(t[2]) - 1) * 100:+0.0;-0.0} % over it)");
        _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            one tracking call, median of 2,000 each, interleaved, isolation switched every round:
              disabled: {Line(off)}
              enabled:  {Line(on)}
              enabling costs the scoped role {(MedianMicros(on[1]) / MedianMicros(off[1]) - 1) * 100:+0.0;-0.0} %
            100,000 events in 5,000-event chunks:
              owner (direct COPY) {bulkOwner:F2} s; mapped scoped role, isolation enabled (staging) {bulkTenant:F2} s ({(bulkTenant / bulkOwner - 1) * 100:+0.0;-0.0} %);
              same role scoped, isolation disabled (staging) {bulkOff:F2} s: enabling costs the role {(bulkTenant / bulkOff - 1) * 100:+0.0;-0.0} %
            """));
    }
}
