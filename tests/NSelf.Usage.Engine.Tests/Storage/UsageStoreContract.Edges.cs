using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 14, the edges the differential suite found: archived events at the ragged ends of a read,
/// and invoices beyond nself's numeric(10,2) columns. Run against every backend.
/// </summary>
public abstract partial class UsageStoreContract
{
    /// <summary>Runs SQL on the store's database directly (what an older module version left behind).</summary>
    protected abstract void ExecuteSql(string sql, string key = "main");

    private (decimal Quantity, long Events) Api(string customer, DateTimeOffset start, DateTimeOffset end) =>
        Summaries(customer, start, end).Where(s => s.Service == "api").Select(s => (s.Quantity, s.Events)).SingleOrDefault();

    [SkippableFact]
    public void ArchivedEvents_CountAtTheRaggedEdgesOfARead_ExactlyOnce()
    {
        // 10:03:30 and 10:52 are in partial quarter hours of a read from 10:02 to 10:55; 10:20 is whole.
        Store.Ingest(new[]
        {
            Event("cus_edge", "api", 5, Clock.Utc(2026, 10, 1, 10, 3, 30), "start"),
            Event("cus_edge", "api", 2, Clock.Utc(2026, 10, 1, 10, 20), "middle"),
            Event("cus_edge", "api", 0.25m, Clock.Utc(2026, 10, 1, 10, 52), "end"),
            Event("cus_edge", "storage", 7, Clock.Utc(2026, 10, 1, 10, 4), "other-service"),
        });
        var (start, end) = (Clock.Utc(2026, 10, 1, 10, 2), Clock.Utc(2026, 10, 1, 10, 55));
        Assert.Equal((7.25m, 3L), Api("cus_edge", start, end));
        new UsageArchiver(Store).Archive(new UsageFilter("cus_edge"), Clock.Utc(2026, 11, 1), ScratchFile("edges.csv"));
        Assert.Equal(0, Store.CountRecords(new RecordQuery(new UsageFilter("cus_edge"), null, null)));

        // Archived: still counted, at the edges as in the whole quarter hours, and by service.
        Assert.Equal((7.25m, 3L), Api("cus_edge", start, end));
        Assert.Equal((5m, 1L), Api("cus_edge", start, Clock.Utc(2026, 10, 1, 10, 4)));
        Assert.Equal(7m, Assert.Single(Summaries("cus_edge", start, end, services: new[] { "storage" })).Quantity);
        // A read of all customers, and a read of one customer's span (a billing period), alike.
        Assert.Equal((7.25m, 3L), Summaries(null, start, end).Where(s => s.CustomerId == "cus_edge" && s.Service == "api").Select(s => (s.Quantity, s.Events)).Single());
        var span = new UsageReports(Store).Collect(new UsageFilter(null, new[] { "api" }), new[] { new UsageReports.Span(start, end, "cus_edge") });
        Assert.Equal((7.25m, 3L, 0.25m, 5m), span.Select(t => (t.Quantity, t.Events, t.Minimum, t.Maximum)).Single());

        // Restored (sent again as it was): counted once. Another payload under its id: a duplicate.
        Assert.Equal(1, Store.Ingest(new[] { Event("cus_edge", "api", 5, Clock.Utc(2026, 10, 1, 10, 3, 30), "start") }).Inserted);
        Assert.Equal(1, Store.Ingest(new[] { Event("cus_edge", "api", 9, Clock.Utc(2026, 10, 1, 10, 52), "end") }).Duplicates);
        Assert.Equal((7.25m, 3L), Api("cus_edge", start, end));
        // Imported back whole, and archived again: still the same.
        new UsageImporter(new UsageTracker(Store, Time), Time).Import(ScratchFile("edges.csv"), null, e => throw e);
        Assert.Equal((7.25m, 3L), Api("cus_edge", start, end));
        new UsageArchiver(Store).Archive(new UsageFilter("cus_edge"), Clock.Utc(2026, 11, 1), ScratchFile("edges-again.csv"));
        Assert.Equal((7.25m, 3L), Api("cus_edge", start, end));
        // Grouped reads are raw throughout and tombstones keep no metadata: only stored events.
        Assert.Empty(Summaries("cus_edge", start, end, groupKey: "endpoint"));
    }

