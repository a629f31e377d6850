using System.Globalization;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// The rules every write of an invoice keeps, written once: invoice periods never overlap, a
/// finalized invoice never changes, and two finalizations of one customer never both bill the same
/// late usage. Invoicing checks them before it works out a draft (so -WhatIf says so too); the
/// store checks them again inside the transaction that holds the customer's lock, over what it
/// reads there: that is what makes two hosts invoicing one customer at once safe.
/// </summary>
internal static class InvoiceRules
{
    /// <summary>
    /// Fails with InvoicePeriodOverlap when another invoice of the customer (not void) overlaps the
    /// draft's period: the same period is not an overlap, it is the invoice the period already has.
    /// </summary>
    public static void CheckNoOverlap(BillingInvoice draft, IEnumerable<BillingInvoice> customerInvoices)
    {
        var overlapping = customerInvoices.FirstOrDefault(other => other.Status != InvoiceStatus.Void
            && other.PeriodStart < draft.PeriodEnd && other.PeriodEnd > draft.PeriodStart && !IsSamePeriod(other, draft));
        if (overlapping is not null)
            throw Overlap(draft, overlapping);
    }

    /// <summary>The invoice (not void) the draft's period already has, if any.</summary>
    public static BillingInvoice? OfSamePeriod(BillingInvoice draft, IEnumerable<BillingInvoice> customerInvoices) =>
        customerInvoices.FirstOrDefault(other => other.Status != InvoiceStatus.Void && IsSamePeriod(other, draft));

    /// <summary>
    /// Whether a new draft replaces the invoice its period already has: only a draft, and only when
    /// asked to; a finalized invoice never changes.
    /// </summary>
    public static bool Replaces(BillingInvoice existing, bool replaceDraft) => existing.Status == InvoiceStatus.Draft && replaceDraft;

    /// <summary>Fails with InvoiceFinalized unless the invoice is still a draft: a finalized invoice never changes.</summary>
    public static void CheckDraft(BillingInvoice invoice)
    {
        if (invoice.Status != InvoiceStatus.Draft)
            throw new UsageException(ErrorIds.InvoiceFinalized, UsageErrorKind.InvalidOperation,
                $"Invoice '{invoice.InvoiceId}' is already {invoice.Status.ToString().ToLowerInvariant()}; a finalized invoice never changes.", invoice.InvoiceId);
    }

    /// <summary>
    /// Fails with FinalizationConflict when another invoice of the customer was finalized since the
    /// seal was given: its adjustments may bill late usage this finalization bills too.
    /// </summary>
    public static void CheckSealStillLast(BillingInvoice finalized, BillingSeal seal, long? lastFinalizedNow)
    {
        if (lastFinalizedNow != seal.LastFinalized)
            throw FinalizationConflict(finalized);
    }

    /// <summary>
    /// Fails with FinalizationConflict when a line's seal range now holds another number of events
    /// than the line was worked out from (a writer that set seals itself): it is worked out again.
    /// </summary>
    public static void CheckLineEvents(BillingInvoice finalized, BillingInvoiceLine line, long eventsInRange)
    {
        if (eventsInRange != line.Events)
            throw FinalizationConflict(finalized);
    }

    /// <summary>
    /// The id a new invoice of a period gets: the period's own id (Invoicing's hash of customer and
    /// period), or when a void invoice holds it, that id with the next free suffix (-2, -3 ...).
    /// </summary>
    public static string FreshId(string periodId, IEnumerable<string> voidIds)
    {
        var taken = voidIds.ToHashSet(StringComparer.Ordinal);
        if (!taken.Contains(periodId))
            return periodId;
        for (var n = 2; ; n++)
        {
            var id = string.Create(CultureInfo.InvariantCulture, $"{periodId}-{n}");
            if (!taken.Contains(id))
                return id;
        }
    }

    public static UsageException NotFound(string invoiceId) =>
        new(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{invoiceId}' does not exist.", invoiceId);

    private static bool IsSamePeriod(BillingInvoice a, BillingInvoice b) => a.PeriodStart == b.PeriodStart && a.PeriodEnd == b.PeriodEnd;

    /// <summary>A draft whose period overlaps another invoice of the customer would bill the same usage twice.</summary>
    private static UsageException Overlap(BillingInvoice draft, BillingInvoice other) =>
        new(ErrorIds.InvoicePeriodOverlap, UsageErrorKind.InvalidOperation,
            string.Create(CultureInfo.InvariantCulture, $"Customer '{draft.CustomerId}' already has invoice {other.InvoiceId} ({other.Status.ToString().ToLowerInvariant()}) for {other.PeriodStart:yyyy-MM-dd HH:mm} to {other.PeriodEnd:yyyy-MM-dd HH:mm} UTC, ")
            + string.Create(CultureInfo.InvariantCulture, $"which overlaps {draft.PeriodStart:yyyy-MM-dd HH:mm} to {draft.PeriodEnd:yyyy-MM-dd HH:mm} UTC. Invoice periods never overlap, so no usage is billed twice; ")
            + "late usage for an invoiced period is billed as an adjustment on the next invoice.", draft.PeriodStart);

    /// <summary>Another invoice of the customer was finalized after this finalization sealed its usage.</summary>
    private static UsageException FinalizationConflict(BillingInvoice invoice) =>
        new(ErrorIds.FinalizationConflict, UsageErrorKind.InvalidOperation,
            $"Another invoice of customer '{invoice.CustomerId}' was finalized while invoice {invoice.InvoiceId} was being worked out, again and again; "
            + "nothing was saved. Run Complete-BillingInvoice again when the other finalizations are done.", invoice.InvoiceId);
}
