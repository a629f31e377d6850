using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Engine.Tracking;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 17 item 6: a stopped command stops at its next row, also where no statement runs (rows
/// already read, work in memory), and keeps nothing it had not finished. The stop is raised from
/// inside the work, so these tests do not depend on timing.
/// </summary>
public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void Aggregates_StoppedWhilePricingBuckets_PriceNoFurtherBucket()
    {
        var at = Clock.Utc(2026, 11, 2, 10);
        Store.Ingest(Enumerable.Range(0, 6).Select(h => Event("cus_a", "api", 1, at.AddHours(h))).ToList());
        using var stopping = new CancellationTokenSource();
        var costs = new StoppingCosts(stopping);
        using (StoreCancellation.Enter(stopping.Token))
            Assert.Throws<OperationCanceledException>(() =>
                new UsageReports(Store, costs).Aggregates(new UsageFilter("cus_a"), at, at.AddHours(6), UsageInterval.Hourly, TimeZoneInfo.Utc));
        // The first bucket's price stopped the command: the other five were never priced.
        Assert.Equal(1, costs.Priced);
    }

    [SkippableFact]
    public void Import_StoppedInTheMiddleOfAChunk_StopsAtTheNextRow_AndKeepsNoRowOfThatChunk()
    {
        var path = ScratchFile("stopped.csv");
        File.WriteAllLines(path, new[] { "CustomerId,Service,Quantity,Timestamp,EventId" }
            .Concat(Enumerable.Range(1, 100).Select(i => i % 10 == 0 ? $"cus_stop,api,-1,2026-11-01T10:00:00Z,evt-bad-{i}" : $"cus_stop,api,1,2026-11-01T10:00:00Z,evt-{i}")));
        using var stopping = new CancellationTokenSource();
        long rowsRefused = 0;
        using (StoreCancellation.Enter(stopping.Token))
            Assert.Throws<OperationCanceledException>(() => new UsageImporter(new UsageTracker(Store, Time), Time).Import(path, null, _ =>
            {
                rowsRefused++;
                stopping.Cancel(); // Ctrl+C at row 10, while the first chunk of 5,000 is being read
            }));
        // Row 20 is refused too if the import reads on to the end of its chunk.
        Assert.Equal(1, rowsRefused);
        // The nine rows read before the stop were never written; importing again stores all 90.
        Assert.Equal(0, Store.CountRecords(new RecordQuery(new UsageFilter("cus_stop"), null, null)));
        var again = new UsageImporter(new UsageTracker(Store, Time), Time).Import(path, null, _ => { });
        Assert.Equal((100L, 90L, 10L), (again.Rows, again.Inserted, again.Rejected));
    }

    /// <summary>Display prices that stop the command the first time a row is priced.</summary>
    private sealed class StoppingCosts(CancellationTokenSource stopping) : IUsageCosts
    {
        public int Priced { get; private set; }

        public (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end)
        {
            Priced++;
            stopping.Cancel();
            return (quantity, "USD");
        }
    }
}
