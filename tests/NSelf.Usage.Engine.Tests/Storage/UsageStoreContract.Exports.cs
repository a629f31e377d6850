using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>Analytics, exports, imports and archives, run against every backend.</summary>
public abstract partial class UsageStoreContract
{
    private string ScratchFile(string name) => Path.Combine(ScratchDirectory, name);

    private string ScratchDirectory => _scratch ??= Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "nself-usage-exports-" + Guid.NewGuid().ToString("n")[..10])).FullName;

    private string? _scratch;

    private decimal Total(string customer) =>
        new UsageReports(Store).Summaries(new UsageFilter(customer), Clock.Utc(2020, 1, 1), Clock.Utc(2027, 1, 1)).Sum(s => s.Quantity);

    [SkippableFact]
    public void Statistics_GivePercentilesAsPercentileCont()
    {
        var at = Clock.Utc(2026, 11, 20);
        Store.Ingest(new[] { 1m, 2m, 3m, 4m, 10m }.Select((q, i) => Event("cus_stat", "compute", q, at.AddMinutes(i))).ToList());
        var stat = Assert.Single(new UsageAnalytics(Store).Statistics(new UsageFilter("cus_stat"), at.AddDays(-1), at.AddDays(1)));
        Assert.Equal((5L, 20m, 4m, 1m, 10m, 3m), (stat.Events, stat.Total, stat.Average, stat.Minimum, stat.Maximum, stat.Median));
        Assert.Equal(8.8m, stat.P95);   // 4 + 0.8 × (10 − 4)
        Assert.Equal(9.76m, stat.P99);  // 4 + 0.96 × (10 − 4)
    }

    [SkippableFact]
    public void Trends_IncludeDaysWithoutUsage_AndCompareWithTheDayBefore()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 27, 15));
        Store.Ingest(new[] { Event("cus_tr", "api", 10, Clock.Utc(2026, 11, 24, 9)), Event("cus_tr", "api", 15, Clock.Utc(2026, 11, 25, 9)), Event("cus_tr", "api", 6, Clock.Utc(2026, 11, 27, 9)) });
        var trend = new UsageAnalytics(Store).Trends(new UsageFilter("cus_tr", new[] { "api" }), 4, Time.GetUtcNow(), TimeZoneInfo.Utc);
        Assert.Equal(new[] { (24, 10m, 0m, (decimal?)null), (25, 15m, 10m, 50m), (26, 0m, 15m, -100m), (27, 6m, 0m, null) },
            trend.Select(t => (t.Date.Day, t.Total, t.Previous, t.ChangePercent)));
    }

    [SkippableFact]
    public void Peaks_RankByTotal_EarlierFirstOnTies()
    {
        Store.Ingest(new[]
        {
            Event("cus_pk", "api", 5, Clock.Utc(2026, 11, 20, 10, 5)), Event("cus_pk", "api", 7, Clock.Utc(2026, 11, 20, 11, 5)),
            Event("cus_pk", "api", 5, Clock.Utc(2026, 11, 20, 9, 5)), Event("cus_pk", "api", 1, Clock.Utc(2026, 11, 20, 12, 5)),
        });
        var peaks = new UsageAnalytics(Store).Peaks(new UsageFilter("cus_pk"), UsageInterval.Hourly, 3, Clock.Utc(2026, 11, 20), Clock.Utc(2026, 11, 21), TimeZoneInfo.Utc);
        Assert.Equal(new[] { (1, 11, 7m), (2, 9, 5m), (3, 10, 5m) }, peaks.Select(p => (p.Rank, p.Period.Hour, p.Total)));
    }

    [SkippableTheory]
    [InlineData("usage.csv")]
    [InlineData("usage.json")]
    [InlineData("usage.csv.gz")]
    public void Export_ThenImportIntoAnEmptyStore_GivesIdenticalTotals(string name)
    {
        var at = Clock.Utc(2026, 11, 1);
        Store.Ingest(Enumerable.Range(0, 500).Select(i => Event("cus_x", i % 2 == 0 ? "api" : "storage", i % 2 == 0 ? 1 : 0.123456m, at.AddMinutes(i),
            metadata: "{\"endpoint\":\"=HYPERLINK(\\\"evil\\\")\",\"n\":" + i + "}")).ToList());
        Store.Ingest(new[] { Event("-cus_dash", "api", 2, at, "+id-1") });
        var path = ScratchFile(name);
        using (var file = File.Create(path))
        using (var stream = name.EndsWith(".gz", StringComparison.Ordinal) ? new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest) : (Stream)file)
            Assert.Equal(501, UsageFile.Write(Store.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)), UsageFile.FormatOf(path), stream));
        if (name.EndsWith(".csv", StringComparison.Ordinal))
            Assert.Contains("'-cus_dash", File.ReadAllText(path));

        var other = Open("imported");
        var result = new UsageImporter(new UsageTracker(other, Time), Time).Import(path, null, e => throw e);
        Assert.Equal((501L, 501L, 0L), (result.Rows, result.Inserted, result.Duplicates));
        Assert.Equal(Total("cus_x"), new UsageReports(other).Summaries(new UsageFilter("cus_x"), Clock.Utc(2020, 1, 1), Clock.Utc(2027, 1, 1)).Sum(s => s.Quantity));
        Assert.Single(other.FindRecords("-cus_dash", new[] { "+id-1" }));
        var again = new UsageImporter(new UsageTracker(other, Time), Time).Import(path, null, e => throw e);
        Assert.Equal((0L, 501L), (again.Inserted, again.Duplicates));
    }

    [SkippableFact]
    public void Import_OfATruncatedGzipFile_IsInvalidRecord_NotASilentHalfImport()
    {
        var at = Clock.Utc(2026, 11, 1);
        Store.Ingest(Enumerable.Range(0, 3000).Select(i => Event("cus_gz", "api", 1, at.AddSeconds(i), "gz-" + i, metadata: "{\"n\":" + i + "}")).ToList());
        var path = ScratchFile("whole.csv.gz");
        using (var file = File.Create(path))
        using (var gzip = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Optimal))
            UsageFile.Write(Store.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)), UsageFileFormat.Csv, gzip);
        var bytes = File.ReadAllBytes(path);
        var half = ScratchFile("half.csv.gz");
        File.WriteAllBytes(half, bytes[..(bytes.Length / 2)]);

        var error = Assert.Throws<UsageException>(() => new UsageImporter(new UsageTracker(Open("gz-half"), Time), Time).Import(half, null, e => throw e));
        Assert.Equal(ErrorIds.InvalidRecord, error.ErrorId);
        Assert.Contains("not valid gzip", error.Message, StringComparison.Ordinal);

        // The whole file still reads, every row.
        var whole = new UsageImporter(new UsageTracker(Open("gz-whole"), Time), Time).Import(path, null, e => throw e);
        Assert.Equal(3000L, whole.Inserted);
    }

    [SkippableFact]
    public void BulkReads_ReturnExactlyTheEventsOfATimeOrderedRead_WhateverTheirArrivalOrder()
    {
        var random = new Random(5);
        Store.Ingest(Enumerable.Range(0, 2000).Select(i => Event(i % 4 == 0 ? "cus_small" : "cus_bulk", "api", 1 + i % 3,
            Clock.Utc(2026, 10, 1).AddMinutes(random.Next(0, 31 * 24 * 60)), "b-" + i)).ToList());
        foreach (var filter in new[] { new UsageFilter("cus_bulk"), new UsageFilter("cus_small"), UsageFilter.AllCustomers() })
        {
            var query = new RecordQuery(filter, Clock.Utc(2026, 10, 5), Clock.Utc(2026, 10, 25));
            var ordered = Store.ReadRecords(query).Select(r => r.EventId).ToList();
            var bulk = Store.ReadRecords(query with { Bulk = true }).Select(r => r.EventId).ToList();
            Assert.NotEmpty(ordered);
            Assert.Equal(ordered.Order(StringComparer.Ordinal), bulk.Order(StringComparer.Ordinal));
        }
    }

    [SkippableFact]
    public void Archive_MovesExactlyTheOldEvents_KeepsTheHistory_AndRestoresWithoutCountingTwice()
    {
        Store.Ingest(Enumerable.Range(0, 300).Select(i => Event("cus_ar", "api", 1, Clock.Utc(2026, 6, 1).AddHours(i), "old-" + i)).ToList());
        Store.Ingest(Enumerable.Range(0, 50).Select(i => Event("cus_ar", "api", 1, Clock.Utc(2026, 11, 20).AddMinutes(i), "new-" + i)).ToList());
        var path = ScratchFile("archive.csv");
        var result = new UsageArchiver(Store).Archive(new UsageFilter("cus_ar"), Clock.Utc(2026, 9, 1), path);
        Assert.Equal((300L, 300L), (result.Rows, result.Deleted));
        // The checksum reported must be the SHA-256 of the bytes written, computed here on its own
        // (not with UsageFile.Checksum, which would compare the product with itself).
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant(), result.Checksum);
        Assert.Equal(50, Store.CountRecords(new RecordQuery(new UsageFilter("cus_ar"), null, null)));
        Assert.Equal(350m, Total("cus_ar")); // the rollups still know the archived months

        // The same id with other data is a duplicate (the archived original stands), on every store.
        foreach (var impostor in new[] { Event("cus_ar", "api", 1000, Clock.Utc(2026, 6, 1), "old-0"), Event("cus_ar", "storage", 1, Clock.Utc(2026, 6, 1), "old-0"),
                     Event("cus_ar", "api", 1, Clock.Utc(2026, 6, 2), "old-0") })
            Assert.Equal((0, 1), (Store.Ingest(new[] { impostor }).Inserted, Store.Ingest(new[] { impostor }).Duplicates));
        Assert.Equal(50, Store.CountRecords(new RecordQuery(new UsageFilter("cus_ar"), null, null)));

        // Sent again, or imported back: restored once, never counted twice.
        Assert.Equal(1, Store.Ingest(new[] { Event("cus_ar", "api", 1, Clock.Utc(2026, 6, 1), "old-0") }).Inserted);
        var imported = new UsageImporter(new UsageTracker(Store, Time), Time).Import(path, null, e => throw e);
        Assert.Equal((299L, 1L), (imported.Inserted, imported.Duplicates));
        Assert.Equal(350m, Total("cus_ar"));
        Assert.Equal(350, Store.CountRecords(new RecordQuery(new UsageFilter("cus_ar"), null, null)));

        // Archive, import, archive again: the same events, the same totals.
        var second = new UsageArchiver(Store).Archive(new UsageFilter("cus_ar"), Clock.Utc(2026, 9, 1), ScratchFile("archive2.csv"));
        Assert.Equal(300L, second.Deleted);
        Assert.Equal(350m, Total("cus_ar"));
    }

    [SkippableFact]
    public void ArchiveRecords_ThatNameAMissingEvent_DeleteNothing()
    {
        Store.Ingest(new[] { Event("cus_m", "api", 1, Clock.Utc(2026, 6, 1), "a"), Event("cus_m", "api", 1, Clock.Utc(2026, 6, 1), "b") });
        var e = Assert.Throws<UsageException>(() => Store.ArchiveRecords(new[] { ("cus_m", "a"), ("cus_m", "missing") }, "x.csv", new string('0', 64), Clock.Utc(2026, 7, 1), "cus_m"));
        Assert.Equal(ErrorIds.ArchiveMismatch, e.ErrorId);
        Assert.Equal(2, Store.CountRecords(new RecordQuery(new UsageFilter("cus_m"), null, null)));
    }

    [SkippableFact]
    public void ArchiveRecords_OverALeftoverTombstone_LeaveOneThatDescribesTheArchivedEvent()
    {
        // Issue 16 drift: SQLite replaced such a tombstone whole, PostgreSQL kept its old service,
        // time and quantity (which Test-UsageStore -Verify then counted against the rollups).
        Store.Ingest(new[] { Event("cus_lt", "api", 5, Clock.Utc(2026, 6, 1, 10), "a") });
        ExecuteSql("""
            INSERT INTO usage_archived_events (customer_id, event_id, service_name, recorded_at, ingested_at, archive_id, quantity)
            SELECT customer_id, event_id, 'storage', recorded_at, ingested_at, 0, quantity * 2 FROM billing_usage_records WHERE event_id = 'a'
            """);
        Assert.Equal(1, Store.ArchiveRecords(new[] { ("cus_lt", "a") }, "lt.csv", new string('0', 64), Clock.Utc(2026, 7, 1), "cus_lt"));
        Assert.Equal(1, CountSql("SELECT count(*) FROM usage_archived_events WHERE event_id = 'a' AND service_name = 'api' AND archive_id <> 0"));
        Assert.Empty(Store.VerifyRollups(new RollupScope(new[] { "cus_lt" })));
    }
}
