using System.Collections.Concurrent;
using System.Globalization;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 23: every event billed exactly once, whatever the timing of writers and whatever their
/// clocks say. Finalization seals the customer's usage (decision 100); these tests store events
/// where an ingest-time rule loses them (a host whose clock is behind, a commit between the read
/// and the save, many writers racing a finalizer) and hold the invoices against the store with
/// <see cref="InvoiceReconciliation"/>, which must also find what is planted with plain SQL.
/// </summary>
public abstract partial class UsageStoreContract
{
    /// <summary>The system clock moved by an offset: a host whose clock is wrong.</summary>
    private sealed class OffsetClock(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
    }

    private List<BillingInvoiceDiscrepancy> Reconcile(string customer) => new InvoiceReconciliation(Store).Check(customer, null, null).ToList();

    private static string Sql(FormattableString sql) => FormattableString.Invariant(sql);

    [SkippableFact]
    public void LaggingHost_UsageStoredAfterFinalization_IsBilledOnce_AsAnAdjustment()
    {
        var invoicing = MeteredPlan("cus_lag", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_lag", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create("cus_lag", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(1.00m, november.Total);

        // A host whose clock is a day behind stores 50 requests of November after the finalization:
        // its ingest time is before the finalization's, which an ingest-time rule took as billed.
        var lagging = Open("main", new SettableClock(Time.GetUtcNow().AddDays(-1)));
        lagging.Ingest(new[] { Event("cus_lag", "api", 50, Clock.Utc(2026, 11, 20), "late-from-lagging-host", store: lagging) });
        var stored = Assert.Single(Store.ReadRecords(new RecordQuery(new UsageFilter("cus_lag"), null, null)), r => r.EventId == "late-from-lagging-host");
        Assert.True(stored.RecordedAt < november.FinalizedAt);

        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create("cus_lag", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var adjustment = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((1L, 50m, 0.50m), (adjustment.Events, adjustment.Quantity, adjustment.Amount));
        Assert.Empty(Reconcile("cus_lag"));
        Assert.Equal(2, Store.ReadBilledEvents("cus_lag").Count);
    }

    [SkippableFact]
    public void UsageCommittedBetweenTheSealAndTheSave_IsLateUsage_NotLost()
    {
        var invoicing = MeteredPlan("cus_gap", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_gap", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var draft = invoicing.Create("cus_gap", null, null, TimeZoneInfo.Utc, false).Invoice;

        // Complete-BillingInvoice, taken apart: seal, then another host commits 30 requests of
        // November (after the seal, at the same clock reading), then the lines are worked out and saved.
        var seal = Store.SealUsage("cus_gap");
        var other = Open();
        other.Ingest(new[] { Event("cus_gap", "api", 30, Clock.Utc(2026, 11, 15), "between", store: other) });
        var final = new InvoiceBuilder(Book, 0).Build(Book.TermsOver("cus_gap", draft.PeriodStart, draft.PeriodEnd, TimeZoneInfo.Utc),
            draft.PeriodStart, draft.PeriodEnd, seal.Seal, InvoiceStatus.Open);
        var november = Store.FinalizeInvoice(final.Invoice, final.Cutoffs, seal, "test");
        var usage = november.Lines.Single(l => l.Kind == InvoiceLineKind.Usage);
        Assert.Equal((1L, 100m, 1.00m), (usage.Events, usage.Quantity, november.Total));
        // Not on the finalized invoice, and not a discrepancy: late usage waiting for the next one.
        Assert.Empty(Reconcile("cus_gap"));

        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create("cus_gap", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var adjustment = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((1L, 30m, 0.30m), (adjustment.Events, adjustment.Quantity, adjustment.Amount));
        Assert.Empty(Reconcile("cus_gap"));
    }

    [SkippableFact]
    public void TwoFinalizationsOfOneCustomer_TheOneSealedFirstButSavedSecond_IsRefused_AndSavesNothing()
    {
        var invoicing = MeteredPlan("cus_two", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_two", "api", 100, Clock.Utc(2026, 11, 10));
        Use("cus_two", "api", 40, Clock.Utc(2026, 11, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var first = invoicing.Create("cus_two", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice;
        var second = invoicing.Create("cus_two", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        var sealA = Store.SealUsage("cus_two");
        var sealB = Store.SealUsage("cus_two");
        Assert.True(sealB.Seal > sealA.Seal);
        InvoiceDraft Work(BillingInvoice i, BillingSeal seal) => new InvoiceBuilder(Book, 0).Build(Book.TermsOver("cus_two", i.PeriodStart, i.PeriodEnd, TimeZoneInfo.Utc),
            i.PeriodStart, i.PeriodEnd, seal.Seal, InvoiceStatus.Open);
        var b = Work(second, sealB);
        var a = Work(first, sealA);
        Store.FinalizeInvoice(b.Invoice, b.Cutoffs, sealB, "test");
        // Worked out before the other was saved, it could bill late usage the other's adjustments bill too.
        Assert.Equal(ErrorIds.FinalizationConflict, Assert.Throws<UsageException>(() => Store.FinalizeInvoice(a.Invoice, a.Cutoffs, sealA, "test")).ErrorId);
        Assert.Equal(InvoiceStatus.Draft, Store.GetInvoice(first.InvoiceId)!.Status);
        Assert.Equal(1.00m, invoicing.Complete(first.InvoiceId, TimeZoneInfo.Utc).Total);
        Assert.Empty(Reconcile("cus_two"));
    }

    [SkippableFact]
    public async Task ConcurrentFinalizationsOfOneCustomer_BillItsLateUsageOnce()
    {
        var invoicing = MeteredPlan("cus_cc_0", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 20));
        for (var round = 0; round < 6; round++)
        {
            var customer = $"cus_cc_{round}";
            if (round > 0)
                Book.Subscribe(customer, "metered", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
            Use(customer, "api", 100, Clock.Utc(2026, 11, 3));
            invoicing.Complete(invoicing.Create(customer, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
            // Late usage for the first part; then two hosts finalize the next two parts at once,
            // each wanting to bill it as an adjustment: one is worked out again over the other's.
            Use(customer, "api", 70, Clock.Utc(2026, 11, 5));
            var b = invoicing.Create(customer, Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice.InvoiceId;
            var c = invoicing.Create(customer, Clock.Utc(2026, 12, 1), Clock.Utc(2026, 12, 16), TimeZoneInfo.Utc, false).Invoice.InvoiceId;
            var hosts = new[] { Open(), Open() };
            await Task.WhenAll(new[] { b, c }.Select((id, k) => Task.Run(() => new Invoicing(new Subscriptions(hosts[k], Time), 0).Complete(id, TimeZoneInfo.Utc))));
            var adjustments = Store.GetInvoices(customer).SelectMany(i => i.Lines).Where(l => l.Kind == InvoiceLineKind.Adjustment).ToList();
            Assert.Equal((1L, 70m, 0.70m), (adjustments.Sum(l => l.Events), adjustments.Sum(l => l.Quantity), adjustments.Sum(l => l.Amount)));
            Assert.Empty(Reconcile(customer));
        }
    }

    /// <summary>November (three events) and December (an adjustment for a fourth, late) finalized for one customer.</summary>
    private (BillingInvoice November, BillingInvoice December) TwoFinalizedMonths(string customer)
    {
        var invoicing = MeteredPlan(customer, Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Store.Ingest(new[]
        {
            Event(customer, "api", 10, Clock.Utc(2026, 11, 3), "ev-1"), Event(customer, "api", 20, Clock.Utc(2026, 11, 4), "ev-2"),
            Event(customer, "api", 30, Clock.Utc(2026, 11, 5), "ev-3"),
        });
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create(customer, null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Store.Ingest(new[] { Event(customer, "api", 40, Clock.Utc(2026, 11, 6), "ev-late") });
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create(customer, null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        return (november, december);
    }

    [SkippableFact]
    public void Reconciliation_FindsNothingOnACleanStore_AndEachDiscrepancyPlantedWithPlainSql()
    {
        var (november, december) = TwoFinalizedMonths("cus_rec");
        Assert.Equal(0.60m, november.Total);
        Assert.Equal(0.40m, Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment).Amount);
        Assert.Empty(Reconcile("cus_rec"));
        (DiscrepancyKind, string?)[] Found() => Reconcile("cus_rec").Select(d => (d.Kind, d.EventId)).ToArray();
        var sqlite = Store.Backend == UsageStoreBackend.Sqlite;
        var novemberSeal = Store.GetInvoiceSeals("cus_rec")[november.InvoiceId];

        // An event of November stored as if November's finalization had sealed it, on no line.
        ExecuteSql(sqlite
            ? Sql($"INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at, billing_seal) VALUES ('planted', 'cus_rec', 'api', 7000000, 'requests', '{{}}', {Time0(2026, 11, 7)}, {Time0(2026, 11, 7)}, {novemberSeal})")
            : Sql($"INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, recorded_at, ingested_at, billing_seal) VALUES ('planted', 'cus_rec', 'api', 7, 'requests', '2026-11-07T00:00:00Z', '2026-11-07T00:00:00Z', {novemberSeal})"));
        var unbilled = Assert.Single(Reconcile("cus_rec"));
        Assert.Equal((DiscrepancyKind.Unbilled, "planted", november.InvoiceId, 7m), (unbilled.Kind, unbilled.EventId, unbilled.InvoiceId, unbilled.Quantity));

        // ev-1, billed on November's line, written into the ledger of December's adjustment line too.
        var adjustmentLine = december.Lines.Single(l => l.Kind == InvoiceLineKind.Adjustment).LineNumber;
        ExecuteSql(Sql($"INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity) SELECT customer_id, event_id, '{december.InvoiceId}', {adjustmentLine}, quantity FROM billing_line_events WHERE customer_id = 'cus_rec' AND event_id = 'ev-1'"));
        Assert.Equal(new[] { (DiscrepancyKind.Unbilled, (string?)"planted"), (DiscrepancyKind.BilledTwice, "ev-1"), (DiscrepancyKind.AmountMismatch, null) }, Found().Order());

        // ev-2's quantity changed after it was billed, and ev-3 deleted (as nself's tools and psql do).
        ExecuteSql(sqlite ? "UPDATE billing_usage_records SET quantity = 21000000 WHERE event_id = 'ev-2'" : "UPDATE billing_usage_records SET quantity = 21 WHERE event_id = 'ev-2'");
        ExecuteSql("DELETE FROM billing_usage_records WHERE event_id = 'ev-3'");
        var found = Reconcile("cus_rec");
        Assert.Equal(new[]
        {
            (DiscrepancyKind.Unbilled, (string?)"planted"), (DiscrepancyKind.BilledTwice, "ev-1"),
            (DiscrepancyKind.AmountMismatch, null), (DiscrepancyKind.AmountMismatch, "ev-2"), (DiscrepancyKind.AmountMismatch, "ev-3"),
        }, found.Select(d => (d.Kind, d.EventId)).Order());
        Assert.Equal((21m, 20m), (found.Single(d => d.EventId == "ev-2").Quantity, found.Single(d => d.EventId == "ev-2").BilledQuantity));
        Assert.Equal(((decimal?)null, 30m), (found.Single(d => d.EventId == "ev-3").Quantity, found.Single(d => d.EventId == "ev-3").BilledQuantity));
    }

    private static long Time0(int year, int month, int day) => NSelf.Usage.Engine.Time.Micros.From(Clock.Utc(year, month, day));

    [SkippableFact]
    public void Reconciliation_OfArchivedAndRestoredEvents_FindsNothing()
    {
        TwoFinalizedMonths("cus_arch");
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        Store.ArchiveRecords(new[] { ("cus_arch", "ev-1"), ("cus_arch", "ev-late") }, "arch.csv", new string('0', 64), Clock.Utc(2026, 12, 1), "cus_arch");
        Assert.Empty(Reconcile("cus_arch"));
        // Sent again as they were: restored, with the seals they were billed under, and billed no more.
        Store.Ingest(new[] { Event("cus_arch", "api", 10, Clock.Utc(2026, 11, 3), "ev-1"), Event("cus_arch", "api", 40, Clock.Utc(2026, 11, 6), "ev-late") });
        Time.SetUtcNow(Clock.Utc(2027, 2, 1, 12));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var january = invoicing.Complete(invoicing.Create("cus_arch", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.DoesNotContain(january.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Empty(Reconcile("cus_arch"));
    }

    [SkippableFact]
    public void Migration_GivesOldStoresSealsThatBillWhatTheirIngestTimesBilled()
    {
        var invoicing = MeteredPlan("cus_mig", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_mig", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create("cus_mig", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 13));
        Store.Ingest(new[] { Event("cus_mig", "api", 50, Clock.Utc(2026, 11, 20), "late") });

        // The store as a version before seals left it: lines carry ingest-time cutoffs, nothing is sealed.
        var sqlite = Store.Backend == UsageStoreBackend.Sqlite;
        ExecuteSql("UPDATE billing_invoice_lines SET ingested_through = (SELECT finalized_at FROM billing_invoices i WHERE i.invoice_id = billing_invoice_lines.invoice_id) WHERE kind <> 'base_fee'");
        ExecuteSql(sqlite
            ? """
              DROP INDEX ix_billing_usage_records_unsealed; DROP INDEX ix_usage_archived_events_unsealed;
              ALTER TABLE billing_usage_records DROP COLUMN billing_seal; ALTER TABLE usage_archived_events DROP COLUMN billing_seal;
              ALTER TABLE billing_invoices DROP COLUMN billing_seal; ALTER TABLE billing_invoice_lines DROP COLUMN sealed_after;
              ALTER TABLE billing_invoice_lines DROP COLUMN sealed_through; DROP TABLE billing_line_events; DROP TABLE billing_seal_counter;
              DELETE FROM usage_schema_migrations WHERE name = 'billing_seals';
              """
            : """
              ALTER TABLE billing_usage_records DROP COLUMN billing_seal; ALTER TABLE usage_archived_events DROP COLUMN billing_seal;
              ALTER TABLE billing_invoices DROP COLUMN billing_seal; ALTER TABLE billing_invoice_lines DROP COLUMN sealed_after, DROP COLUMN sealed_through;
              DROP TABLE billing_line_events; DROP SEQUENCE billing_seal_seq;
              DELETE FROM usage_schema_migrations WHERE name = 'billing_seals';
              """);
        Assert.Single(Open("main").Migrate());

        Assert.Empty(Reconcile("cus_mig"));
        Assert.Single(Store.ReadBilledEvents("cus_mig"));
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create("cus_mig", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var adjustment = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((1L, 50m, 0.50m), (adjustment.Events, adjustment.Quantity, adjustment.Amount));
        Assert.True(Store.GetInvoiceSeals("cus_mig")[december.InvoiceId] > Store.GetInvoiceSeals("cus_mig")[november.InvoiceId]);
        Assert.Empty(Reconcile("cus_mig"));
    }

    /// <summary>
    /// Writers (one with its clock 10 minutes behind) store events of last month for two customers
    /// as fast as they can, while a finalizer invoices that month in eight adjoining parts per
    /// customer, finalizing each as it goes. When the writers stop, one more invoice per customer
    /// bills what is left. Every event written must then be billed exactly once, the reconciliation
    /// must find nothing, and the race must have happened: events billed late whose ingest time is
    /// at or before the finalization of their part (which an ingest-time rule took as billed).
    /// </summary>
    [SkippableFact]
    public async Task RacingWriters_AndAFinalizerOverAndOver_BillEveryEventExactlyOnce()
    {
        var now = TimeProvider.System.GetUtcNow();
        Time.SetUtcNow(now);
        var end = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var start = end.AddMonths(-1);
        var customers = new[] { "cus_race_a", "cus_race_b" };
        var finalizerStore = Open("main", TimeProvider.System);
        var hosts = new (IUsageStore Store, string Name)[]
        {
            (Open("main", TimeProvider.System), "w0"), (Open("main", TimeProvider.System), "w1"), (Open("main", new OffsetClock(TimeSpan.FromMinutes(-10))), "lag"),
        };
        foreach (var c in customers)
            finalizerStore.Ingest(new[] { Event(c, "api", 1, start, $"{c}-first", store: finalizerStore) });
        var written = new ConcurrentBag<(string Customer, string EventId)>(customers.Select(c => (c, $"{c}-first")));
        using var stop = new CancellationTokenSource();
        var writers = hosts.Select(h => Task.Run(() =>
        {
            var random = new Random(h.Name.GetHashCode(StringComparison.Ordinal));
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var customer = customers[i % customers.Length];
                var at = start.AddSeconds(random.Next((int)(end - start).TotalSeconds));
                var id = string.Create(CultureInfo.InvariantCulture, $"{h.Name}-{i}");
                h.Store.Ingest(new[] { Event(customer, "api", 1 + random.Next(5), at, id, store: h.Store) });
                written.Add((customer, id));
            }
        })).ToList();

        var invoicing = new Invoicing(new Subscriptions(finalizerStore, TimeProvider.System), taxRate: 0);
        var cuts = Enumerable.Range(0, 9).Select(k => start + (end - start) * k / 8).ToList();
        for (var k = 0; k < 8; k++)
            foreach (var c in customers)
            {
                await Task.Delay(20);
                invoicing.Complete(invoicing.Create(c, cuts[k], cuts[k + 1], TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
            }
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        foreach (var c in customers)
            invoicing.Complete(invoicing.Create(c, end, end.AddHours(1), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);

        var raced = 0;
        foreach (var c in customers)
        {
            Assert.Empty(new InvoiceReconciliation(finalizerStore).Check(c, null, null));
            var billed = finalizerStore.ReadBilledEvents(c);
            var expected = written.Where(w => w.Customer == c).Select(w => w.EventId).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, billed.Select(b => b.EventId).Order(StringComparer.Ordinal).ToList());
            var invoices = finalizerStore.GetInvoices(c).ToDictionary(i => i.InvoiceId);
            var ingested = finalizerStore.ReadRecords(new RecordQuery(new UsageFilter(c), start, end)).ToDictionary(r => r.EventId, r => r.RecordedAt);
            foreach (var b in billed)
            {
                var line = invoices[b.InvoiceId].Lines.Single(l => l.LineNumber == b.LineNumber);
                if (line.Kind != InvoiceLineKind.Adjustment)
                    continue;
                var part = invoices.Values.Single(i => i.Status is InvoiceStatus.Open or InvoiceStatus.Paid && i.PeriodStart <= line.PeriodStart && line.PeriodEnd <= i.PeriodEnd && i.InvoiceId != b.InvoiceId);
                if (ingested[b.EventId] <= part.FinalizedAt)
                    raced++;
            }
        }
        Assert.True(raced > 0, "No event was billed late with an ingest time at or before its part's finalization: the race did not happen.");
    }
}
