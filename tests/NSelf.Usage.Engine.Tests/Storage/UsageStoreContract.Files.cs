using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>Issue 14: files as people really write them, and work that is interrupted. Run against every backend.</summary>
public abstract partial class UsageStoreContract
{
    private UsageImportResult ImportFile(string path, string? defaultCustomer, Action<UsageException>? rejected = null, Action<long>? progress = null) =>
        new UsageImporter(new UsageTracker(Store, Time), Time).Import(path, defaultCustomer, rejected ?? (e => throw e), progress);

    private long Stored(string? customer = null) =>
        Store.CountRecords(new RecordQuery(customer is null ? UsageFilter.AllCustomers() : new UsageFilter(customer), null, null));

    [SkippableFact]
    public void Import_BlankCells_AreValuesNotGiven_AndRefusalsNameTheFileAndLine()
    {
        var path = ScratchFile("events.csv");
        File.WriteAllText(path,
            "CustomerId,Service,Quantity,Timestamp,EventId,Metadata\n" +
            ",api,1,,,\n" +                                   // line 2: every optional cell empty
            "  ,api,2,   ,  ,  \n" +                          // line 3: white space only
            "cus_named,api,3,2026-11-01T10:00:00.123456Z,evt-3,\"{\"\"k\"\":1}\"\n" +
            "cus_named,api,,,,\n");                           // line 5: no quantity
        var refused = new List<UsageException>();
        var result = ImportFile(path, "cus_default", refused.Add);

        Assert.Equal((4L, 3L, 1L), (result.Rows, result.Inserted, result.Rejected));
        var error = Assert.Single(refused);
        Assert.Equal(ErrorIds.InvalidQuantity, error.ErrorId);
        Assert.StartsWith("events.csv line 5: ", error.Message, StringComparison.Ordinal);
        var defaults = Store.ReadRecords(new RecordQuery(new UsageFilter("cus_default"), null, null)).ToList();
        Assert.Equal(new[] { 1m, 2m }, defaults.Select(r => r.Quantity).Order());
        Assert.All(defaults, r => Assert.Equal((Time.GetUtcNow(), "{}"), (r.Timestamp, r.Metadata)));
        Assert.All(defaults, r => Assert.False(string.IsNullOrWhiteSpace(r.EventId)));
        var named = Assert.Single(Store.FindRecords("cus_named", new[] { "evt-3" }));
        Assert.Equal(Clock.Utc(2026, 11, 1, 10).AddTicks(1_234_560), named.Timestamp);
    }

    [SkippableFact]
    public void Import_OfRowsWithoutEventIds_DerivesStableIds_SoASecondImportAddsNothing()
    {
        var path = ScratchFile("partner.csv");
        File.WriteAllText(path,
            "CustomerId,Service,Quantity,Timestamp\n" +
            "cus_p,api,1,2026-11-01 10:00\n" +
            "cus_p,api,1.0,2026-11-01T10:00:00Z\n" +          // the same event written differently: a second identical row
            "cus_p,api,1,2026-11-01 11:00\n" +
            "cus_p,storage,0.5,\n" +                          // untimed: stamped now
            "cus_p,storage,0.5,\n");
        var first = ImportFile(path, null);
        Assert.Equal((5L, 5L, 0L), (first.Rows, first.Inserted, first.Duplicates));
        var ids = Store.ReadRecords(new RecordQuery(new UsageFilter("cus_p"), null, null)).Select(r => r.EventId).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(5, ids.Distinct().Count());

        Time.SetUtcNow(Time.GetUtcNow().AddMinutes(5)); // a later run: untimed rows would be stamped otherwise
        var again = ImportFile(path, null);
        Assert.Equal((0L, 5L), (again.Inserted, again.Duplicates));
        Assert.Equal(ids, Store.ReadRecords(new RecordQuery(new UsageFilter("cus_p"), null, null)).Select(r => r.EventId).Order(StringComparer.Ordinal));

        // Another file with the same untimed rows is other usage (the next day's export), not a duplicate;
        // its timed rows are the same events.
        var next = ScratchFile("partner-next.csv");
        File.WriteAllText(next, File.ReadAllText(path) + "cus_p,api,7,2026-11-02 09:00\n");
        var other = ImportFile(next, null);
        Assert.Equal((3L, 3L), (other.Inserted, other.Duplicates));
        Assert.Equal(8, Stored("cus_p"));
    }

