using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 15, items 2 and 4: rows written, corrected and deleted with plain SQL, exactly as nself's
/// tools and an operator do, leave the rollups equal to the stored rows plus the module's archive
/// tombstones, and reads equal the raw SUM(quantity) per customer and service. Run on every backend.
/// </summary>
public abstract partial class UsageStoreContract
{
    /// <summary>Runs a query on the store's database directly and returns its single integer.</summary>
    protected abstract long CountSql(string sql, string key = "main");

    private bool OnSqlite => Store.Backend == UsageStoreBackend.Sqlite;

    /// <summary>A quantity as the backend stores it (SQLite: integer millionths).</summary>
    private string StoredQuantity(decimal quantity) =>
        OnSqlite ? ((long)(quantity * 1_000_000m)).ToString(System.Globalization.CultureInfo.InvariantCulture) : quantity.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>An instant as the backend stores it, as an SQL literal.</summary>
    private string StoredTime(DateTimeOffset at) =>
        OnSqlite ? NSelf.Usage.Engine.Time.Micros.From(at).ToString(System.Globalization.CultureInfo.InvariantCulture) : $"TIMESTAMPTZ '{at.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}+00'";

    /// <summary>
    /// The rollups recomputed from the stored rows plus the tombstones, at both levels, compared
    /// row for row (events, quantity, minimum, maximum) with the rollup tables: the number of rows
    /// that differ either way. EXCEPT both ways works alike on both backends.
    /// </summary>
    private string RollupDifferencesSql()
    {
        var events = "SELECT customer_id, service_name, recorded_at, quantity FROM billing_usage_records WHERE recorded_at IS NOT NULL "
                   + "UNION ALL SELECT customer_id, service_name, recorded_at, quantity FROM usage_archived_events";
        string Bucket(string width, long micros) => OnSqlite
            ? $"recorded_at - (((recorded_at % {micros}) + {micros}) % {micros})"
            : $"date_bin('{width}', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00')";
        string Truth(string width, long micros) =>
            $"SELECT customer_id, {Bucket(width, micros)} AS bucket_start, service_name, count(*) AS events, sum(quantity) AS quantity, min(quantity) AS min_quantity, max(quantity) AS max_quantity FROM ({events}) e GROUP BY 1, 2, 3";
        string Stored(string table) => $"SELECT customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity FROM {table}";
        string Both(string truth, string stored) => $"SELECT count(*) FROM (SELECT * FROM ({truth} EXCEPT {stored}) a UNION ALL SELECT * FROM ({stored} EXCEPT {truth}) b) d";
        return $"SELECT ({Both(Truth("15 minutes", 900_000_000), Stored("usage_rollups"))}) + ({Both(Truth("1 day", 86_400_000_000), Stored("usage_rollups_daily"))})";
    }

