using NSelf.Usage.Engine.Billing;
using System.Globalization;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>
/// Test-BillingInvoice: finalized invoices held against the stored usage, event by event. Every
/// event of a finalized period that a finalization sealed must be on exactly one line, at the
/// quantity it has now; every line must bill what its events, total and hash say. The ledger of
/// what each line billed is written when it is finalized (IBillingStore.FinalizeInvoice); this
/// reads it back beside the events (stored and archived) and reports each difference.
/// </summary>
public sealed class InvoiceReconciliation
{
    private readonly IUsageStore _store;

    public InvoiceReconciliation(IUsageStore store) => _store = store;

    /// <summary>
    /// The discrepancies of a customer's finalized invoices whose periods meet [start, end) (either
    /// end open): first the lines that disagree with their ledgers, in order of invoice, then the
    /// events billed wrongly, in order of event id. Nothing when all is well. Usage of a finalized
    /// period stored after its last finalization (not sealed yet) is late usage waiting for the next
    /// invoice, not a discrepancy; so is usage a voided invoice billed, which the next one bills again.
    /// </summary>
    public IEnumerable<BillingInvoiceDiscrepancy> Check(string customerId, DateTimeOffset? start, DateTimeOffset? end)
    {
        // Only a finalization gives an invoice a seal: with none, the filter below leaves nothing to check.
        var seals = _store.GetInvoiceSeals(customerId);
        var everFinalized = _store.GetInvoices(customerId).Where(i => seals.ContainsKey(i.InvoiceId)).ToList();
        var all = everFinalized.Where(i => i.Status is InvoiceStatus.Open or InvoiceStatus.Paid or InvoiceStatus.Uncollectible).ToList();
        // Seals of finalizations whose invoices were voided since: what they billed is billable again.
        var voided = everFinalized.Where(i => i.Status == InvoiceStatus.Void).Select(i => seals[i.InvoiceId]).ToHashSet();
        var invoices = all.Where(i => (start is null || i.PeriodEnd > start) && (end is null || i.PeriodStart < end)).OrderBy(i => i.PeriodStart).ToList();
        if (invoices.Count == 0)
            yield break;
        // A seal at or below this was given to a finalization that was saved, or passed over by one.
        var lastSeal = all.Max(i => seals[i.InvoiceId]);
        var byId = all.ToDictionary(i => i.InvoiceId, StringComparer.Ordinal);
        var billed = _store.ReadBilledEvents(customerId).ToLookup(b => (b.InvoiceId, b.LineNumber));
        IReadOnlyList<BilledUsage>? billedUsage = null;

        // An event sealed by a finalization whose invoice was voided waits for the next one, as late
        // usage does, if that one will bill it: it bills a period's late usage of a service sealed
        // after what the period's live invoices and lines billed through (InvoiceBuilder's
        // BilledThrough; the line whose dates hold the event is the one of its piece). An event the
        // live invoices have billed through, and yet is on none of their lines, is unbilled.
        bool Released(AuditedEvent e, long seal, BillingInvoice period)
        {
            if (!voided.Contains(seal))
                return false;
            billedUsage ??= _store.GetBilledUsage(customerId);
            var through = all.Where(i => i.PeriodStart == period.PeriodStart && i.PeriodEnd == period.PeriodEnd).Select(i => seals[i.InvoiceId])
                .Concat(billedUsage.Where(b => b.Service == e.Service && b.PeriodStart <= e.RecordedAt && e.RecordedAt < b.PeriodEnd).Select(b => b.SealedThrough))
                .Max();
            return seal > through;
        }

        foreach (var invoice in invoices)
            foreach (var line in invoice.Lines)
            {
                var ledger = billed[(invoice.InvoiceId, line.LineNumber)].Select(b => new LedgerEntry(b.EventId, b.Quantity)).ToList();
                if (line.Kind == InvoiceLineKind.BaseFee)
                {
                    // A base fee bills no usage: an event in its ledger was put there by hand.
                    if (ledger.Count > 0)
                        yield return Line(invoice, line, string.Create(CultureInfo.InvariantCulture,
                            $"Line {line.LineNumber} is the base fee, which bills no usage; its ledger holds {ledger.Count} events."));
                    continue;
                }
                var (events, quantity, hash) = EventsDigest.Summarize(ledger);
                var averaged = line.Unit == QuotaUnits.AverageGb;
                if (events != line.Events || hash != line.EventsHash || (!averaged && quantity != line.Quantity))
                    yield return Line(invoice, line, string.Create(CultureInfo.InvariantCulture,
                        $"Line {line.LineNumber} ({line.Service}) says it bills {line.Events} events, {line.Quantity} in all, hash {Short(line.EventsHash)}; its ledger holds {events}, {quantity} in all, hash {Short(hash)}."));
            }

        var from = invoices.Min(i => i.PeriodStart);
        var to = invoices.Max(i => i.PeriodEnd);
        foreach (var group in _store.ReadBillingAudit(customerId, from, to).GroupBy(e => e.EventId, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var stored = group.FirstOrDefault(e => e.RecordedAt is not null);
            var lines = group.Where(e => e.InvoiceId is not null).Select(e => (Invoice: e.InvoiceId!, Line: e.LineNumber!.Value, Quantity: e.BilledQuantity!.Value)).ToList();
            var names = lines.Select(l => string.Create(CultureInfo.InvariantCulture, $"{l.Invoice}#{l.Line}")).ToList();
            // Reported only for an event some line billed (an unbilled one billed nothing: null, not 0).
            var billedQuantity = lines.Sum(l => l.Quantity);
            if (stored is null)
            {
                // Billed, and gone from the store and its archive tombstones (deleted, not archived).
                var first = byId.GetValueOrDefault(lines[0].Invoice);
                if (first is not null)
                    // Stryker disable once Linq : a group is never empty, so First and FirstOrDefault give the same event
                    yield return Event(first, group.First(), DiscrepancyKind.AmountMismatch, null, billedQuantity, names,
                        $"Billed on {string.Join(", ", names)}, and no longer stored or archived: deleted after it was billed.");
                continue;
            }
            var period = invoices.FirstOrDefault(i => stored.RecordedAt >= i.PeriodStart && stored.RecordedAt < i.PeriodEnd);
            if (period is null)
                continue;
            if (lines.Count == 0)
            {
                if (stored.Seal is { } seal && seal <= lastSeal && !Released(stored, seal, period))
                    yield return Event(period, stored, DiscrepancyKind.Unbilled, stored.Quantity, null, names,
                        string.Create(CultureInfo.InvariantCulture, $"Sealed for billing ({seal}) by a finalization, and on no invoice line."));
            }
            else if (lines.Count > 1)
                yield return Event(period, stored, DiscrepancyKind.BilledTwice, stored.Quantity, billedQuantity, names,
                    $"Billed {lines.Count} times: on {string.Join(", ", names)}.");
            else if (lines[0].Quantity != stored.Quantity)
                yield return Event(period, stored, DiscrepancyKind.AmountMismatch, stored.Quantity, billedQuantity, names,
                    string.Create(CultureInfo.InvariantCulture, $"Billed on {names[0]} at {lines[0].Quantity}; stored now at {stored.Quantity}: changed after it was billed."));
        }
    }

    private static string Short(string? hash) => hash is null ? "(none)" : hash[..Math.Min(12, hash.Length)];

    private static BillingInvoiceDiscrepancy Line(BillingInvoice invoice, BillingInvoiceLine line, string detail) => new()
    {
        CustomerId = invoice.CustomerId, Kind = DiscrepancyKind.AmountMismatch, InvoiceId = invoice.InvoiceId,
        PeriodStart = invoice.PeriodStart, PeriodEnd = invoice.PeriodEnd, Service = line.Service,
        Lines = new[] { string.Create(CultureInfo.InvariantCulture, $"{invoice.InvoiceId}#{line.LineNumber}") }, Detail = detail,
    };

    private static BillingInvoiceDiscrepancy Event(BillingInvoice period, AuditedEvent e, DiscrepancyKind kind, decimal? quantity, decimal? billed,
        IReadOnlyList<string> lines, string detail) => new()
    {
        CustomerId = period.CustomerId, Kind = kind, InvoiceId = period.InvoiceId, PeriodStart = period.PeriodStart, PeriodEnd = period.PeriodEnd,
        EventId = e.EventId, Service = e.Service, Quantity = quantity, BilledQuantity = billed, Lines = lines, Detail = detail,
    };
}