    [SkippableFact]
    public void Import_InterruptedAfterItsFirstChunk_ThenRunAgain_StoresEveryRowExactlyOnce()
    {
        var path = ScratchFile("big.csv");
        using (var writer = new StreamWriter(path))
        {
            writer.WriteLine("CustomerId,Service,Quantity,Timestamp,Metadata");
            for (var i = 0; i < 12_000; i++)
                writer.WriteLine($"cus_i,api,{1 + i % 3},2026-11-{1 + i % 20:00} 10:00,");   // many identical rows
        }
        Assert.Throws<OperationCanceledException>(() => ImportFile(path, null, progress: _ => throw new OperationCanceledException()));
        Assert.Equal(5000, Stored("cus_i")); // the first chunk committed, then Ctrl+C

        var rerun = ImportFile(path, null);
        Assert.Equal((12_000L, 7000L, 5000L), (rerun.Rows, rerun.Inserted, rerun.Duplicates));
        Assert.Equal(12_000, Stored("cus_i"));
        Assert.Equal(24_000m, Total("cus_i"));
    }

    [SkippableTheory]
    [InlineData("Writing")]
    [InlineData("Verifying")]
    [InlineData("Deleting")]
    public void Archive_StoppedBeforeTheStoreCommits_LeavesNoFile_AndTheStoreUnchanged(string stage)
    {
        Store.Ingest(Enumerable.Range(0, 12_000).Select(i => Event("cus_stop", "api", 1, Clock.Utc(2026, 6, 1).AddMinutes(i), "s-" + i)).ToList());
        var folder = Path.Combine(ScratchDirectory, "stop-" + stage);
        var path = Path.Combine(folder, "archive.csv");
        Assert.Throws<OperationCanceledException>(() => new UsageArchiver(Store).Archive(new UsageFilter("cus_stop"), Clock.Utc(2026, 9, 1), path,
            (at, _) => { if (at == stage) throw new OperationCanceledException(); }));

        Assert.False(File.Exists(path), $"stopped while {stage}: no archive of events that were not moved");
        Assert.Empty(Directory.GetFiles(folder));
        Assert.Equal(12_000, Stored("cus_stop"));

        // A cancelled token (Ctrl+C) stops it the same way; then a move that runs completes.
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        Assert.Throws<OperationCanceledException>(() => new UsageArchiver(Store).Archive(new UsageFilter("cus_stop"), Clock.Utc(2026, 9, 1), path, cancel: stop.Token));
        Assert.Empty(Directory.GetFiles(folder));
        Assert.Equal(12_000L, new UsageArchiver(Store).Archive(new UsageFilter("cus_stop"), Clock.Utc(2026, 9, 1), path).Deleted);
        Assert.True(File.Exists(path));
    }

    [SkippableFact]
    public void Archive_DeletesTheTemporaryFilesOfKilledProcesses_AndKeepsThoseOfLiveOnes()
    {
        using var dead = System.Diagnostics.Process.Start("true")!;
        dead.WaitForExit();
        var folder = Directory.CreateDirectory(Path.Combine(ScratchDirectory, "sweep")).FullName;
        var abandoned = Path.Combine(folder, $".archive-1.csv.{dead.Id}.{OutputFile.HostTag}.0123abcd.partial");
        var live = Path.Combine(folder, $".archive-2.csv.{Environment.ProcessId}.{OutputFile.HostTag}.0123abcd.partial");
        var otherHost = Path.Combine(folder, $".archive-3.csv.{dead.Id}.ffffff.0123abcd.partial");
        foreach (var file in new[] { abandoned, live, otherHost })
            File.WriteAllText(file, "EventId\n");
        Store.Ingest(new[] { Event("cus_sw", "api", 1, Clock.Utc(2026, 6, 1), "sw-1") });

        new UsageArchiver(Store).Archive(new UsageFilter("cus_sw"), Clock.Utc(2026, 9, 1), Path.Combine(folder, "archive.csv"));
        Assert.False(File.Exists(abandoned));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(otherHost) || OutputFile.HostTag == "ffffff");
    }
}
