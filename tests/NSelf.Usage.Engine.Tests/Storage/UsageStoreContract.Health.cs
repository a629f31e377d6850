using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void Health_CountsStoredAndArchivedEventsApart()
    {
        var at = Clock.Utc(2026, 11, 2, 10);
        Store.Ingest(Enumerable.Range(0, 10).Select(i => Event("cus_h", "api", 1, at.AddMinutes(i), $"evt_{i}")).ToList());
        Store.ArchiveRecords(Enumerable.Range(0, 4).Select(i => ("cus_h", $"evt_{i}")).ToList(), "/tmp/archive-h.jsonl", new string('0', 64), at.AddMinutes(4), "cus_h");

        var health = Store.CheckHealth();

        // The rollups still hold all ten (so totals stay right): the health check must not report them as stored.
        Assert.Equal((6L, 4L), (health.StoredEvents, health.ArchivedEvents));
        Assert.Equal(6L, Store.CountRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)));

        // An archived event sent again is stored once more and is no longer counted as archived.
        Store.Ingest(new[] { Event("cus_h", "api", 1, at, "evt_0") });
        health = Store.CheckHealth();
        Assert.Equal((7L, 3L), (health.StoredEvents, health.ArchivedEvents));
    }
}