    [SkippableFact]
    public void ArchivedEvent_InABillingPeriodAnchoredOffTheQuarterHour_CountsInTheQuota()
    {
        MeteredPlan("cus_anchor_other", Api(100, overage: 1m));
        Time.SetUtcNow(Clock.Utc(2026, 10, 1, 10, 15, 30));
        Book.Subscribe("cus_anchor", "metered", BillingCycle.Monthly, Clock.Utc(2026, 10, 1, 10, 15, 30), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        // The period is Nov 1 10:15:30 to Dec 1 10:15:30: 10:15:40 is in its partial first quarter hour.
        Use("cus_anchor", "api", 40, Clock.Utc(2026, 11, 1, 10, 15, 40));
        Use("cus_anchor", "api", 2, Clock.Utc(2026, 11, 15));
        Assert.Equal(42m, Assert.Single(CheckQuotas("cus_anchor", "api")).Status.Used);
        new UsageArchiver(Store).Archive(new UsageFilter("cus_anchor"), Clock.Utc(2026, 11, 10), ScratchFile("anchor.csv"));
        Assert.Equal(42m, Assert.Single(CheckQuotas("cus_anchor", "api")).Status.Used);
    }

    [SkippableFact]
    public void Migration_FillsTheQuantityOfOldTombstones_WhereTheRollupsTellIt()
    {
        // Three archived events: alone in its quarter hour (told by the rollup), and two sharing one (not told).
        Store.Ingest(new[]
        {
            Event("cus_old", "api", 5, Clock.Utc(2026, 10, 1, 10, 3), "alone"),
            Event("cus_old", "api", 1, Clock.Utc(2026, 10, 1, 10, 5), "stored"),
            Event("cus_old", "api", 2, Clock.Utc(2026, 10, 1, 11, 3), "pair-1"),
            Event("cus_old", "api", 3, Clock.Utc(2026, 10, 1, 11, 4), "pair-2"),
        });
        Store.ArchiveRecords(new[] { ("cus_old", "alone"), ("cus_old", "pair-1"), ("cus_old", "pair-2") }, "old.csv", new string('0', 64), Clock.Utc(2026, 11, 1), "cus_old");
        // As a version before the tombstone quantity left them, and before this migration.
        ExecuteSql("UPDATE usage_archived_events SET quantity = NULL; DELETE FROM usage_schema_migrations WHERE name = 'archived_edges'");
        Assert.Equal((1m, 1L), Api("cus_old", Clock.Utc(2026, 10, 1, 10, 2), Clock.Utc(2026, 10, 1, 10, 14)));

        Assert.Single(Open("main").Migrate());
        Assert.Equal((6m, 2L), Api("cus_old", Clock.Utc(2026, 10, 1, 10, 2), Clock.Utc(2026, 10, 1, 10, 14)));
        // The pair stays unknown at a ragged edge, and whole quarter hours still count it from the rollups.
        Assert.Equal(default, Api("cus_old", Clock.Utc(2026, 10, 1, 11, 2), Clock.Utc(2026, 10, 1, 11, 14)));
        Assert.Equal((5m, 2L), Api("cus_old", Clock.Utc(2026, 10, 1, 11), Clock.Utc(2026, 10, 1, 11, 15)));
    }

    [SkippableFact]
    public void Invoice_BeyondNselfsColumns_IsRefusedBeforeAnythingIsSaved()
    {
        var invoicing = MeteredPlan("cus_big", Api(0, overage: 1m));
        Book.Subscribe("cus_edge_of_big", "metered", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Book.Subscribe("cus_taxed", "metered", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_big", "api", 100_000_000m, Clock.Utc(2026, 11, 5));
        Use("cus_edge_of_big", "api", 99_999_999.99m, Clock.Utc(2026, 11, 5));
        Use("cus_taxed", "api", 90_000_000m, Clock.Utc(2026, 11, 5));

        var refused = Assert.Throws<UsageException>(() => invoicing.Create("cus_big", null, null, TimeZoneInfo.Utc, false));
        Assert.Equal((ErrorIds.InvoiceTooLarge, UsageErrorKind.InvalidData), (refused.ErrorId, refused.Kind));
        Assert.Contains("100,000,000.00 USD", refused.Message, StringComparison.Ordinal);
        Assert.Contains("99,999,999.99", refused.Message, StringComparison.Ordinal);
        Assert.Equal("cus_big", Assert.IsType<BillingInvoice>(refused.Target).CustomerId);
        Assert.Empty(Store.GetInvoices("cus_big"));

        // The largest amount the columns hold is stored, and reads back to the cent.
        Assert.Equal(99_999_999.99m, invoicing.Create("cus_edge_of_big", null, null, TimeZoneInfo.Utc, false).Invoice.Total);
        Assert.Equal(99_999_999.99m, Assert.Single(Store.GetInvoices("cus_edge_of_big")).Total);

        // Tax can take the total beyond it too.
        var taxed = Assert.Throws<UsageException>(() => new Invoicing(Book, taxRate: 20).Create("cus_taxed", null, null, TimeZoneInfo.Utc, false));
        Assert.Equal(ErrorIds.InvoiceTooLarge, taxed.ErrorId);
        Assert.Contains("total would be 108,000,000.00 USD", taxed.Message, StringComparison.Ordinal);
        Assert.Empty(Store.GetInvoices("cus_taxed"));

        // A draft that fitted, finalized after more usage: refused, and still a draft.
        var draft = new Invoicing(Book, taxRate: 0).Create("cus_taxed", null, null, TimeZoneInfo.Utc, false).Invoice;
        Use("cus_taxed", "api", 10_000_000m, Clock.Utc(2026, 11, 6));
        Assert.Equal(ErrorIds.InvoiceTooLarge, Assert.Throws<UsageException>(() => invoicing.Complete(draft.InvoiceId, TimeZoneInfo.Utc)).ErrorId);
        Assert.Equal(InvoiceStatus.Draft, Assert.Single(Store.GetInvoices("cus_taxed")).Status);
    }
}
