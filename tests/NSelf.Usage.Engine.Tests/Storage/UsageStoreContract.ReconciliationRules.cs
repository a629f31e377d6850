using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 24: the rules of Test-BillingInvoice (<see cref="InvoiceReconciliation"/>), each held by a
/// test named after it, on every backend. Discrepancies are planted with plain SQL, as another tool
/// (psql, nself's scripts) would make them.
/// </summary>
public abstract partial class UsageStoreContract
{
    private List<BillingInvoiceDiscrepancy> Reconcile(string customer, DateTimeOffset? start, DateTimeOffset? end) =>
        new InvoiceReconciliation(Store).Check(customer, start, end).ToList();

    private bool Sqlite => Store.Backend == UsageStoreBackend.Sqlite;

    /// <summary>An event stored with plain SQL, sealed with <paramref name="seal"/> (as a finalization seals), on no line.</summary>
    private void PlantSealedEvent(string customer, string eventId, decimal quantity, DateTimeOffset at, long seal) =>
        ExecuteSql(Sqlite
            ? Sql($"INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at, billing_seal) VALUES ('{eventId}', '{customer}', 'api', {(long)(quantity * 1_000_000)}, 'requests', '{{}}', {NSelf.Usage.Engine.Time.Micros.From(at)}, {NSelf.Usage.Engine.Time.Micros.From(at)}, {seal})")
            : Sql($"INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, recorded_at, ingested_at, billing_seal) VALUES ('{eventId}', '{customer}', 'api', {quantity}, 'requests', '{at:yyyy-MM-ddTHH:mm:ssZ}', '{at:yyyy-MM-ddTHH:mm:ssZ}', {seal})"));