    /// <summary>
    /// Reads through the engine's report API equal the raw rows per customer and service (whole
    /// months from the daily rollups, a ragged read from quarter hours and raw rows), and both
    /// rollup tables equal their recomputation.
    /// </summary>
    private void AssertRollupsEqualRawRows(string step, IReadOnlyDictionary<(string, string), decimal>? archived = null)
    {
        Assert.True(0 == CountSql(RollupDifferencesSql()), $"After {step}: the rollups differ from the stored rows plus tombstones.");
        // The store's own check (Test-UsageStore -Verify) agrees: two computations of one truth.
        var differences = Store.VerifyRollups(new RollupScope());
        Assert.True(differences.Count == 0, $"After {step}: VerifyRollups reports {string.Join("; ", differences.Select(Row))}.");
        var raw = Store.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null))
            .GroupBy(r => (r.CustomerId, r.Service))
            .ToDictionary(g => g.Key, g => (Quantity: g.Sum(r => r.Quantity), Events: (long)g.Count()));
        foreach (var (key, quantity) in archived ?? new Dictionary<(string, string), decimal>())
            raw[key] = (raw.GetValueOrDefault(key).Quantity + quantity, raw.GetValueOrDefault(key).Events);
        var expected = raw.Where(p => p.Value.Quantity != 0 || p.Value.Events != 0).Select(p => (p.Key.CustomerId, p.Key.Service, p.Value.Quantity)).Order().ToList();
        foreach (var (start, end) in new[] { (Clock.Utc(2026, 1, 1), Clock.Utc(2028, 1, 1)), (Clock.Utc(2026, 1, 1, 0, 7), Clock.Utc(2027, 12, 31, 23, 53)) })
        {
            var read = Summaries(null, start, end).Select(s => (s.CustomerId, s.Service, s.Quantity)).Order().ToList();
            Assert.True(expected.SequenceEqual(read), $"After {step}, read {start:u}..{end:u}: expected {string.Join(", ", expected)}; read {string.Join(", ", read)}.");
        }
    }

    private void IngestCorrectionFixture()
    {
        Store.Ingest(new[]
        {
            Event("cus_fix", "api", 17, Clock.Utc(2026, 11, 2, 10, 5), "ev-17"),
            Event("cus_fix", "api", 4, Clock.Utc(2026, 11, 2, 10, 7), "ev-4"),
            Event("cus_fix", "api", 6, Clock.Utc(2026, 11, 2, 23, 50), "ev-6"),
            Event("cus_fix", "storage", 2.5m, Clock.Utc(2026, 11, 2, 10, 9), "ev-st"),
            Event("cus_other", "api", 1, Clock.Utc(2026, 11, 2, 10, 6), "ev-other"),
        });
        AssertRollupsEqualRawRows("ingestion");
    }

    [SkippableFact]
    public void ForeignUpdate_OfAQuantity_IsWhatReadsAndRollupsCount()
    {
        IngestCorrectionFixture();
        // An operator corrects 17 to 15: reads said 17 after it, with 15 stored (issue 15).
        ExecuteSql($"UPDATE billing_usage_records SET quantity = {StoredQuantity(15)} WHERE customer_id = 'cus_fix' AND event_id = 'ev-17'");
        AssertRollupsEqualRawRows("17 -> 15");
        Assert.Equal((25m, 3L), Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Where(s => s.Service == "api").Select(s => (s.Quantity, s.Events)).Single());
        // The largest of its quarter hour made the smallest: the extremes are recomputed, not kept.
        ExecuteSql($"UPDATE billing_usage_records SET quantity = {StoredQuantity(1)} WHERE customer_id = 'cus_fix' AND event_id = 'ev-17'");
        AssertRollupsEqualRawRows("15 -> 1");
        // Several rows in one statement, and a statement that changes nothing counted.
        ExecuteSql($"UPDATE billing_usage_records SET quantity = quantity * 2 WHERE customer_id = 'cus_fix'");
        AssertRollupsEqualRawRows("doubling every row");
        ExecuteSql("UPDATE billing_usage_records SET invoice_id = 'inv-x', metadata = '{\"k\":1}', billing_seal = 7 WHERE customer_id = 'cus_fix'");
        AssertRollupsEqualRawRows("an update of uncounted columns");
        ExecuteSql($"UPDATE billing_usage_records SET quantity = quantity WHERE customer_id = 'cus_fix'");
        AssertRollupsEqualRawRows("an update to the same values");
    }

    [SkippableFact]
    public void ForeignUpdate_OfATime_MovesTheEventAcrossQuarterHoursAndDays()
    {
        IngestCorrectionFixture();
        ExecuteSql($"UPDATE billing_usage_records SET recorded_at = {StoredTime(Clock.Utc(2026, 11, 2, 10, 20))} WHERE customer_id = 'cus_fix' AND event_id = 'ev-4'");
        AssertRollupsEqualRawRows("10:07 -> 10:20");
        Assert.Equal(17m, Assert.Single(Summaries("cus_fix", Clock.Utc(2026, 11, 2, 10), Clock.Utc(2026, 11, 2, 10, 15), services: new[] { "api" })).Quantity);
        ExecuteSql($"UPDATE billing_usage_records SET recorded_at = {StoredTime(Clock.Utc(2026, 11, 3, 0, 10))} WHERE customer_id = 'cus_fix' AND event_id = 'ev-6'");
        AssertRollupsEqualRawRows("23:50 -> 00:10 the next day");
        Assert.Equal(21m, Assert.Single(Summaries("cus_fix", Clock.Utc(2026, 11, 2), Clock.Utc(2026, 11, 3), services: new[] { "api" })).Quantity);
        Assert.Equal(6m, Assert.Single(Summaries("cus_fix", Clock.Utc(2026, 11, 3), Clock.Utc(2026, 11, 4), services: new[] { "api" })).Quantity);
        // Every row of a customer a month back, in one statement.
        ExecuteSql(OnSqlite
            ? "UPDATE billing_usage_records SET recorded_at = recorded_at - 2592000000000 WHERE customer_id = 'cus_fix'"
            : "UPDATE billing_usage_records SET recorded_at = recorded_at - interval '30 days' WHERE customer_id = 'cus_fix'");
        AssertRollupsEqualRawRows("a month back");
        Assert.Empty(Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)));
    }

    [SkippableFact]
    public void ForeignUpdate_OfACustomerOrService_MovesTheEventToItsNewTotals()
    {
        IngestCorrectionFixture();
        ExecuteSql("UPDATE billing_usage_records SET customer_id = 'cus_other' WHERE customer_id = 'cus_fix' AND event_id = 'ev-4'");
        AssertRollupsEqualRawRows("a customer corrected");
        Assert.Equal(5m, Assert.Single(Summaries("cus_other", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))).Quantity);
        ExecuteSql("UPDATE billing_usage_records SET service_name = 'storage' WHERE customer_id = 'cus_fix' AND event_id = 'ev-6'");
        AssertRollupsEqualRawRows("a service corrected");
        Assert.Equal(8.5m, Assert.Single(Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), services: new[] { "storage" })).Quantity);
        ExecuteSql("UPDATE billing_usage_records SET service_name = 'api', customer_id = 'cus_fix' WHERE event_id IN ('ev-st', 'ev-other')");
        AssertRollupsEqualRawRows("customer and service at once");
    }

    [SkippableFact]
    public void ForeignDelete_AsNselfsUsageArchive_TakesTheRowsOutOfTheRollups()
    {
        IngestCorrectionFixture();
        Store.Ingest(new[] { Event("cus_old", "api", 9, Clock.Utc(2026, 3, 1, 8), "old-1"), Event("cus_fix", "api", 5, Clock.Utc(2026, 3, 1, 8, 1), "old-2") });
        AssertRollupsEqualRawRows("old usage");
        // nself's usage_archive, verbatim on PostgreSQL (its now() is the real clock; the rows are older by far).
        ExecuteSql(OnSqlite
            ? $"DELETE FROM billing_usage_records WHERE recorded_at < {StoredTime(DateTimeOffset.UtcNow.AddDays(-90))}"
            : "DELETE FROM billing_usage_records WHERE recorded_at < now() - interval '90 days'");
        AssertRollupsEqualRawRows("nself's usage_archive");
        Assert.Empty(Summaries("cus_old", Clock.Utc(2026, 1, 1), Clock.Utc(2027, 1, 1)));
        // One row of a bucket that keeps others: its extremes are what is left.
        ExecuteSql("DELETE FROM billing_usage_records WHERE customer_id = 'cus_fix' AND event_id = 'ev-17'");
        AssertRollupsEqualRawRows("one row deleted");
        Assert.Equal((10m, 2L), Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Where(s => s.Service == "api").Select(s => (s.Quantity, s.Events)).Single());
    }

    [SkippableFact]
    public void ForeignInsert_WithAnExplicitNullRecordedAt_IsTheInsertTime_OnPostgres_AndRefusedOnSqlite()
    {
        Store.AddCustomer("cus_null", new CustomerChange());
        var before = DateTimeOffset.UtcNow.AddMinutes(-1);
        if (OnSqlite)
        {
            // The module's own schema: NOT NULL refuses it, and nothing is stored or counted.
            Assert.ThrowsAny<Exception>(() => ExecuteSql("INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, recorded_at, ingested_at) VALUES ('op-null', 'cus_null', 'api', 3000000, 'requests', NULL, 0)"));
            Assert.Empty(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_null"), null, null)));
            AssertRollupsEqualRawRows("a refused insert with a NULL time");
            return;
        }
        // nself's record function's shape.
        ExecuteSql("INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES ('cus_null', 'api', 3, NULL)");
        var after = DateTimeOffset.UtcNow.AddMinutes(1);
        var record = Assert.Single(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_null"), null, null)));
        Assert.InRange(record.Timestamp, before, after);
        AssertRollupsEqualRawRows("an insert with a NULL time");
        Assert.Equal(3m, Assert.Single(Summaries("cus_null", before.AddDays(-1), after.AddDays(1))).Quantity);
    }

    [SkippableFact]
    public void ModuleArchiveAndRestore_StillKeepTheTotals_BesideForeignDeletes()
    {
        IngestCorrectionFixture();
        var cutoff = Clock.Utc(2026, 11, 2, 12);
        new UsageArchiver(Store).Archive(new UsageFilter("cus_fix"), cutoff, ScratchFile("fix.csv"));
        // ev-17, ev-4 (api) and ev-st (storage) are archived: counted by their tombstones.
        var archived = new Dictionary<(string, string), decimal> { [("cus_fix", "api")] = 21m, [("cus_fix", "storage")] = 2.5m };
        AssertRollupsEqualRawRows("the module's archive", archived);
        Assert.Equal((27m, 3L), Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Where(s => s.Service == "api").Select(s => (s.Quantity, s.Events)).Single());
        // A foreign delete of what is left still takes it away.
        ExecuteSql("DELETE FROM billing_usage_records WHERE customer_id = 'cus_fix' AND event_id = 'ev-6'");
        AssertRollupsEqualRawRows("a foreign delete after the archive", archived);
        // Restored by sending it again: counted once.
        Assert.Equal(1, Store.Ingest(new[] { Event("cus_fix", "api", 17, Clock.Utc(2026, 11, 2, 10, 5), "ev-17") }).Inserted);
        archived[("cus_fix", "api")] = 4m;
        AssertRollupsEqualRawRows("a restore", archived);
        Assert.Equal((21m, 2L), Summaries("cus_fix", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Where(s => s.Service == "api").Select(s => (s.Quantity, s.Events)).Single());
    }

    [SkippableFact]
    public async Task ForeignCorrections_WhileFourHostsIngest_EndWithRollupsEqualToRawRows_AndNoDeadlock()
    {
        // Four hosts insert into the same buckets while a fifth writer corrects and deletes rows
        // there with plain SQL (quantities, times across quarter hours, customers, services).
        var hosts = Enumerable.Range(0, 4).Select(_ => Open()).ToList();
        foreach (var c in new[] { "cus_k0", "cus_k1", "cus_k2" })
            Store.AddCustomer(c, new CustomerChange());
        long Deadlocks() => OnSqlite ? 0 : CountSql("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
        var deadlocksBefore = Deadlocks();
        var start = Clock.Utc(2026, 11, 2, 10);
        var writers = hosts.Select((host, w) => Task.Run(() =>
        {
            var factory = new UsageEventFactory(host.GetServices(), Time);
            for (var chunk = 0; chunk < 20; chunk++)
                host.Ingest(Enumerable.Range(0, 1 + (chunk % 3) * 20).Select(i => factory.Create($"cus_k{(chunk + i) % 3}", i % 2 == 0 ? "api" : "storage",
                    1 + (i % 5), start.AddMinutes((chunk * 7 + i * 3) % 90), $"w{w}-{chunk}-{i}")).ToList());
        })).ToList();
        var corrector = Task.Run(() =>
        {
            for (var round = 0; round < 15; round++)
            {
                ExecuteSql($"UPDATE billing_usage_records SET quantity = quantity + {StoredQuantity(1)} WHERE event_id LIKE 'w%-%-{round % 4}'");
                ExecuteSql(OnSqlite
                    ? $"UPDATE billing_usage_records SET recorded_at = recorded_at + 900000000 WHERE event_id LIKE 'w{round % 4}-%-1'"
                    : $"UPDATE billing_usage_records SET recorded_at = recorded_at + interval '15 minutes' WHERE event_id LIKE 'w{round % 4}-%-1'");
                ExecuteSql($"UPDATE billing_usage_records SET customer_id = 'cus_k{round % 3}', service_name = 'api' WHERE event_id LIKE 'w%-{round}-2'");
                ExecuteSql($"DELETE FROM billing_usage_records WHERE event_id LIKE 'w%-{round}-3'");
            }
        });
        await Task.WhenAll(writers.Append(corrector));
        AssertRollupsEqualRawRows("concurrent ingestion and corrections");
        if (!OnSqlite)
        {
            // The statistics reach pg_stat_database within a second of a transaction's end.
            await Task.Delay(1500);
            Assert.Equal(deadlocksBefore, Deadlocks());
        }
    }
}
