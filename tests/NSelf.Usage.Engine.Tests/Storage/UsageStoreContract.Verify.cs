using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 15, Test-UsageStore -Verify and -Repair: the rollups recomputed from the stored events
/// plus tombstones, differences reported bucket by bucket with their values, and rebuilt in
/// batches, also while hosts ingest into the same buckets. Run on every backend.
/// </summary>
public abstract partial class UsageStoreContract
{
    // Invariant: the suite runs again under tr-TR, whose decimal comma would read 0.5 as 0,5.
    private static string Row(UsageStoreDifference d) => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{d.Rollup} {d.CustomerId} {d.BucketStart:yyyy-MM-dd HH:mm} {d.Service} {d.Kind} events {d.ExpectedEvents}/{d.StoredEvents} quantity {d.ExpectedQuantity}/{d.StoredQuantity} min {d.ExpectedMinimum}/{d.StoredMinimum} max {d.ExpectedMaximum}/{d.StoredMaximum}{(d.Repaired ? " repaired" : "")}");

    private static void AssertDifferences(IEnumerable<UsageStoreDifference> actual, params string[] expected) =>
        Assert.Equal(expected, actual.Select(Row).ToArray());

    private string StoredBucket(int day, int hour, int minute = 0) => StoredTime(Clock.Utc(2026, 11, day, hour, minute));

    /// <summary>The correction fixture, then four kinds of surgery on the rollup tables and one on another day.</summary>
    private void TamperRollups()
    {
        IngestCorrectionFixture();
        // A quantity changed: the quarter hour of 17 + 4 reads 20.
        ExecuteSql($"UPDATE usage_rollups SET quantity = {StoredQuantity(20)} WHERE customer_id = 'cus_fix' AND service_name = 'api' AND bucket_start = {StoredBucket(2, 10)}");
        // A bucket deleted: the storage day of cus_fix.
        ExecuteSql("DELETE FROM usage_rollups_daily WHERE customer_id = 'cus_fix' AND service_name = 'storage'");
        // A bucket added where no event is.
        ExecuteSql($"INSERT INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity) VALUES ('cus_other', {StoredBucket(2, 12)}, 'api', 3, {StoredQuantity(9)}, {StoredQuantity(1)}, {StoredQuantity(5)})");
        // Extremes changed, the sum kept.
        ExecuteSql($"UPDATE usage_rollups_daily SET min_quantity = {StoredQuantity(0.5m)}, max_quantity = {StoredQuantity(30)} WHERE customer_id = 'cus_other'");
        // Another day, for the period scope.
        ExecuteSql($"INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity) VALUES ('cus_fix', {StoredBucket(5, 0)}, 'api', 1, {StoredQuantity(7)}, {StoredQuantity(7)}, {StoredQuantity(7)})");
    }

    private static readonly string[] Tampered =
    {
        "QuarterHour cus_fix 2026-11-02 10:00 api Different events 2/2 quantity 21/20 min 4/4 max 17/17",
        "QuarterHour cus_other 2026-11-02 12:00 api Extra events /3 quantity /9 min /1 max /5",
        "Day cus_fix 2026-11-02 00:00 storage Missing events 1/ quantity 2.5/ min 2.5/ max 2.5/",
        "Day cus_fix 2026-11-05 00:00 api Extra events /1 quantity /7 min /7 max /7",
        "Day cus_other 2026-11-02 00:00 api Different events 1/1 quantity 1/1 min 1/0.5 max 1/30",
    };

    [SkippableFact]
    public void Verify_OfUntouchedRollups_FindsNothing()
    {
        IngestCorrectionFixture();
        Assert.Empty(Store.VerifyRollups(new RollupScope()));
        Assert.Empty(RollupCheck.Repair(Store, new RollupScope()));
    }

    [SkippableFact]
    public void Verify_ReportsEachTamperedBucket_WithTheExpectedAndStoredValues()
    {
        TamperRollups();
        AssertDifferences(Store.VerifyRollups(new RollupScope()), Tampered);
    }

