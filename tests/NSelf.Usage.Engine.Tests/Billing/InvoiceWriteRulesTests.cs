using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 16: the rules every invoice write keeps (periods never overlap, a finalized invoice never
/// changes, a finalization saves only over the seal it was worked out from), without a store.
/// The contract suite proves both stores call them inside the customer's lock.
/// </summary>
public sealed class InvoiceWriteRulesTests
{
    private static BillingInvoice Invoice(string id, int fromDay, int toDay, InvoiceStatus status = InvoiceStatus.Open, long events = 0) => new()
    {
        InvoiceId = id, CustomerId = "cus_a", Status = status, Currency = "USD", Subtotal = 0m, TaxRate = 0m, Tax = 0m, Total = 0m,
        PeriodStart = Clock.Utc(2026, 11, fromDay), PeriodEnd = Clock.Utc(2026, 11, toDay), CreatedAt = Clock.Utc(2026, 11, 1),
        Lines = [new BillingInvoiceLine
        {
            LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "api", Description = "api", Quantity = 0m, Included = 0m, Billable = 0m, Amount = 0m,
            PeriodStart = Clock.Utc(2026, 11, fromDay), PeriodEnd = Clock.Utc(2026, 11, toDay), Events = events,
        }],
    };

    [Fact]
    public void Overlap_IsRefused_WithTheOtherInvoiceNamed_ButNotTheSamePeriodAVoidOneOrANeighbour()
    {
        var draft = Invoice("inv_new", 10, 20, InvoiceStatus.Draft);
        var failure = Assert.Throws<UsageException>(() => InvoiceRules.CheckNoOverlap(draft, [Invoice("inv_before", 1, 10), Invoice("inv_late", 15, 25)]));
        Assert.Equal((ErrorIds.InvoicePeriodOverlap, UsageErrorKind.InvalidOperation), (failure.ErrorId, failure.Kind));
        Assert.Equal(draft.PeriodStart, failure.Target);
        Assert.Equal("Customer 'cus_a' already has invoice inv_late (open) for 2026-11-15 00:00 to 2026-11-25 00:00 UTC, which overlaps 2026-11-10 00:00 to "
            + "2026-11-20 00:00 UTC. Invoice periods never overlap, so no usage is billed twice; late usage for an invoiced period is billed as an adjustment on the next invoice.",
            failure.Message);
        // Touching periods, a void invoice and the period's own invoice are no overlap.
        InvoiceRules.CheckNoOverlap(draft, [Invoice("inv_before", 1, 10), Invoice("inv_after", 20, 30), Invoice("inv_void", 12, 18, InvoiceStatus.Void), Invoice("inv_same", 10, 20)]);
        // Containing and contained periods overlap.
        Assert.Throws<UsageException>(() => InvoiceRules.CheckNoOverlap(draft, [Invoice("inv_outer", 1, 30)]));
        Assert.Throws<UsageException>(() => InvoiceRules.CheckNoOverlap(draft, [Invoice("inv_inner", 11, 12)]));
    }

    [Fact]
    public void ThePeriodsInvoice_IsTheOneNotVoid_AndOnlyADraftIsReplaced_WhenAsked()
    {
        var draft = Invoice("inv_new", 10, 20, InvoiceStatus.Draft);
        Assert.Equal("inv_live", InvoiceRules.OfSamePeriod(draft, [Invoice("inv_void", 10, 20, InvoiceStatus.Void), Invoice("inv_live", 10, 20), Invoice("inv_other", 20, 30)])?.InvoiceId);
        Assert.Null(InvoiceRules.OfSamePeriod(draft, [Invoice("inv_void", 10, 20, InvoiceStatus.Void), Invoice("inv_longer", 10, 21)]));
        Assert.True(InvoiceRules.Replaces(Invoice("inv_draft", 10, 20, InvoiceStatus.Draft), replaceDraft: true));
        Assert.False(InvoiceRules.Replaces(Invoice("inv_draft", 10, 20, InvoiceStatus.Draft), replaceDraft: false));
        foreach (var status in new[] { InvoiceStatus.Open, InvoiceStatus.Paid, InvoiceStatus.Uncollectible })
            Assert.False(InvoiceRules.Replaces(Invoice("inv_final", 10, 20, status), replaceDraft: true));
    }

    [Fact]
    public void AFinalizedInvoice_NeverChanges()
    {
        InvoiceRules.CheckDraft(Invoice("inv_draft", 1, 30, InvoiceStatus.Draft));
        var failure = Assert.Throws<UsageException>(() => InvoiceRules.CheckDraft(Invoice("inv_paid", 1, 30, InvoiceStatus.Paid)));
        Assert.Equal((ErrorIds.InvoiceFinalized, UsageErrorKind.InvalidOperation, "inv_paid"), (failure.ErrorId, failure.Kind, failure.Target));
        Assert.Equal("Invoice 'inv_paid' is already paid; a finalized invoice never changes.", failure.Message);
        var missing = InvoiceRules.NotFound("inv_x");
        Assert.Equal((ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, "inv_x", "Invoice 'inv_x' does not exist."), (missing.ErrorId, missing.Kind, missing.Target, missing.Message));
    }

    [Fact]
    public void AFinalization_SavesOnlyOverItsSeal_AndTheEventsItWasWorkedOutFrom()
    {
        var invoice = Invoice("inv_a", 1, 30, InvoiceStatus.Open, events: 3);
        InvoiceRules.CheckSealStillLast(invoice, new BillingSeal("cus_a", 7, LastFinalized: 5), lastFinalizedNow: 5);
        InvoiceRules.CheckSealStillLast(invoice, new BillingSeal("cus_a", 7, LastFinalized: null), lastFinalizedNow: null);
        foreach (var now in new long?[] { 6, null })
        {
            var failure = Assert.Throws<UsageException>(() => InvoiceRules.CheckSealStillLast(invoice, new BillingSeal("cus_a", 7, LastFinalized: 5), now));
            Assert.Equal((ErrorIds.FinalizationConflict, "inv_a"), (failure.ErrorId, failure.Target));
        }
        Assert.Throws<UsageException>(() => InvoiceRules.CheckSealStillLast(invoice, new BillingSeal("cus_a", 7, LastFinalized: null), 5));
        InvoiceRules.CheckLineEvents(invoice, invoice.Lines[0], 3);
        var conflict = Assert.Throws<UsageException>(() => InvoiceRules.CheckLineEvents(invoice, invoice.Lines[0], 2));
        Assert.Equal(ErrorIds.FinalizationConflict, conflict.ErrorId);
        Assert.StartsWith("Another invoice of customer 'cus_a' was finalized while invoice inv_a was being worked out", conflict.Message, StringComparison.Ordinal);
    }
}