    /// <summary>
    /// November (ev-n1 10, ev-n2 20) and December (ev-d1 5 at exactly December 1 00:00, ev-d2 7)
    /// of a customer at 0.01 a request, each finalized after its month: 0.30 and 0.12.
    /// </summary>
    private (BillingInvoice November, BillingInvoice December) NovemberAndDecember(string customer)
    {
        var invoicing = MeteredPlan(customer, Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 11, 5));
        Store.Ingest(new[] { Event(customer, "api", 10, Clock.Utc(2026, 11, 3), "ev-n1"), Event(customer, "api", 20, Clock.Utc(2026, 11, 4), "ev-n2") });
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create(customer, null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2026, 12, 10));
        Store.Ingest(new[] { Event(customer, "api", 5, Clock.Utc(2026, 12, 1), "ev-d1"), Event(customer, "api", 7, Clock.Utc(2026, 12, 10), "ev-d2") });
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create(customer, null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((0.30m, 0.12m), (november.Total, december.Total));
        Assert.Empty(Reconcile(customer, null, null));
        return (november, december);
    }

    [SkippableFact]
    public void Reconciliation_HoldsTheInvoicesWhosePeriodsMeetTheRange_AndAnEventAtAPeriodStartIsOfThatPeriod()
    {
        var (november, december) = NovemberAndDecember("cus_rr");
        var seals = Store.GetInvoiceSeals("cus_rr");
        Assert.True(seals[december.InvoiceId] > seals[november.InvoiceId]);
        // Two events on no line, both sealed by December's finalization (its adjustments should
        // have billed the November one): one of November 7, one of exactly December 1 00:00,
        // which is December's (a period is [start, end)).
        PlantSealedEvent("cus_rr", "lost-n", 3, Clock.Utc(2026, 11, 7), seals[december.InvoiceId]);
        PlantSealedEvent("cus_rr", "lost-d", 4, Clock.Utc(2026, 12, 1), seals[december.InvoiceId]);
        (string?, string, decimal?, decimal?)[] Found(DateTimeOffset? start, DateTimeOffset? end) =>
            Reconcile("cus_rr", start, end).Select(d => (d.EventId, d.InvoiceId, d.Quantity, d.BilledQuantity)).ToArray();

        // Event discrepancies come in order of event id; unbilled ones billed nothing (null, not 0).
        Assert.Equal(new (string?, string, decimal?, decimal?)[] { ("lost-d", december.InvoiceId, 4m, null), ("lost-n", november.InvoiceId, 3m, null) }, Found(null, null));
        Assert.All(Reconcile("cus_rr", null, null), d => Assert.Equal((DiscrepancyKind.Unbilled, "api", 0), (d.Kind, d.Service, d.Lines.Count)));
        Assert.Equal((Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)), (Reconcile("cus_rr", null, null)[0].PeriodStart, Reconcile("cus_rr", null, null)[0].PeriodEnd));
        // -Start December 1: November ends there, so it does not meet the range.
        Assert.Equal(new (string?, string, decimal?, decimal?)[] { ("lost-d", december.InvoiceId, 4m, null) }, Found(Clock.Utc(2026, 12, 1), null));
        // -End December 1: December starts there, so it does not meet the range.
        Assert.Equal(new (string?, string, decimal?, decimal?)[] { ("lost-n", november.InvoiceId, 3m, null) }, Found(null, Clock.Utc(2026, 12, 1)));
        Assert.Equal(new (string?, string, decimal?, decimal?)[] { ("lost-d", december.InvoiceId, 4m, null) }, Found(Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)));
        // A range no finalized invoice meets has nothing to check, nor has a customer never invoiced.
        Assert.Empty(Found(Clock.Utc(2027, 1, 1), null));
        Assert.Empty(Found(null, Clock.Utc(2026, 11, 1)));
        Assert.Empty(Reconcile("cus_never_invoiced", null, null));
    }

    [SkippableFact]
    public void Reconciliation_ALineWhoseLedgerDiffersInQuantityOnly_OrInEventIdsOnly_IsAMismatch_InOrderOfInvoice()
    {
        var (november, december) = NovemberAndDecember("cus_rl");
        var novemberLine = Assert.Single(november.Lines, l => l.Kind == InvoiceLineKind.Usage);
        var decemberLine = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Usage);
        string Short(params (string Id, decimal Quantity)[] ledger) => EventsDigest.Summarize(ledger.Select(e => new LedgerEntry(e.Id, e.Quantity))).Hash[..12];
        Assert.Equal(Short(("ev-n1", 10), ("ev-n2", 20)), novemberLine.EventsHash![..12]);

        // December's ledger bills ev-d2 twice over (14, not 7): same events, same hash, another total.
        ExecuteSql($"UPDATE billing_line_events SET quantity = quantity * 2 WHERE event_id = 'ev-d2'");
        // November's ledger bills ev-n0 instead of ev-n1: same count, same total, another hash.
        ExecuteSql($"UPDATE billing_line_events SET event_id = 'ev-n0' WHERE event_id = 'ev-n1'");
        var found = Reconcile("cus_rl", null, null);
        // Lines first, November's before December's; then events in order of id.
        Assert.Equal(new (string, string?, DiscrepancyKind)[]
        {
            (november.InvoiceId, null, DiscrepancyKind.AmountMismatch), (december.InvoiceId, null, DiscrepancyKind.AmountMismatch),
            (december.InvoiceId, "ev-d2", DiscrepancyKind.AmountMismatch), (november.InvoiceId, "ev-n0", DiscrepancyKind.AmountMismatch),
            (november.InvoiceId, "ev-n1", DiscrepancyKind.Unbilled),
        }, found.Select(d => (d.InvoiceId, d.EventId, d.Kind)));
        Assert.Equal(new[] { $"{november.InvoiceId}#{novemberLine.LineNumber}" }, found[0].Lines);
        Assert.Equal(
            $"Line {novemberLine.LineNumber} (api) says it bills 2 events, 30 in all, hash {Short(("ev-n1", 10), ("ev-n2", 20))}; its ledger holds 2, 30 in all, hash {Short(("ev-n0", 10), ("ev-n2", 20))}.",
            found[0].Detail);
        Assert.Equal(
            $"Line {decemberLine.LineNumber} (api) says it bills 2 events, 12 in all, hash {Short(("ev-d1", 5), ("ev-d2", 7))}; its ledger holds 2, 19 in all, hash {Short(("ev-d1", 5), ("ev-d2", 7))}.",
            found[1].Detail);
        // ev-d2: billed at 14 on one line, stored at 7.
        Assert.Equal((7m, 14m), (found[2].Quantity, found[2].BilledQuantity));
        Assert.Equal($"Billed on {december.InvoiceId}#{decemberLine.LineNumber} at 14; stored now at 7: changed after it was billed.", found[2].Detail);
        // ev-n0: billed, and stored nowhere.
        Assert.Equal(((decimal?)null, 10m), (found[3].Quantity, found[3].BilledQuantity));
        Assert.Equal($"Billed on {november.InvoiceId}#{novemberLine.LineNumber}, and no longer stored or archived: deleted after it was billed.", found[3].Detail);
        Assert.Equal($"Sealed for billing ({Store.GetInvoiceSeals("cus_rl")[november.InvoiceId]}) by a finalization, and on no invoice line.", found[4].Detail);
    }

    [SkippableFact]
    public void Reconciliation_ALineWithoutAnEventsHash_SaysNone_AndAnEventOnTwoLines_IsBilledTwice_AtTheirSum()
    {
        var (november, december) = NovemberAndDecember("cus_rh");
        var novemberLine = Assert.Single(november.Lines, l => l.Kind == InvoiceLineKind.Usage).LineNumber;
        var decemberLine = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Usage).LineNumber;
        ExecuteSql(Sql($"UPDATE billing_invoice_lines SET events_hash = NULL WHERE invoice_id = '{november.InvoiceId}' AND line_number = {novemberLine}"));
        var hash = EventsDigest.Summarize(new[] { new LedgerEntry("ev-n1", 10), new LedgerEntry("ev-n2", 20) }).Hash;
        var line = Assert.Single(Reconcile("cus_rh", null, null));
        Assert.Equal((DiscrepancyKind.AmountMismatch, november.InvoiceId, "api", (string?)null), (line.Kind, line.InvoiceId, line.Service, line.EventId));
        Assert.Equal($"Line {novemberLine} (api) says it bills 2 events, 30 in all, hash (none); its ledger holds 2, 30 in all, hash {hash[..12]}.", line.Detail);

        // ev-n2 (20) written into the ledger of December's usage line too: billed 40 in all.
        ExecuteSql(Sql($"UPDATE billing_invoice_lines SET events_hash = '{hash}' WHERE invoice_id = '{november.InvoiceId}'"));
        ExecuteSql(Sql($"INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity) SELECT customer_id, event_id, '{december.InvoiceId}', {decemberLine}, quantity FROM billing_line_events WHERE customer_id = 'cus_rh' AND event_id = 'ev-n2'"));
        var twice = Assert.Single(Reconcile("cus_rh", null, null), d => d.EventId is not null);
        Assert.Equal((DiscrepancyKind.BilledTwice, november.InvoiceId, 20m, 40m), (twice.Kind, twice.InvoiceId, twice.Quantity, twice.BilledQuantity));
        var lines = new[] { $"{december.InvoiceId}#{decemberLine}", $"{november.InvoiceId}#{novemberLine}" }.Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(lines, twice.Lines.Order(StringComparer.Ordinal));
        Assert.Equal($"Billed 2 times: on {string.Join(", ", twice.Lines)}.", twice.Detail);

        // Then deleted: billed 40 on both lines, and stored nowhere.
        ExecuteSql("DELETE FROM billing_usage_records WHERE event_id = 'ev-n2'");
        var gone = Assert.Single(Reconcile("cus_rh", null, null), d => d.EventId is not null);
        Assert.Equal((DiscrepancyKind.AmountMismatch, (decimal?)null, 40m), (gone.Kind, gone.Quantity, gone.BilledQuantity));
        Assert.Equal(lines, gone.Lines.Order(StringComparer.Ordinal));
        Assert.Equal($"Billed on {gone.Lines[0]}, {gone.Lines[1]}, and no longer stored or archived: deleted after it was billed.", gone.Detail);
    }

    [SkippableFact]
    public void Reconciliation_OfABaseFeeAndAveragedStorage_FindsNothing_ButAnEventInTheBaseFeesLedgerIsReported()
    {
        // Starter: 29.00, 10 GB included, 0.10 a GB over. 8,640 GB-hours over November's 720 hours is
        // 12 GB on average: the storage line bills 12 GB (0.20), though its ledger holds 8,640.
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_rs", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Store.Ingest(new[] { Event("cus_rs", "storage", 8640, Clock.Utc(2026, 11, 2), "gb-1"), Event("cus_rs", "api", 100, Clock.Utc(2026, 11, 3), "api-1") });
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var november = invoicing.Complete(invoicing.Create("cus_rs", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var storage = Assert.Single(november.Lines, l => l.Service == "storage");
        Assert.Equal((12m, 0.20m, 1L), (storage.Quantity, storage.Amount, storage.Events));
        var fee = Assert.Single(november.Lines, l => l.Kind == InvoiceLineKind.BaseFee);
        Assert.Empty(Reconcile("cus_rs", null, null));

        // api-1 written into the base fee's ledger as well.
        ExecuteSql(Sql($"INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity) SELECT customer_id, event_id, invoice_id, {fee.LineNumber}, quantity FROM billing_line_events WHERE customer_id = 'cus_rs' AND event_id = 'api-1'"));
        var found = Reconcile("cus_rs", null, null);
        Assert.Equal(new (DiscrepancyKind, string?)[] { (DiscrepancyKind.AmountMismatch, null), (DiscrepancyKind.BilledTwice, "api-1") }, found.Select(d => (d.Kind, d.EventId)));
        Assert.Equal($"Line {fee.LineNumber} is the base fee, which bills no usage; its ledger holds 1 events.", found[0].Detail);
        Assert.Equal(new[] { $"{november.InvoiceId}#{fee.LineNumber}" }, found[0].Lines);

        // An averaged line is still held to its events and hash: the storage event billed at another
        // quantity in the ledger changes neither, but is an event billed at another quantity.
        ExecuteSql(Sql($"DELETE FROM billing_line_events WHERE invoice_id = '{november.InvoiceId}' AND line_number = {fee.LineNumber}"));
        ExecuteSql("UPDATE billing_line_events SET quantity = quantity * 2 WHERE event_id = 'gb-1'");
        Assert.Equal(new (DiscrepancyKind, string?)[] { (DiscrepancyKind.AmountMismatch, "gb-1") }, Reconcile("cus_rs", null, null).Select(d => (d.Kind, d.EventId)));
    }

    [SkippableFact]
    public void Reconciliation_HoldsPaidAndUncollectibleInvoices_ButNotVoidOnes()
    {
        var (november, _) = NovemberAndDecember("cus_rv");
        ExecuteSql("UPDATE billing_line_events SET quantity = quantity * 2 WHERE event_id = 'ev-n1'");
        var expected = new (string, string?)[] { (november.InvoiceId, null), (november.InvoiceId, "ev-n1") };
        foreach (var status in new[] { "paid", "uncollectible" })
        {
            ExecuteSql(Sql($"UPDATE billing_invoices SET status = '{status}' WHERE invoice_id = '{november.InvoiceId}'"));
            Assert.Equal(expected, Reconcile("cus_rv", null, null).Select(d => (d.InvoiceId, d.EventId)));
        }
        // A void invoice bills nothing: its ledger is not held against the events, though it was sealed.
        ExecuteSql(Sql($"UPDATE billing_invoices SET status = 'void' WHERE invoice_id = '{november.InvoiceId}'"));
        Assert.Contains(november.InvoiceId, Store.GetInvoiceSeals("cus_rv").Keys);
        Assert.Empty(Reconcile("cus_rv", null, null));
    }

    [SkippableFact]
    public void Reconciliation_UsageAVoidedInvoiceBilledAsLate_WaitsForTheNextInvoice_WhichBillsItAgain()
    {
        // The differential suite's sequence (replay 3124817551133486157, shrunk): November finalized;
        // late November usage billed as an adjustment by December's invoice, finalized; January
        // finalized after it; then December voided. The late event is billable again, not unbilled.
        var invoicing = MeteredPlan("cus_rw", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 11, 5));
        Store.Ingest(new[] { Event("cus_rw", "api", 10, Clock.Utc(2026, 11, 3), "ev-n1") });
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create("cus_rw", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2026, 12, 5));
        Store.Ingest(new[] { Event("cus_rw", "api", 4, Clock.Utc(2026, 11, 20), "late-n") });
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create("cus_rw", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(0.04m, Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment).Amount);
        Time.SetUtcNow(Clock.Utc(2027, 2, 1, 12));
        invoicing.Complete(invoicing.Create("cus_rw", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Empty(Reconcile("cus_rw", null, null));
        var seals = Store.GetInvoiceSeals("cus_rw");

        Accounts().Void(december.InvoiceId, "Billed twice by hand");
        Assert.Empty(Reconcile("cus_rw", null, null));
        // So is an event of November a plain-SQL writer sealed with December's seal: the next invoice bills it.
        PlantSealedEvent("cus_rw", "planted", 3, Clock.Utc(2026, 11, 21), seals[december.InvoiceId]);
        Assert.Empty(Reconcile("cus_rw", null, null));

        // December invoiced again: its adjustment bills both (0.07), and the ledger holds them once.
        Time.SetUtcNow(Clock.Utc(2027, 2, 2));
        var again = invoicing.Complete(invoicing.Create("cus_rw", Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var adjustment = Assert.Single(again.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((0.07m, 2), (adjustment.Amount, adjustment.Events));
        Assert.Equal(new[] { "late-n", "planted" }, Store.ReadBilledEvents("cus_rw").Where(b => b.InvoiceId == again.InvoiceId).Select(b => b.EventId).Order(StringComparer.Ordinal));
        Assert.Empty(Reconcile("cus_rw", null, null));

        // Billed through by a live invoice and on none of its lines: unbilled, though a void sealed it.
        PlantSealedEvent("cus_rw", "planted-2", 5, Clock.Utc(2026, 11, 22), seals[december.InvoiceId]);
        var unbilled = Assert.Single(Reconcile("cus_rw", null, null));
        Assert.Equal((DiscrepancyKind.Unbilled, "planted-2", november.InvoiceId), (unbilled.Kind, unbilled.EventId, unbilled.InvoiceId));
    }

    [SkippableFact]
    public void Reconciliation_UsageSealedInAGapBetweenFinalizedInvoices_IsNotADiscrepancy()
    {
        // November 1-16 and December are finalized; November 16 to December 1 is not invoiced yet.
        // Its event of November 20 was sealed by December's finalization, and waits for its invoice.
        var invoicing = MeteredPlan("cus_gapped", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Store.Ingest(new[] { Event("cus_gapped", "api", 10, Clock.Utc(2026, 11, 3), "early"), Event("cus_gapped", "api", 20, Clock.Utc(2026, 11, 20), "in-gap") });
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        foreach (var (start, end) in new[] { (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16)), (Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)) })
            invoicing.Complete(invoicing.Create("cus_gapped", start, end, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var gap = Assert.Single(Store.ReadBillingAudit("cus_gapped", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1)));
        Assert.Equal(("in-gap", (string?)null), (gap.EventId, gap.InvoiceId));
        Assert.NotNull(gap.Seal);
        Assert.Empty(Reconcile("cus_gapped", null, null));
    }
}
