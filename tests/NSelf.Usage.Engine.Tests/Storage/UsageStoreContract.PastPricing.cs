using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 14, follow-ups of fixes 2 and 5: a past interval costs what its invoice bills (the plan
/// in force then), and late usage is priced over everything already billed for its billing
/// period, so a period's lines add up to the whole period's invoice whatever the order its parts
/// and late usage were billed in. Every amount is worked out by hand beside it.
/// </summary>
public abstract partial class UsageStoreContract
{
    private BillingInvoice Finalize(Invoicing invoicing, string customer, DateTimeOffset? start, DateTimeOffset? end) =>
        invoicing.Complete(invoicing.Create(customer, start, end, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);

    private static decimal ApiAmount(BillingInvoice invoice, InvoiceLineKind kind) =>
        invoice.Lines.Where(l => l.Service == "api" && l.Kind == kind).Sum(l => l.Amount);

    [SkippableFact]
    public void PastCosts_AfterAPlanChange_PriceUnderThePlanInForceThen_AsItsInvoice()
    {
        // Starter from October 1 (100,000 requests included, 0.0001 each after); 120,000 in October:
        // 20,000 x 0.0001 = 2.00. Then, in November, the customer moves to pro (1,000,000 included):
        // October keeps starter, so its costs stay 2.00 (under pro they were 0) and its invoice is 29.00 + 2.00.
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_up", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Use("cus_up", "api", 120_000, Clock.Utc(2026, 10, 20), events: 12);
        Book.ChangePlan("cus_up", "pro");
        var (october, november) = (Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));

        var costs = new Reporting.UsageReports(Store, new PlanCosts(Book, TimeZoneInfo.Utc));
        Assert.Equal(2m, Assert.Single(costs.Summaries(new UsageFilter("cus_up"), october, november)).Cost);
        // Daily buckets (Get-UsageAggregate, the report's daily chart) add up to the same.
        Assert.Equal(2m, costs.Aggregates(new UsageFilter("cus_up"), october, november, UsageInterval.Daily, TimeZoneInfo.Utc).Sum(a => a.Cost));
        Assert.Equal(2m, costs.Breakdown(new UsageFilter("cus_up"), october, november, TimeZoneInfo.Utc).Sum(b => b.Cost));

        var invoice = new Invoicing(Book, taxRate: 0).Preview("cus_up", october, november, TimeZoneInfo.Utc).Invoice;
        Assert.Equal(("starter", 2.00m, 31.00m), (invoice.Plan, ApiAmount(invoice, InvoiceLineKind.Usage), invoice.Total));

        // The report's cost card is that invoice: base fee and usage.
        var html = Report("cus_up", october, november);
        Assert.Equal(("31.00 USD", "29.00 USD base fee + 2.00 USD usage"), (Card(html, "Cost"), Detail(html, "Cost")));
        // November, the period of the change, is priced under pro: the same usage would be free.
        Assert.Equal(0m, costs.Summaries(new UsageFilter("cus_up"), november, Time.GetUtcNow()).Sum(s => s.Cost));
    }

    [SkippableFact]
    public void ReportBaseFee_OfAThirdOfAPeriod_IsTheInvoicesShareToTheCent()
    {
        // Starter, 29.00; November 11 to 21 is the middle third: the invoice bills R(29 x 2/3) - R(29 x 1/3)
        // = 19.33 - 9.67 = 9.66 (not R(29 / 3) = 9.67); the report of the same dates says the same.
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_third", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var (start, end) = (Clock.Utc(2026, 11, 11), Clock.Utc(2026, 11, 21));
        Assert.Equal(9.66m, new Invoicing(Book, taxRate: 0).Preview("cus_third", start, end, TimeZoneInfo.Utc).Invoice.Total);
        var fee = Assert.Single(Exports.UsageReportDocument.Gather(Store, Book, new UsageFilter("cus_third"), start, end, TimeZoneInfo.Utc, Thresholds).BaseFees);
        Assert.Equal(9.66m, fee.Amount);
    }

    /// <summary>November split on the 16th under "metered" (10 free, then the quota's pricing): part 1 finalized with <paramref name="first"/> used on Nov 5.</summary>
    private Invoicing FirstPartFinalized(string customer, BillingQuota api, decimal first)
    {
        var invoicing = MeteredPlan(customer, api);
        Time.SetUtcNow(Clock.Utc(2026, 11, 16));
        Use(customer, "api", first, Clock.Utc(2026, 11, 5));
        Finalize(invoicing, customer, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16));
        return invoicing;
    }

    /// <summary>The api amounts billed for November: parts' usage lines and adjustments on any invoice.</summary>
    private decimal NovemberApiBilled(string customer) =>
        Store.GetInvoices(customer).Where(i => i.Status != InvoiceStatus.Void)
            .SelectMany(i => i.Lines).Where(l => l.Service == "api" && l.PeriodStart >= Clock.Utc(2026, 11, 1) && l.PeriodEnd <= Clock.Utc(2026, 12, 1))
            .Sum(l => l.Amount);

    [SkippableFact]
    public void LateUsage_ForTheFirstPart_AfterTheSecondWasInvoiced_IsPricedOverBothParts()
    {
        // 10 free, 1.00 after. Part 1: 5 (0.00). Part 2: 3 more, 8 in all (0.00). Then 6 for Nov 10
        // arrive late: the period's billed usage is 5 + 3 = 8 (billed 0.00); with the late 6 it is 14,
        // which costs 4.00, so the adjustment is 4.00 - 0.00 = 4.00 and November bills 4.00, as a whole
        // (14 - 10). Priced over part 1 alone (5 + 6 = 11) it billed 1.00.
        var invoicing = FirstPartFinalized("cus_l1", Api(10, overage: 1m), first: 5);
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 1));
        Use("cus_l1", "api", 3, Clock.Utc(2026, 11, 20));
        var second = Finalize(invoicing, "cus_l1", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1));
        Assert.Equal(0.00m, second.Total);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_l1", "api", 6, Clock.Utc(2026, 11, 10));

        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = Finalize(invoicing, "cus_l1", null, null);
        var adjustment = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal((6m, 4.00m, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16)), (adjustment.Quantity, adjustment.Amount, adjustment.PeriodStart, adjustment.PeriodEnd));
        Assert.Equal(4.00m, NovemberApiBilled("cus_l1"));
    }

    [SkippableFact]
    public void LateUsage_ForTheFirstPart_BeforeTheSecondWasInvoiced_AddsUpTheSame()
    {
        // The reverse order: the late 6 arrive before part 2 is invoiced. Part 2 counts them as before
        // it: 11 before, 14 with its 3: 4.00 - 1.00 = 3.00. The adjustment of part 1 (on the next invoice,
        // part 2's own): billed so far 5 for 0.00; with the 6, 11 costs 1.00: 1.00. In all 4.00.
        var invoicing = FirstPartFinalized("cus_l2", Api(10, overage: 1m), first: 5);
        Time.SetUtcNow(Clock.Utc(2026, 11, 17));
        Use("cus_l2", "api", 6, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 1));
        Use("cus_l2", "api", 3, Clock.Utc(2026, 11, 20));
        var second = invoicing.Create("cus_l2", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { (InvoiceLineKind.Usage, 3m, 3.00m), (InvoiceLineKind.Adjustment, 6m, 1.00m) },
            second.Lines.Where(l => l.Service == "api").Select(l => (l.Kind, l.Quantity, l.Amount)));
        Assert.Equal(4.00m, NovemberApiBilled("cus_l2"));
    }

    [SkippableFact]
    public void LateUsage_ForBothParts_OnOneInvoice_EachCountsTheOther()
    {
        // Part 1: 5, part 2: 3, both 0.00. Late: 2 for Nov 10, then 4 for Nov 20. Adjustment of part 1:
        // billed 8 (0.00), 10 with its 2: 0.00. Adjustment of part 2: billed 10 with part 1's, 14 with
        // its 4: 4.00 - 0.00 = 4.00. November in all: 4.00 (14 - 10).
        var invoicing = FirstPartFinalized("cus_l3", Api(10, overage: 1m), first: 5);
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 1));
        Use("cus_l3", "api", 3, Clock.Utc(2026, 11, 20));
        Finalize(invoicing, "cus_l3", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_l3", "api", 4, Clock.Utc(2026, 11, 20));
        Use("cus_l3", "api", 2, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = Finalize(invoicing, "cus_l3", null, null);
        Assert.Equal(new[] { (Clock.Utc(2026, 11, 1), 2m, 0.00m), (Clock.Utc(2026, 11, 16), 4m, 4.00m) },
            december.Lines.Where(l => l.Kind == InvoiceLineKind.Adjustment).Select(l => (l.PeriodStart, l.Quantity, l.Amount)));
        Assert.Equal(4.00m, NovemberApiBilled("cus_l3"));
    }

    [SkippableFact]
    public void LateUsage_UnderVolumePricing_CanBillLess_AndTheWholeStillAddsUp()
    {
        // Volume: up to 10 all at 1.00, more than 10 all at 0.80. Part 1: 5 = 5.00. Part 2: 8 = 8.00,
        // margin 3.00. Late 6 for Nov 10: billed 8 for 8.00; 14 x 0.80 = 11.20: adjustment 3.20, and
        // November bills 11.20, the whole period's price. (Over part 1 alone: 11 x 0.80 - 5.00 = 3.80.)
        var tiers = new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.8m } };
        var invoicing = FirstPartFinalized("cus_l4", Api(0, PricingModel.Volume, tiers: tiers), first: 5);
        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 1));
        Use("cus_l4", "api", 3, Clock.Utc(2026, 11, 20));
        Assert.Equal(3.00m, Finalize(invoicing, "cus_l4", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1)).Total);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_l4", "api", 6, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = Finalize(invoicing, "cus_l4", null, null);
        Assert.Equal(3.20m, Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment).Amount);
        Assert.Equal(11.20m, NovemberApiBilled("cus_l4"));

        // 2 more arrive late for part 2: billed 14 for 11.20 (both parts and the adjustment); 16 x 0.80 = 12.80: 1.60.
        Time.SetUtcNow(Clock.Utc(2027, 1, 3));
        Use("cus_l4", "api", 2, Clock.Utc(2026, 11, 25));
        Time.SetUtcNow(Clock.Utc(2027, 2, 2));
        var january = Finalize(invoicing, "cus_l4", null, null);
        Assert.Equal(1.60m, Assert.Single(january.Lines, l => l.Kind == InvoiceLineKind.Adjustment).Amount);
        Assert.Equal(12.80m, NovemberApiBilled("cus_l4"));
    }

    [SkippableFact]
    public void LateUsage_UnderVolumePricing_CanBeACredit()
    {
        // Volume as above. Part 1: 9 = 9.00; part 2: nothing. Late 2 for Nov 10: 11 x 0.80 = 8.80, billed
        // 9.00: the adjustment is -0.20, as a part adding those 2 would have been.
        var tiers = new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.8m } };
        var invoicing = FirstPartFinalized("cus_l5", Api(0, PricingModel.Volume, tiers: tiers), first: 9);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_l5", "api", 2, Clock.Utc(2026, 11, 10));
        var december = invoicing.Create("cus_l5", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(-0.20m, Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment).Amount);
    }

    [SkippableFact]
    public void LateUsage_OfAPeriodBeforeAPlanChange_IsPricedUnderThatPeriodsPlan()
    {
        // Starter (100,000 included, 0.0001 after). October: 150,000, invoiced 29.00 + 5.00. In November the
        // customer moves to pro, and 10,000 more October requests arrive: October is still starter, so
        // they bill 160,000 - 100,000 = 60,000 x 0.0001 = 6.00 less the 5.00 billed: 1.00 (under pro: 0).
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_pc", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        Use("cus_pc", "api", 150_000, Clock.Utc(2026, 10, 10), events: 15);
        var invoicing = new Invoicing(Book, taxRate: 0);
        Assert.Equal(34.00m, Finalize(invoicing, "cus_pc", null, null).Total);
        Book.ChangePlan("cus_pc", "pro");
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Use("cus_pc", "api", 10_000, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = invoicing.Create("cus_pc", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(("pro", 1.00m, 100.00m), (november.Plan, ApiAmount(november, InvoiceLineKind.Adjustment), november.Total));
    }

    [SkippableFact]
    public void LateUsage_OfAnInvoiceOverTwoPeriods_IsAdjustedInEachPeriodOverItsOwnBilledUsage()
    {
        // Billing periods from the 1st; 10 free a period, 1.00 after. Invoices: Nov 1-16 (5 on Nov 5: 0.00)
        // and Nov 16 - Dec 16 (3 on Nov 20 and 12 on Dec 5: November 8 -> 0.00; December 12 -> 2.00).
        // Late: 6 for Nov 20 and 1 for Dec 6, both in the second invoice's dates. Adjustments, one per
        // billing period: November billed 8 for 0.00, 14 costs 4.00: 4.00; December billed 12 for 2.00, 13
        // costs 3.00: 1.00.
        var invoicing = FirstPartFinalized("cus_l6", Api(10, overage: 1m), first: 5);
        Time.SetUtcNow(Clock.Utc(2026, 12, 16, 1));
        Use("cus_l6", "api", 3, Clock.Utc(2026, 11, 20));
        Use("cus_l6", "api", 12, Clock.Utc(2026, 12, 5));
        var straddling = Finalize(invoicing, "cus_l6", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 16));
        Assert.Equal(2.00m, ApiAmount(straddling, InvoiceLineKind.Usage));
        Time.SetUtcNow(Clock.Utc(2026, 12, 17));
        Use("cus_l6", "api", 6, Clock.Utc(2026, 11, 20));
        Use("cus_l6", "api", 1, Clock.Utc(2026, 12, 6));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var rest = invoicing.Create("cus_l6", Clock.Utc(2026, 12, 16), Clock.Utc(2027, 1, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { (Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), 6m, 4.00m), (Clock.Utc(2026, 12, 1), Clock.Utc(2026, 12, 16), 1m, 1.00m) },
            rest.Lines.Where(l => l.Kind == InvoiceLineKind.Adjustment).Select(l => (l.PeriodStart, l.PeriodEnd, l.Quantity, l.Amount)));
    }
}
