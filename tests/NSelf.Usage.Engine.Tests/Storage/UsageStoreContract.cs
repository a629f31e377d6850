using Microsoft.Extensions.Time.Testing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// The one behaviour every store must have. Each backend's test class derives from this and
/// supplies a real, empty store (a SQLite file, a PostgreSQL database).
/// </summary>
public abstract partial class UsageStoreContract : IDisposable
{
    protected readonly SettableClock Time = new(Clock.Utc(2026, 11, 27, 12));
    private readonly List<IUsageStore> _opened = new();

    /// <summary>
    /// Opens a new, empty store (or, with the same key, another handle on the same one), on the
    /// test's clock or another (a host whose clock is wrong).
    /// </summary>
    protected abstract IUsageStore OpenStore(string key = "main", TimeProvider? time = null);

    protected IUsageStore Store => _store ??= Open();

    private IUsageStore? _store;

    protected IUsageStore Open(string key = "main", TimeProvider? time = null)
    {
        var store = OpenStore(key, time);
        _opened.Add(store);
        return store;
    }

    protected UsageEvent Event(string customer, string service, decimal quantity, DateTimeOffset at, string? id = null, string? metadata = null, IUsageStore? store = null) =>
        new UsageEventFactory((store ?? Store).GetServices(), Time).Create(customer, service, quantity, at, id, metadata);

    protected IReadOnlyList<UsageSummary> Summaries(string? customer, DateTimeOffset start, DateTimeOffset end, string? groupKey = null, IReadOnlyList<string>? services = null) =>
        new UsageReports(Store).Summaries(new UsageFilter(customer, services), start, end, groupKey);