    [SkippableFact]
    public void Verify_OfACustomerOrAPeriod_ReportsOnlyInsideIt()
    {
        TamperRollups();
        AssertDifferences(Store.VerifyRollups(new RollupScope(new[] { "cus_other" })), Tampered[1], Tampered[4]);
        AssertDifferences(Store.VerifyRollups(new RollupScope(new[] { "cus_fix", "cus_nobody" })), Tampered[0], Tampered[2], Tampered[3]);
        // A ragged period is widened to whole UTC days: both tables over the same events.
        AssertDifferences(Store.VerifyRollups(new RollupScope(null, Clock.Utc(2026, 11, 2, 10, 30), Clock.Utc(2026, 11, 2, 10, 45))), Tampered[0], Tampered[1], Tampered[2], Tampered[4]);
        AssertDifferences(Store.VerifyRollups(new RollupScope(null, Clock.Utc(2026, 11, 3), null)), Tampered[3]);
        AssertDifferences(Store.VerifyRollups(new RollupScope(null, null, Clock.Utc(2026, 11, 5))), Tampered[0], Tampered[1], Tampered[2], Tampered[4]);
        AssertDifferences(Store.VerifyRollups(new RollupScope(new[] { "cus_fix" }, Clock.Utc(2026, 11, 5, 6), Clock.Utc(2026, 11, 6))), Tampered[3]);
        Assert.Empty(Store.VerifyRollups(new RollupScope(new[] { "cus_other" }, Clock.Utc(2026, 11, 3), Clock.Utc(2026, 11, 9))));
    }

    [SkippableFact]
    public void Repair_RebuildsWhatDiffers_InItsScopeOnly_AndReadsEqualTheRawRows()
    {
        TamperRollups();
        var repaired = RollupCheck.Repair(Store, new RollupScope(new[] { "cus_other" }));
        AssertDifferences(repaired, Tampered[1] + " repaired", Tampered[4] + " repaired");
        AssertDifferences(Store.VerifyRollups(new RollupScope()), Tampered[0], Tampered[2], Tampered[3]);
        AssertDifferences(RollupCheck.Repair(Store, new RollupScope()), Tampered[0] + " repaired", Tampered[2] + " repaired", Tampered[3] + " repaired");
        AssertRollupsEqualRawRows("a repair");
        Assert.Equal((21m, 2L), Assert.Single(Summaries("cus_fix", Clock.Utc(2026, 11, 2, 10), Clock.Utc(2026, 11, 2, 10, 15), services: new[] { "api" })) is var s ? (s.Quantity, s.Events) : default);
        // A declined batch is left as it is, and not returned.
        ExecuteSql($"UPDATE usage_rollups SET events = 5 WHERE customer_id = 'cus_other'");
        var asked = new List<string>();
        Assert.Empty(RollupCheck.Repair(Store, new RollupScope(), (customer, day, items) => { asked.Add($"{customer} {day:yyyy-MM-dd} {items.Count}"); return false; }));
        Assert.Equal(new[] { "cus_other 2026-11-02 1" }, asked);
        Assert.Single(Store.VerifyRollups(new RollupScope()));
        Assert.Single(RollupCheck.Repair(Store, new RollupScope()), d => d.Repaired);
        // A repair of a clean batch changes nothing.
        Store.RepairRollups("cus_fix", Clock.Utc(2026, 11, 2, 17));
        AssertRollupsEqualRawRows("a repair of a clean day");
    }

    [SkippableFact]
    public void Verify_OfBucketsWithOldTombstones_ChecksEventsOnly_AndRepairNeverInventsTheirQuantity()
    {
        Store.Ingest(new[]
        {
            Event("cus_old", "api", 2, Clock.Utc(2026, 10, 1, 11, 3), "pair-1"),
            Event("cus_old", "api", 3, Clock.Utc(2026, 10, 1, 11, 4), "pair-2"),
            Event("cus_old", "api", 1, Clock.Utc(2026, 10, 1, 11, 5), "stored"),
        });
        Store.ArchiveRecords(new[] { ("cus_old", "pair-1"), ("cus_old", "pair-2") }, "old.csv", new string('0', 64), Clock.Utc(2026, 11, 1), "cus_old");
        // Tombstones as a version before they kept quantities wrote them: the rollups are the only record of 2 + 3.
        ExecuteSql("UPDATE usage_archived_events SET quantity = NULL");
        Assert.Empty(Store.VerifyRollups(new RollupScope()));

        ExecuteSql("UPDATE usage_rollups SET events = 7");
        AssertDifferences(Store.VerifyRollups(new RollupScope()), "QuarterHour cus_old 2026-10-01 11:00 api Different events 3/7 quantity /6 min /1 max /3");
        RollupCheck.Repair(Store, new RollupScope());
        Assert.Empty(Store.VerifyRollups(new RollupScope()));
        Assert.Equal((6m, 3L), Assert.Single(Summaries("cus_old", Clock.Utc(2026, 10, 1, 11), Clock.Utc(2026, 10, 1, 11, 15))) is var s ? (s.Quantity, s.Events) : default);

        ExecuteSql("DELETE FROM usage_rollups");
        var missing = "QuarterHour cus_old 2026-10-01 11:00 api Missing events 3/ quantity / min / max /";
        AssertDifferences(Store.VerifyRollups(new RollupScope()), missing);
        AssertDifferences(RollupCheck.Repair(Store, new RollupScope()), missing);
        // Not created from the one known quantity: it stays missing, and reported.
        AssertDifferences(Store.VerifyRollups(new RollupScope()), missing);
    }

