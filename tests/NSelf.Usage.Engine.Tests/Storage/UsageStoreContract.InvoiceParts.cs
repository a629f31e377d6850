using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 24: the invoice builder's rules that only a store shows, on every store: which period an
/// invoice covers by default, what a draft and a finalized invoice carry, which services get a
/// line, and late usage of a period finalized in parts, priced over everything already billed of
/// that period (by the parts, and by this invoice's own earlier adjustments), never over another
/// service's lines or another period's. Every amount is worked out by hand in the comment beside it.
/// </summary>
public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void DefaultPeriod_OfACustomerWithNoSubscription_IsRefused_NamingTheCustomerAndWhatToGive()
    {
        Store.AddCustomer("cus_nosub", new CustomerChange());
        var error = Assert.Throws<UsageException>(() => new InvoiceBuilder(Book, 0).DefaultPeriod("cus_nosub"));
        Assert.Equal((ErrorIds.NoBillingPeriod, UsageErrorKind.InvalidArgument, (object?)"cus_nosub"), (error.ErrorId, error.Kind, error.Target));
        Assert.Equal("Customer 'cus_nosub' has no subscription, so it has no billing period to invoice. Give -Start and -End.", error.Message);
    }

    [SkippableFact]
    public void DefaultPeriod_AfterTwoEndedSubscriptions_IsTheLastPartOfTheOneThatEndedLast()
    {
        // Starter from September 1, canceled September 20; pro from October 1, canceled October 10.
        // The default invoice is the last part of the later one, October 1 to 10 (not September 1 to 20).
        Time.SetUtcNow(Clock.Utc(2026, 9, 1));
        Book.Subscribe("cus_twice", "starter", BillingCycle.Monthly, Clock.Utc(2026, 9, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 9, 20));
        Book.Cancel("cus_twice", atPeriodEnd: false);
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_twice", "pro", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 10, 10));
        Book.Cancel("cus_twice", atPeriodEnd: false);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        Assert.Equal((Clock.Utc(2026, 10, 1), Clock.Utc(2026, 10, 10)), new InvoiceBuilder(Book, 0).DefaultPeriod("cus_twice"));
    }

    [SkippableFact]
    public void Build_ADraftIsNeitherFinalizedNorDue_AFinalizedInvoiceIsDueThirtyDaysAfterIt()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_due", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 3, 8, 15));
        var builder = new InvoiceBuilder(Book, 0);
        var terms = Book.TermsOver("cus_due", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc);
        var draft = builder.Build(terms, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), SealRange.Open, InvoiceStatus.Draft).Invoice;
        Assert.Equal((InvoiceStatus.Draft, Clock.Utc(2026, 12, 3, 8, 15), (DateTimeOffset?)null, (DateTimeOffset?)null), (draft.Status, draft.CreatedAt, draft.FinalizedAt, draft.DueDate));
        var open = builder.Build(terms, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), SealRange.Open, InvoiceStatus.Open).Invoice;
        Assert.Equal((InvoiceStatus.Open, (DateTimeOffset?)Clock.Utc(2026, 12, 3, 8, 15), (DateTimeOffset?)Clock.Utc(2027, 1, 2, 8, 15)), (open.Status, open.FinalizedAt, open.DueDate));
        // The starter fee, whole: 29.00.
        Assert.Equal(29.00m, open.Total);
    }

    [SkippableFact]
    public void Build_OfAPeriodEndingBeforeItStarts_IsRefused()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_backwards", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        var terms = Book.TermsOver("cus_backwards", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc);
        var error = Assert.Throws<UsageException>(() => new InvoiceBuilder(Book, 0).Build(terms, Clock.Utc(2026, 12, 1), Clock.Utc(2026, 11, 1), SealRange.Open, InvoiceStatus.Draft));
        Assert.Equal(ErrorIds.InvalidDateRange, error.ErrorId);
    }

    [SkippableFact]
    public void Finalization_AServiceWhoseEventsAllCameAfterTheSeal_HasNoLine_UntilALaterInvoice()
    {
        // 100 requests before the seal (1.00 at 0.01); 7 GB of bandwidth stored by another host
        // after the seal: the finalized invoice bills api only, no bandwidth line of 0 events.
        var invoicing = MeteredPlan("cus_after_seal", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_after_seal", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var draft = invoicing.Create("cus_after_seal", null, null, TimeZoneInfo.Utc, false).Invoice;
        var seal = Store.SealUsage("cus_after_seal");
        Use("cus_after_seal", "bandwidth", 7, Clock.Utc(2026, 11, 12));
        var final = new InvoiceBuilder(Book, 0).Build(Book.TermsOver("cus_after_seal", draft.PeriodStart, draft.PeriodEnd, TimeZoneInfo.Utc),
            draft.PeriodStart, draft.PeriodEnd, seal.Seal, InvoiceStatus.Open).Invoice;
        Assert.Equal(new[] { ("api", 1L, 1.00m) }, final.Lines.Where(l => l.Kind == InvoiceLineKind.Usage).Select(l => (l.Service!, l.Events, l.Amount)));
        Assert.Equal(1.00m, final.Total);
    }

    [SkippableFact]
    public void LateUsage_OfAPeriodFinalizedInTwoParts_IsPricedOverBothParts_AndThisInvoicesEarlierAdjustment_NotOverAnotherServicesLines()
    {
        // Plan "metered": 10 requests free a month, then 1.00 each; bandwidth has no quota on it, so 0.01 a GB.
        var invoicing = MeteredPlan("cus_two_parts", Api(10, overage: 1m));
        // Part 1, November 1-16, finalized November 16: 5 requests (free) and 100 GB (1.00).
        Time.SetUtcNow(Clock.Utc(2026, 11, 16));
        Use("cus_two_parts", "api", 5, Clock.Utc(2026, 11, 5));
        Use("cus_two_parts", "bandwidth", 100, Clock.Utc(2026, 11, 6));
        var part1 = invoicing.Complete(invoicing.Create("cus_two_parts", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(new[] { ("api", 0.00m), ("bandwidth", 1.00m) }, part1.Lines.Where(l => l.Kind == InvoiceLineKind.Usage).Select(l => (l.Service!, l.Amount)));
        // Part 2, November 16 - December 1, finalized December 1: 3 requests, 8 in the month, still free.
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        Use("cus_two_parts", "api", 3, Clock.Utc(2026, 11, 20));
        var part2 = invoicing.Complete(invoicing.Create("cus_two_parts", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(0.00m, part2.Total);

        // Late: 4 requests of November 5 and 4 of November 20; and 2 of December 3.
        Time.SetUtcNow(Clock.Utc(2026, 12, 4));
        Use("cus_two_parts", "api", 4, Clock.Utc(2026, 11, 5));
        Use("cus_two_parts", "api", 4, Clock.Utc(2026, 11, 20));
        Use("cus_two_parts", "api", 2, Clock.Utc(2026, 12, 3));
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Complete(invoicing.Create("cus_two_parts", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        // December's own 2 requests are free (0.00). Part 1's late 4: November billed 8 for 0.00 (the
        // bandwidth line's 1.00 is another service's), 12 cost 2.00: 2.00 - 0.00 = 2.00.
        // Part 2's late 4: billed 8 + part 1's late 4 = 12 for 2.00 (this invoice's first adjustment),
        // 16 cost 6.00: 6.00 - 2.00 = 4.00. In all 6.00: what November's 16 requests cost (16 - 10).
        Assert.Equal(new[]
        {
            (InvoiceLineKind.Usage, 2m, 0.00m, Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)),
            (InvoiceLineKind.Adjustment, 4m, 2.00m, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16)),
            (InvoiceLineKind.Adjustment, 4m, 4.00m, Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1)),
        }, december.Lines.Where(l => l.Service == "api").Select(l => (l.Kind, l.Quantity, l.Amount, l.PeriodStart, l.PeriodEnd)));
        Assert.Equal($"Late api usage for 2026-11-01 to 2026-11-16 (invoice {part1.InvoiceId}): 4 requests",
            december.Lines.First(l => l.Kind == InvoiceLineKind.Adjustment).Description);
        Assert.Equal(6.00m, december.Total);

        // 15 requests of December 10 arrive after December was finalized. January bills them once:
        // December billed 2 for 0.00; 17 cost 7.00. November's late requests are billed already, and
        // November's second part, whose line ends where December starts, is no part of December.
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        Use("cus_two_parts", "api", 15, Clock.Utc(2026, 12, 10));
        Time.SetUtcNow(Clock.Utc(2027, 2, 1, 12));
        var january = invoicing.Create("cus_two_parts", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { (15m, 7.00m, Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)) },
            january.Lines.Where(l => l.Kind == InvoiceLineKind.Adjustment).Select(l => (l.Quantity, l.Amount, l.PeriodStart, l.PeriodEnd)));
        Assert.Equal(7.00m, january.Total);
    }
    [SkippableFact]
    public void Preview_OfAFinalizedPeriod_ShowsItsLateUsageOnItsOwnLine_NotAgainAsAnAdjustment()
    {
        // November finalized with 100 requests (1.00 at 0.01); 50 more of November arrive late.
        // What New-BillingInvoice -WhatIf shows for November: one line of all 150 (1.50), and no
        // adjustment billing the 50 a second time for November's own finalized invoice.
        var invoicing = MeteredPlan("cus_preview", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_preview", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        invoicing.Complete(invoicing.Create("cus_preview", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_preview", "api", 50, Clock.Utc(2026, 11, 20));
        var preview = invoicing.Preview("cus_preview", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc).Invoice;
        Assert.Equal(new[] { (InvoiceLineKind.Usage, 150m, 1.50m) }, preview.Lines.Where(l => l.Service == "api").Select(l => (l.Kind, l.Quantity, l.Amount)));
    }

    [SkippableFact]
    public void LateUsage_OfAPeriodWhoseInvoiceWasVoided_IsNoAdjustment_ForAVoidInvoiceBilledNothing()
    {
        // November finalized (100 requests, 1.00), then voided by nself's tools; 50 more of November
        // arrive late. December's invoice bills no adjustment for November: nothing of it stands billed.
        var invoicing = MeteredPlan("cus_void", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 11));
        Use("cus_void", "api", 100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create("cus_void", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        ExecuteSql($"UPDATE billing_invoices SET status = 'void' WHERE invoice_id = '{november.InvoiceId}'");
        Assert.Equal(InvoiceStatus.Void, Store.GetInvoice(november.InvoiceId)!.Status);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_void", "api", 50, Clock.Utc(2026, 11, 20));
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var december = invoicing.Create("cus_void", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 12, 1), 0.00m), (december.PeriodStart, december.Total));
        Assert.DoesNotContain(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
    }
    [SkippableFact]
    public void Invoice_ReachingOverAPeriodsEnd_BillsEachPeriodsMargin()
    {
        // November 16 to December 16, one invoice over two billing periods. Metered (10 free a month,
        // then 1.00): 12 on November 20 bill 12 - 10 = 2.00 in November, 13 on December 5 bill
        // 13 - 10 = 3.00 in December: 25 requests, 5 billable, 5.00 (not December's 3.00 alone).
        var invoicing = MeteredPlan("cus_span", Api(10, overage: 1m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 17));
        Use("cus_span", "api", 12, Clock.Utc(2026, 11, 20));
        Use("cus_span", "api", 13, Clock.Utc(2026, 12, 5));
        var line = Line(invoicing.Create("cus_span", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 16), TimeZoneInfo.Utc, false).Invoice, "api");
        Assert.Equal((25m, 5m, 5.00m), (line.Quantity, line.Billable, line.Amount));
    }

    [SkippableFact]
    public void Invoice_OfAWholePeriodOnAnUnlimitedQuota_IncludesAllItsUsage()
    {
        // Enterprise's api quota has no limit: November's 10 + 20 requests are all included (30, not
        // the "no limit" sentinel), none billable, 0.00.
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_unlimited", "enterprise", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_unlimited", "api", 10, Clock.Utc(2026, 11, 5));
        Use("cus_unlimited", "api", 20, Clock.Utc(2026, 11, 20));
        var line = Line(new Invoicing(Book, taxRate: 0).Create("cus_unlimited", null, null, TimeZoneInfo.Utc, false).Invoice, "api");
        Assert.Equal((30m, 30m, 0m, 0.00m), (line.Quantity, line.Included, line.Billable, line.Amount));
    }
    [SkippableFact]
    public void LateUsage_OfAnInvoiceOverTwoPeriods_IsBilledOnce_AndNotAgainOnTheInvoiceAfter()
    {
        // One invoice for November 16 to December 16 (300 requests at 0.01: 3.00), finalized; 50
        // requests of November 25 arrive late. The next invoice (December 16 to January 1) bills them
        // as an adjustment for the piece of November the invoice covered, 0.50; the one after
        // (January) must find that piece billed through that adjustment, and bill nothing of it again.
        var invoicing = MeteredPlan("cus_over", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 17));
        Use("cus_over", "api", 100, Clock.Utc(2026, 11, 20));
        Use("cus_over", "api", 200, Clock.Utc(2026, 12, 5));
        var over = invoicing.Complete(invoicing.Create("cus_over", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 16), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(3.00m, over.Total);
        Time.SetUtcNow(Clock.Utc(2026, 12, 18));
        Use("cus_over", "api", 50, Clock.Utc(2026, 11, 25));
        Time.SetUtcNow(Clock.Utc(2027, 1, 1, 12));
        var next = invoicing.Complete(invoicing.Create("cus_over", Clock.Utc(2026, 12, 16), Clock.Utc(2027, 1, 1), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var adjustment = Assert.Single(next.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((50m, 0.50m, Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1)), (adjustment.Quantity, adjustment.Amount, adjustment.PeriodStart, adjustment.PeriodEnd));

        Time.SetUtcNow(Clock.Utc(2027, 2, 2));
        var january = invoicing.Create("cus_over", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(Clock.Utc(2027, 1, 1), january.PeriodStart);
        Assert.DoesNotContain(january.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal(0.00m, january.Total);
    }
    [SkippableFact]
    public void Invoice_StartingBeforeTheFirstPeriod_BillsThatTimeAsPartOfIt_DayByDay()
    {
        // Subscribed November 1 with 2 requests free a day, then 1.00 each. An invoice from October 20
        // counts October 20-31 as part of the first period: 5 on October 25 bill 5 - 2 = 3.00, 8 on
        // November 10 bill 8 - 2 = 6.00; 9.00 for 13 requests, not November's 6.00 alone.
        var invoicing = MeteredPlan("cus_early", Api(2, overage: 1m, reset: QuotaResetPeriod.Daily));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_early", "api", 5, Clock.Utc(2026, 10, 25));
        Use("cus_early", "api", 8, Clock.Utc(2026, 11, 10));
        var line = Line(invoicing.Create("cus_early", Clock.Utc(2026, 10, 20), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice, "api");
        Assert.Equal((13m, 9m, 9.00m), (line.Quantity, line.Billable, line.Amount));
    }
}