    /// <summary>Metadata is the same JSON object; PostgreSQL's jsonb may order keys differently.</summary>
    protected static void AssertSameJson(string expected, string actual) =>
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(expected), System.Text.Json.Nodes.JsonNode.Parse(actual)), $"Expected {expected}, got {actual}");

    public virtual void Dispose()
    {
        foreach (var store in _opened)
            store.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public void NewStore_IsMigratedToTheLatestSchemaWithChecksums()
    {
        Store.GetServices();
        Assert.Equal(Store.LatestSchemaVersion, Store.GetSchemaVersion());
        var migrations = Store.GetMigrations();
        Assert.Equal(Enumerable.Range(1, Store.LatestSchemaVersion), migrations.Select(m => m.Version));
        Assert.All(migrations, m => Assert.Matches("^[0-9a-f]{64}$", m.Checksum));
        Assert.Empty(Store.Migrate());
    }

    [SkippableFact]
    public void NewStore_KnowsTheSixBuiltInServices()
    {
        var services = Store.GetServices().All.Where(s => s.BuiltIn).Select(s => (s.Name, s.Unit, s.DisplayPrice)).ToList();
        Assert.Equal(new[]
        {
            ("api", "requests", 0.0001m), ("storage", "GB-hours", 0.001m), ("bandwidth", "GB", 0.01m),
            ("compute", "CPU-hours", 0.05m), ("database", "queries", 0.00001m), ("functions", "invocations", 0.0002m),
        }.OrderBy(s => s.Item1), services.OrderBy(s => s.Name));
    }

    [SkippableFact]
    public void Ingest_StoresAnEventOnce_HoweverOftenItIsSent()
    {
        var e = Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2, 10), "req-1");
        Assert.Equal(1, Store.Ingest(new[] { e }).Inserted);
        var again = Store.Ingest(new[] { e, e });
        Assert.Equal((0, 2), (again.Inserted, again.Duplicates));
        var usage = Assert.Single(Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)));
        Assert.Equal((1m, 1L), (usage.Quantity, usage.Events));
        Assert.Single(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_a"), null, null)));
    }

    [SkippableFact]
    public void Ingest_WithinOneBatch_CountsARepeatedIdOnce()
    {
        var e = Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2, 10), "req-1");
        var result = Store.Ingest(new[] { e, e with { Quantity = 5 } });
        Assert.Equal((1, 1), (result.Inserted, result.Duplicates));
        Assert.Equal(1m, Assert.Single(Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))).Quantity);
    }

    [SkippableFact]
    public void Ingest_OfBulkChunks_IsExactlyOnce_WhetherNewResentRepeatedOrRemoved()
    {
        // Chunks big enough for the bulk path (PostgreSQL: COPY straight into the table, falling
        // back to the staging path when an id is already there or a customer needs checking).
        List<UsageEvent> Chunk(string customer, int from, int count) => Enumerable.Range(from, count)
            .Select(i => Event(customer, "api", 1 + i % 3, Clock.Utc(2026, 11, 2).AddMinutes(i), $"bulk-{i}")).ToList();
        Assert.Equal((200, 0), (Store.Ingest(Chunk("cus_bulk", 0, 200)).Inserted, 0));
        var resent = Store.Ingest(Chunk("cus_bulk", 100, 200)); // 100 known, 100 new
        Assert.Equal((100, 100), (resent.Inserted, resent.Duplicates));
        var repeated = Chunk("cus_bulk", 300, 100);
        repeated.Add(repeated[0] with { Quantity = 99 });
        var withRepeat = Store.Ingest(repeated);
        Assert.Equal((100, 1), (withRepeat.Inserted, withRepeat.Duplicates));

        Store.AddCustomer("cus_bulk_gone", new CustomerChange());
        Store.RemoveCustomer("cus_bulk_gone");
        var mixed = Chunk("cus_bulk_gone", 0, 70).Concat(Chunk("cus_bulk_other", 0, 70)).ToList();
        var result = Store.Ingest(mixed);
        Assert.Equal((70, 70), (result.Inserted, result.Rejected.Count));

        var expected = Enumerable.Range(0, 400).Sum(i => 1 + i % 3);
        var usage = Assert.Single(Summaries("cus_bulk", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)));
        Assert.Equal(((decimal)expected, 400L), (usage.Quantity, usage.Events));
        Assert.Equal(400, Store.CountRecords(new RecordQuery(new UsageFilter("cus_bulk"), null, null)));
        Assert.Equal(70, Store.CountRecords(new RecordQuery(new UsageFilter("cus_bulk_other"), null, null)));
    }

    [SkippableFact]
    public void Ingest_SameIdForAnotherCustomer_IsAnotherEvent()
    {
        Store.Ingest(new[] { Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2), "req-1"), Event("cus_b", "api", 1, Clock.Utc(2026, 11, 2), "req-1") });
        Assert.Equal(2, Summaries(null, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Sum(s => s.Events));
    }

    [SkippableFact]
    public void Ingest_RegistersAnUnknownCustomer()
    {
        Assert.Null(Store.GetCustomer("cus_new"));
        Store.Ingest(new[] { Event("cus_new", "api", 1, Clock.Utc(2026, 11, 2)) });
        var customer = Store.GetCustomer("cus_new");
        Assert.NotNull(customer);
        Assert.Equal("cus_new", customer!.ProjectName);
    }

    [SkippableFact]
    public void Ingest_RejectsUsageOfARemovedCustomer_AndKeepsTheRest()
    {
        Store.AddCustomer("cus_gone", new CustomerChange(Name: "Gone Ltd"));
        Store.RemoveCustomer("cus_gone");
        var result = Store.Ingest(new[] { Event("cus_gone", "api", 1, Clock.Utc(2026, 11, 2)), Event("cus_here", "api", 1, Clock.Utc(2026, 11, 2)) });
        Assert.Equal(1, result.Inserted);
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(ErrorIds.CustomerRemoved, rejected.Reason.ErrorId);
        Assert.Empty(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_gone"), null, null)));
    }

    [SkippableFact]
    public void Ingest_KeepsHostileTextVerbatim()
    {
        const string hostile = "x'); DROP TABLE billing_usage_records; --";
        var metadata = Metadata.FromValues(new KeyValuePair<string, object?>[] { new("endpoint", hostile), new("csv", "=HYPERLINK(\"http://evil\")") });
        Store.Ingest(new[] { Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2), hostile, metadata) });
        var record = Assert.Single(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_a"), null, null)));
        Assert.Equal(hostile, record.EventId);
        AssertSameJson(metadata, record.Metadata);
    }

    [SkippableFact]
    public void Quantities_SumExactly()
    {
        var at = Clock.Utc(2026, 11, 2, 10);
        var events = Enumerable.Range(0, 10_000).Select(i => Event("cus_a", "bandwidth", 0.000001m, at.AddSeconds(i % 3600))).ToList();
        Store.Ingest(events);
        Assert.Equal(0.01m, Assert.Single(Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))).Quantity);
        // The same sum read from raw events (an unaligned interval) is exact too.
        Assert.Equal(0.01m, Assert.Single(Summaries("cus_a", at.AddSeconds(-1), at.AddHours(2).AddSeconds(7))).Quantity);
    }

    [SkippableFact]
    public void Summaries_IncludeEventsInTheLastInstantsOfADateOnlyEnd()
    {
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, Clock.Utc(2026, 1, 31, 23, 59, 59, 900)),
            Event("cus_a", "api", 1, Clock.Utc(2026, 1, 1)),
            Event("cus_a", "api", 1, Clock.Utc(2026, 2, 1)),
            Event("cus_a", "api", 1, Clock.Utc(2025, 12, 31, 23, 59, 59, 999)),
        });
        var end = TimeInput.ToInstant("2026-01-31", TimeZoneInfo.Utc, TimeBound.End);
        Assert.Equal(2, Assert.Single(Summaries("cus_a", TimeInput.ToInstant("2026-01-01", TimeZoneInfo.Utc), end)).Events);
    }

    [SkippableFact]
    public void RollupsAndRawEvents_GiveTheSameTotals()
    {
        var random = new Random(42);
        var start = Clock.Utc(2026, 10, 1);
        var events = Enumerable.Range(0, 3000).Select(i => Event(
            i % 3 == 0 ? "cus_a" : "cus_b",
            i % 2 == 0 ? "api" : "compute",
            Math.Round((decimal)random.Next(1, 1_000_000) / 1000m, 3),
            start.AddSeconds(random.Next(0, 31 * 24 * 3600)))).ToList();
        Store.Ingest(events);
        var slices = Enumerable.Range(0, 31).Select(d => new TimeSlice(d, start.AddDays(d), start.AddDays(d + 1))).ToList();
        var fromRollups = Store.SumRollups(UsageFilter.AllCustomers(), slices, RollupGrain.QuarterHour).OrderBy(t => (t.Slice, t.CustomerId, t.Service)).ToList();
        var fromDays = Store.SumRollups(UsageFilter.AllCustomers(), slices, RollupGrain.Day).OrderBy(t => (t.Slice, t.CustomerId, t.Service)).ToList();
        var fromEvents = Store.SumEvents(UsageFilter.AllCustomers(), slices, null).OrderBy(t => (t.Slice, t.CustomerId, t.Service)).ToList();
        Assert.Equal(fromEvents, fromRollups);
        Assert.Equal(fromEvents, fromDays);
        Assert.Equal(events.Sum(e => e.Quantity), fromRollups.Sum(t => t.Quantity));
    }

    [SkippableFact]
    public void UnalignedIntervals_CombineRollupsWithRawEdges()
    {
        var base0 = Clock.Utc(2026, 11, 2, 10);
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, base0.AddMinutes(3)),   // before the start
            Event("cus_a", "api", 2, base0.AddMinutes(8)),   // in the ragged start
            Event("cus_a", "api", 4, base0.AddMinutes(40)),  // in whole quarter hours
            Event("cus_a", "api", 8, base0.AddMinutes(95)),  // in the ragged end
            Event("cus_a", "api", 16, base0.AddMinutes(98)), // after the end
        });
        var summary = Assert.Single(Summaries("cus_a", base0.AddMinutes(7), base0.AddMinutes(97)));
        Assert.Equal((14m, 3L), (summary.Quantity, summary.Events));
    }

    [SkippableFact]
    public void SpansOverSeveralDays_CombineDaysQuarterHoursAndRawEdges()
    {
        var monday = Clock.Utc(2026, 11, 2);
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, monday.AddHours(-1)),                 // before the start
            Event("cus_a", "api", 2, monday.AddHours(22).AddMinutes(5)),   // ragged start (raw)
            Event("cus_a", "api", 4, monday.AddHours(23).AddMinutes(20)),  // quarter hours before midnight
            Event("cus_a", "api", 8, monday.AddDays(1).AddHours(12)),      // a whole UTC day
            Event("cus_a", "api", 16, monday.AddDays(2).AddMinutes(30)),   // quarter hours after midnight
            Event("cus_a", "api", 32, monday.AddDays(2).AddHours(1).AddMinutes(2)), // ragged end (raw)
            Event("cus_a", "api", 64, monday.AddDays(2).AddHours(2)),      // after the end
        });
        var summary = Assert.Single(Summaries("cus_a", monday.AddHours(22).AddMinutes(1), monday.AddDays(2).AddHours(1).AddMinutes(3)));
        Assert.Equal((62m, 5L), (summary.Quantity, summary.Events));
        // A month in New York starts and ends at local midnight, hours off the UTC days.
        var newYork = TimeZones.Find("America/New_York");
        var months = new UsageReports(Store).Aggregates(new UsageFilter("cus_a"), Clock.Utc(2026, 10, 1, 4), Clock.Utc(2026, 12, 1, 5), UsageInterval.Monthly, newYork);
        Assert.Equal(127m, Assert.Single(months).Total);
    }

    [SkippableFact]
    public void Breakdown_InNewYork_PutsEventsOnTheirLocalDayAcrossDst()
    {
        var newYork = TimeZones.Find("America/New_York");
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, Clock.Utc(2026, 3, 8, 4, 30)),  // 23:30 on Mar 7 (EST)
            Event("cus_a", "api", 1, Clock.Utc(2026, 3, 8, 5, 0)),   // 00:00 on Mar 8 (EST)
            Event("cus_a", "api", 1, Clock.Utc(2026, 3, 9, 3, 59)),  // 23:59 on Mar 8 (EDT)
            Event("cus_a", "api", 1, Clock.Utc(2026, 3, 9, 4, 0)),   // 00:00 on Mar 9 (EDT)
            Event("cus_a", "api", 1, Clock.Utc(2026, 11, 1, 4, 0)),  // 00:00 on Nov 1 (EDT)
            Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2, 4, 59)), // 23:59 on Nov 1 (EST)
            Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2, 5, 0)),  // 00:00 on Nov 2 (EST)
        });
        var days = new UsageReports(Store).Breakdown(new UsageFilter("cus_a"),
            TimeInput.ToInstant("2026-03-01", newYork), TimeInput.ToInstant("2026-11-30", newYork, TimeBound.End), newYork);
        Assert.Equal(new[]
        {
            (new DateTime(2026, 3, 7), 1L), (new DateTime(2026, 3, 8), 2L), (new DateTime(2026, 3, 9), 1L),
            (new DateTime(2026, 11, 1), 2L), (new DateTime(2026, 11, 2), 1L),
        }, days.Select(d => (d.Date, d.Events)));
    }

    [SkippableFact]
    public void Aggregates_GiveEventsTotalAverageMinimumAndMaximumPerBucket()
    {
        var at = Clock.Utc(2026, 11, 2, 10);
        Store.Ingest(new[] { Event("cus_a", "compute", 1, at), Event("cus_a", "compute", 2, at.AddMinutes(20)), Event("cus_a", "compute", 6, at.AddMinutes(50)), Event("cus_a", "compute", 5, at.AddHours(1)) });
        var hours = new UsageReports(Store).Aggregates(new UsageFilter("cus_a"), at, at.AddHours(2), UsageInterval.Hourly, TimeZoneInfo.Utc);
        Assert.Equal(2, hours.Count);
        Assert.Equal((3L, 9m, 3m, 1m, 6m), (hours[0].Events, hours[0].Total, hours[0].Average, hours[0].Minimum, hours[0].Maximum));
        Assert.Equal(0.45m, hours[0].Cost);
        Assert.Equal((1L, 5m), (hours[1].Events, hours[1].Total));
    }

    [SkippableFact]
    public void GroupBy_SplitsUsageByAMetadataValue()
    {
        var at = Clock.Utc(2026, 11, 2, 10);
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, at, metadata: "{\"endpoint\":\"/users\",\"status\":200,\"cached\":true}"),
            Event("cus_a", "api", 1, at, metadata: "{\"endpoint\":\"/users\",\"status\":500,\"cached\":false}"),
            Event("cus_a", "api", 1, at, metadata: "{\"endpoint\":\"/posts\",\"status\":200}"),
            Event("cus_a", "api", 1, at, metadata: "{}"),
        });
        var byEndpoint = Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), "endpoint");
        Assert.Equal(new[] { (null, 1L), ("/posts", 1L), ("/users", 2L) }, byEndpoint.Select(s => (s.Group, s.Events)));
        var byStatus = Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), "status");
        Assert.Equal(new[] { null, "200", "500" }, byStatus.Select(s => s.Group));
        var byCached = Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), "cached");
        Assert.Equal(new[] { null, "false", "true" }, byCached.Select(s => s.Group));
    }

    [SkippableFact]
    public void Summaries_ForANamedUnusedService_ShowAZeroRow()
    {
        var row = Assert.Single(Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), services: new[] { "storage" }));
        Assert.Equal(("storage", 0m, 0L, "GB-hours"), (row.Service, row.Quantity, row.Events, row.Unit));
    }

    [SkippableFact]
    public void RefreshSummaries_ReportsTheSummaryItRefreshed()
    {
        Store.Ingest(new[] { Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2)), Event("cus_b", "api", 1, Clock.Utc(2026, 11, 2)) });
        var refresh = Store.RefreshSummaries();
        Assert.Equal(Store.Backend, refresh.Backend);
        Assert.Equal(2, refresh.Rows);
    }

    [SkippableFact]
    public void ReadRecords_StreamsOldestFirstWithPaging()
    {
        var at = Clock.Utc(2026, 11, 2);
        Store.Ingest(Enumerable.Range(0, 10).Select(i => Event("cus_a", "api", i, at.AddMinutes(10 - i), "e" + i)).ToList());
        var page = Store.ReadRecords(new RecordQuery(new UsageFilter("cus_a"), null, null, Skip: 2, First: 3)).Select(r => r.EventId).ToList();
        Assert.Equal(new[] { "e7", "e6", "e5" }, page);
        Assert.Equal(10, Store.CountRecords(new RecordQuery(new UsageFilter("cus_a"), null, null)));
        Assert.Equal(4, Store.CountRecords(new RecordQuery(new UsageFilter("cus_a"), at.AddMinutes(1), at.AddMinutes(5))));
    }

    [SkippableFact]
    public void Records_KeepTheirFieldsExactly()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 27, 12, 0, 0, 123));
        var e = Event("cus_a", "storage", 1.234567m, Clock.Utc(2026, 11, 2, 10, 15, 30).AddTicks(1234560), "id-1", "{\"bytes\":1}");
        Store.Ingest(new[] { e });
        var record = Assert.Single(Store.FindRecords("cus_a", new[] { "id-1" }));
        Assert.Equal((e.EventId, e.CustomerId, e.Service, e.Quantity, "GB-hours", e.Timestamp), (record.EventId, record.CustomerId, record.Service, record.Quantity, record.Unit, record.Timestamp));
        AssertSameJson(e.Metadata, record.Metadata);
        Assert.Equal(Clock.Utc(2026, 11, 27, 12, 0, 0, 123), record.RecordedAt);
        Assert.Equal(TimeSpan.Zero, record.Timestamp.Offset);
    }

    [SkippableFact]
    public void Customers_CanBeCreatedChangedAndRemoved()
    {
        var created = Store.AddCustomer("cus_x", new CustomerChange(Name: "X Corp", Email: "billing@x.example"));
        Assert.Equal(("X Corp", "billing@x.example", "cus_x"), (created.Name, created.Email, created.ProjectName));
        Assert.Equal(ErrorIds.CustomerExists, Assert.Throws<UsageException>(() => Store.AddCustomer("cus_x", new CustomerChange())).ErrorId);
        var changed = Store.UpdateCustomer("cus_x", new CustomerChange(Company: "X Holdings", Metadata: "{\"tier\":\"gold\"}"));
        Assert.Equal(("X Corp", "X Holdings", "{\"tier\":\"gold\"}"), (changed.Name, changed.Company, changed.Metadata));
        Assert.Equal(new[] { "cus_x" }, Store.FindCustomerIds("cus_", 10));
        var removed = Store.RemoveCustomer("cus_x");
        Assert.NotNull(removed.DeletedAt);
        Assert.Null(Store.GetCustomer("cus_x"));
        Assert.NotNull(Store.GetCustomer("cus_x", includeRemoved: true));
        Assert.Empty(Store.GetCustomers());
        Assert.Equal(ErrorIds.CustomerNotFound, Assert.Throws<UsageException>(() => Store.UpdateCustomer("cus_x", new CustomerChange(Name: "y"))).ErrorId);
    }

    [SkippableFact]
    public void MetadataKeys_OfTheMostRecentEvents_ArePrefixMatchedDistinctAndBounded()
    {
        // Tab completion of -GroupBy reads the keys of the newest events only, so it stays quick.
        Store.Ingest(new[]
        {
            Event("cus_a", "api", 1, Clock.Utc(2026, 11, 1), "e1", "{\"region\":\"eu\",\"old\":1}"),
            Event("cus_a", "api", 1, Clock.Utc(2026, 11, 2), "e2", "{\"endpoint\":\"/x\",\"status\":200}"),
            Event("cus_b", "api", 1, Clock.Utc(2026, 11, 3), "e3", "{\"endpoint\":\"/y\",\"env\":\"prod\"}"),
            Event("cus_b", "api", 1, Clock.Utc(2026, 11, 4), "e4", "{}"),
        });
        Assert.Equal(new[] { "endpoint", "env", "old", "region", "status" }, Store.FindMetadataKeys(null, "", 100, 100));
        Assert.Equal(new[] { "endpoint", "env" }, Store.FindMetadataKeys(null, "EN", 100, 100));
        Assert.Equal(new[] { "endpoint", "old", "region", "status" }, Store.FindMetadataKeys("cus_a", "", 100, 100));
        // The three newest events (the newest has empty metadata) leave the oldest one's keys out.
        Assert.Equal(new[] { "endpoint", "env", "status" }, Store.FindMetadataKeys(null, "", 3, 100));
        Assert.Equal(new[] { "endpoint" }, Store.FindMetadataKeys(null, "", 100, 1));
        Assert.Empty(Store.FindMetadataKeys("cus_none", "", 100, 100));
    }

    [SkippableFact]
    public void Services_CanBeRegisteredAndSeenByAnotherConnection()
    {
        Store.RegisterService(new UsageService { Name = "tokens", Unit = "tokens", DisplayPrice = 0.000002m, Currency = "USD", BuiltIn = false }, replace: false);
        Assert.Equal(ErrorIds.ServiceExists, Assert.Throws<UsageException>(() => Store.RegisterService(new UsageService { Name = "tokens", Unit = "t", DisplayPrice = 0, Currency = "USD", BuiltIn = false }, false)).ErrorId);
        Assert.Equal(ErrorIds.ServiceExists, Assert.Throws<UsageException>(() => Store.RegisterService(new UsageService { Name = "api", Unit = "calls", DisplayPrice = 0, Currency = "USD", BuiltIn = false }, true)).ErrorId);
        var other = Open();
        Assert.True(other.GetServices(refresh: true).TryFind("tokens", out var tokens));
        Assert.Equal(0.000002m, tokens.DisplayPrice);
    }

    [SkippableFact]
    public async Task ConcurrentWriters_StoreEveryEventExactlyOnce()
    {
        Store.GetServices();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var store = Open();
            for (var batch = 0; batch < 20; batch++)
                store.Ingest(Enumerable.Range(0, 250).Select(i => Event("cus_c", "api", 1, Clock.Utc(2026, 11, 2).AddSeconds(i), $"w{w}-b{batch}-{i}", store: store)).ToList());
        })).ToArray();
        await Task.WhenAll(writers);
        Assert.Equal(20_000L, Assert.Single(Summaries("cus_c", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))).Events);
        Assert.Equal(20_000, Store.CountRecords(new RecordQuery(new UsageFilter("cus_c"), null, null)));
    }
}