    [SkippableFact]
    public async Task Repair_WhileThreeHostsIngestIntoTheSameBuckets_EndsClean_WithNoLostDeltaAndNoDeadlock()
    {
        foreach (var c in new[] { "cus_k0", "cus_k1" })
            Store.AddCustomer(c, new CustomerChange());
        var start = Clock.Utc(2026, 11, 2, 23);
        Store.Ingest(new[] { Event("cus_k0", "api", 5, start, "seed-0"), Event("cus_k1", "api", 5, start.AddHours(1), "seed-1") });
        // Damage to repair, in every bucket the hosts write (both days, both grains).
        ExecuteSql($"UPDATE usage_rollups SET quantity = quantity + {StoredQuantity(1000)}; UPDATE usage_rollups_daily SET events = events + 9");
        long Deadlocks() => OnSqlite ? 0 : CountSql("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
        var deadlocksBefore = Deadlocks();
        var hosts = Enumerable.Range(0, 3).Select(_ => Open()).ToList();
        var repairer = Open();
        var sent = 0L;
        var writers = hosts.Select((host, w) => Task.Run(() =>
        {
            var factory = new UsageEventFactory(host.GetServices(), Time);
            for (var chunk = 0; chunk < 20; chunk++)
            {
                var events = Enumerable.Range(0, 1 + (chunk % 3) * 10).Select(i => factory.Create($"cus_k{(chunk + i) % 2}", i % 3 == 0 ? "storage" : "api",
                    1 + (i % 4), start.AddMinutes((chunk * 7 + i * 11) % 120), $"w{w}-{chunk}-{i}")).ToList();
                Interlocked.Add(ref sent, host.Ingest(events).Inserted);
            }
        })).ToList();
        var done = Task.WhenAll(writers);
        var rounds = 0;
        var repairing = Task.Run(() =>
        {
            // Every batch of the hosts' buckets, over and over, until they are done (at least twice).
            while (!done.IsCompleted || rounds < 2)
            {
                foreach (var customer in new[] { "cus_k0", "cus_k1" })
                    foreach (var day in new[] { Clock.Utc(2026, 11, 2), Clock.Utc(2026, 11, 3) })
                        repairer.RepairRollups(customer, day);
                rounds++;
            }
        });
        await Task.WhenAll(writers.Append(repairing));
        Assert.Equal(2 + sent, Store.CountRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)));
        AssertRollupsEqualRawRows("a repair beside three ingesting hosts");
        if (!OnSqlite)
        {
            await Task.Delay(1500);
            Assert.Equal(deadlocksBefore, Deadlocks());
        }
    }

    [SkippableFact]
    public void Verify_ReportsStoredEventsWithoutATime_AndRepairLeavesThem()
    {
        Store.AddCustomer("cus_legacy", new CustomerChange());
        Store.Ingest(new[] { Event("cus_legacy", "api", 2, Clock.Utc(2026, 11, 2, 9), "timed") });
        if (OnSqlite)
        {
            // SQLite's recorded_at is NOT NULL: no row without a time can exist there to report.
            Assert.ThrowsAny<Exception>(() => ExecuteSql("INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, recorded_at, ingested_at) VALUES ('untimed', 'cus_legacy', 'sms', 3250000, '', NULL, 0)"));
            Assert.Empty(Store.VerifyRollups(new RollupScope()));
            return;
        }
        // Rows from before the module's triggers: nself's schema took a NULL time.
        ExecuteSql("ALTER TABLE billing_usage_records DISABLE TRIGGER USER; "
                 + "INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES ('cus_legacy', 'sms', 3.25, NULL), ('cus_legacy', 'sms', 1, NULL); "
                 + "ALTER TABLE billing_usage_records ENABLE TRIGGER USER");
        var noTime = " cus_legacy  sms NoTime events 2/ quantity 4.25/ min 1/ max 3.25/";
        AssertDifferences(Store.VerifyRollups(new RollupScope(new[] { "cus_legacy" })), noTime);
        // A period holds no row without a time.
        Assert.Empty(Store.VerifyRollups(new RollupScope(new[] { "cus_legacy" }, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))));
        AssertDifferences(RollupCheck.Repair(Store, new RollupScope()), noTime);
        AssertDifferences(Store.VerifyRollups(new RollupScope()), noTime);
    }
}
