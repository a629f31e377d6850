using System.Globalization;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 23, item 4: money in the corners, on every store. Partial base fees that must add up to the
/// fee, many sub-cent lines under tax, late usage crossing an allowance or a tier, late storage,
/// late usage between draft and finalization, restored archives, non-UTC zones across DST, yearly
/// cycles and every pricing model end to end. Every amount is a literal worked out by hand in the
/// comment beside it; none is computed by the code under test.
/// </summary>
public abstract partial class UsageStoreContract
{
    private static DateTimeOffset Local(int year, int month, int day, string zone, int hour = 0) =>
        BillingPeriods.AtLocal(new DateTime(year, month, day, hour, 0, 0), TimeZones.Find(zone));

    /// <summary>A USD plan with a monthly fee and, optionally, an api quota of its own.</summary>
    private void CornerPlan(string name, decimal monthly, BillingQuota? api = null, decimal? yearly = null)
    {
        Store.SavePlan(new BillingPlan { Name = name, PriceMonthly = monthly, PriceYearly = yearly ?? monthly * 10, Currency = "USD", IsActive = true, SortOrder = 20 });
        if (api is not null)
            Store.SaveQuota(new BillingQuota
            {
                Plan = name, Service = "api", Limit = api.Limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
                ResetPeriod = api.ResetPeriod, PricingModel = api.PricingModel, OveragePrice = api.OveragePrice, Tiers = api.Tiers,
                PackageSize = api.PackageSize, PackagePrice = api.PackagePrice,
            });
    }

    /// <summary>Subscribes at the anchor, with the clock at the anchor.</summary>
    private void CornerSubscribe(string customer, string plan, DateTimeOffset anchor, BillingCycle cycle = BillingCycle.Monthly, string? zone = null)
    {
        Time.SetUtcNow(anchor);
        Book.Subscribe(customer, plan, cycle, anchor, zone);
    }

    private void Send(string customer, string service, decimal quantity, DateTimeOffset at, string? id = null) =>
        Assert.Equal(1, Store.Ingest(new[] { Event(customer, service, quantity, at, id) }).Inserted);

    private static decimal[] Amounts(string amounts) =>
        amounts.Split(' ').Select(a => decimal.Parse(a, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture)).ToArray();

    private static BillingInvoiceLine Line(BillingInvoice invoice, string service, InvoiceLineKind kind = InvoiceLineKind.Usage) =>
        Assert.Single(invoice.Lines, l => l.Service == service && l.Kind == kind);

    // ---- 1. Adjoining partial base fees add up to the fee exactly --------------------------------

    [SkippableTheory]
    // February 2027 has 28 days = 672 hours; thirds end at +224 h (Feb 10 08:00) and +448 h (Feb 19 16:00).
    // R(29 x 1/3) = R(9.666..) = 9.67, R(29 x 2/3) = R(19.333..) = 19.33: 9.67, 19.33 - 9.67 = 9.66, 29.00 - 19.33 = 9.67.
    [InlineData("starter", 2027, 2, new[] { 224, 448 }, "9.67 9.66 9.67")]
    // November 2026, 30 days = 720 hours, thirds at Nov 11 and Nov 21. R(10/3) = 3.33, R(20/3) = 6.67: 3.33, 3.34, 3.33.
    [InlineData("tenner", 2026, 11, new[] { 240, 480 }, "3.33 3.34 3.33")]
    // December 2026, 31 days = 744 hours, thirds at +248 h (Dec 11 08:00) and +496 h: the same 3.33, 3.34, 3.33.
    [InlineData("tenner", 2026, 12, new[] { 248, 496 }, "3.33 3.34 3.33")]
    // December 2026 in thirds of 29.00: 9.67, 9.66, 9.67.
    [InlineData("starter", 2026, 12, new[] { 248, 496 }, "9.67 9.66 9.67")]
    // February 2027 in sevenths (4 days each). Cumulative 10 x k/7: 1.428571 -> 1.43, 2.857143 -> 2.86, 4.285714 -> 4.29,
    // 5.714286 -> 5.71, 7.142857 -> 7.14, 8.571429 -> 8.57, 10.00. Differences: 1.43 1.43 1.43 1.42 1.43 1.43 1.43.
    // (Largest remainder: seven shares of 1.428571, floors 1.42 x 7 = 9.94, six cents to six of the seven tied parts.)
    [InlineData("tenner", 2027, 2, new[] { 96, 192, 288, 384, 480, 576 }, "1.43 1.43 1.43 1.42 1.43 1.43 1.43")]
    // 29.00 in sevenths: 29k/7 = 4.142857 -> 4.14, 8.285714 -> 8.29, 12.428571 -> 12.43, 16.571429 -> 16.57,
    // 20.714286 -> 20.71, 24.857143 -> 24.86, 29.00. Differences: 4.14 4.15 4.14 4.14 4.14 4.15 4.14 (two cents, as
    // largest remainder gives: floors 4.14 x 7 = 28.98).
    [InlineData("starter", 2027, 2, new[] { 96, 192, 288, 384, 480, 576 }, "4.14 4.15 4.14 4.14 4.14 4.15 4.14")]
    // December 2026 in seven unequal parts, cut on Dec 3, 8, 12, 17, 22 and 27 (days elapsed 2, 7, 11, 16, 21, 26, 31).
    // 29 x 2/31 = 1.870968 -> 1.87; x 7/31 = 6.548387 -> 6.55; x 11/31 = 10.290323 -> 10.29; x 16/31 = 14.967742 -> 14.97;
    // x 21/31 = 19.645161 -> 19.65; x 26/31 = 24.322581 -> 24.32. Parts: 1.87 4.68 3.74 4.68 4.68 4.67 4.68; each the
    // floor or ceiling of its exact share (1.8710, 4.6774, 3.7419, 4.6774 x 4), and 29.00 in all.
    [InlineData("starter", 2026, 12, new[] { 48, 168, 264, 384, 504, 624 }, "1.87 4.68 3.74 4.68 4.68 4.67 4.68")]
    public void BaseFee_InAdjoiningParts_AddsUpToTheFeeExactly(string plan, int year, int month, int[] cutHours, string expected)
    {
        CornerPlan("tenner", 10m);
        var start = Clock.Utc(year, month, 1);
        var end = start.AddMonths(1);
        CornerSubscribe("cus_parts", plan, start);
        Time.SetUtcNow(end.AddDays(1));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var cuts = new[] { start }.Concat(cutHours.Select(h => start.AddHours(h))).Append(end).ToList();
        var fees = cuts.Zip(cuts.Skip(1)).Select(p => invoicing.Create("cus_parts", p.First, p.Second, TimeZoneInfo.Utc, false).Invoice)
            .Select(i => Assert.Single(i.Lines, l => l.Kind == InvoiceLineKind.BaseFee).Amount).ToList();
        var amounts = Amounts(expected);
        Assert.Equal(amounts, fees);
        Assert.Equal(plan == "starter" ? 29.00m : 10.00m, fees.Sum());
    }

    // ---- 2. Many sub-cent lines under tax: the rounding order shows --------------------------------

    [SkippableFact]
    public void Invoice_OfManySubCentLines_RoundsEachLine_ThenTaxesTheRoundedSubtotal()
    {
        // Plan "cents": no fee (its base-fee line is 0.00), no quotas, so every service is priced at its display price with nothing
        // included. Six lines of exactly half a cent each, every one rounded half away from zero to 0.01:
        //   api       55 requests x 0.0001  = 0.0055 -> 0.01
        //   storage    5 GB-hours x 0.001   = 0.005  -> 0.01
        //   bandwidth 0.5 GB      x 0.01    = 0.005  -> 0.01
        //   compute   0.1 CPU-h   x 0.05    = 0.005  -> 0.01
        //   database  500 queries x 0.00001 = 0.005  -> 0.01
        //   functions 25          x 0.0002  = 0.005  -> 0.01
        // The order we use (Money, InvoiceBuilder.Build; New-BillingInvoice help, "Rounding and tax" in
        // about_NSelf.Usage): round each line, subtotal = sum of rounded lines = 0.06, tax 10% = R(0.006) = 0.01,
        // total 0.07. Taxing the unrounded sum instead: 0.0305 -> subtotal 0.03, tax R(0.00305) = 0.00, total 0.03;
        // taxing each rounded line: 6 x R(0.001) = 0.00. All three differ, so this test tells them apart.
        CornerPlan("cents", 0m);
        CornerSubscribe("cus_cents", "cents", Clock.Utc(2026, 11, 1));
        Time.SetUtcNow(Clock.Utc(2026, 11, 30));
        foreach (var (service, quantity) in new[] { ("api", 55m), ("storage", 5m), ("bandwidth", 0.5m), ("compute", 0.1m), ("database", 500m), ("functions", 25m) })
            Send("cus_cents", service, quantity, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var invoicing = new Invoicing(Book, taxRate: 10m);
        var draft = invoicing.Create("cus_cents", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { ("api", 0.01m), ("storage", 0.01m), ("bandwidth", 0.01m), ("compute", 0.01m), ("database", 0.01m), ("functions", 0.01m) },
            draft.Lines.Where(l => l.Kind == InvoiceLineKind.Usage).Select(l => (l.Service!, l.Amount)));
        Assert.Equal((0.06m, 0.01m, 0.07m), (draft.Subtotal, draft.Tax, draft.Total));
        var final = invoicing.Complete(draft.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((0.06m, 0.01m, 0.07m), (final.Subtotal, final.Tax, final.Total));
        var stored = Store.GetInvoice(draft.InvoiceId)!;
        Assert.Equal((0.06m, 0.01m, 0.07m, 6), (stored.Subtotal, stored.Tax, stored.Total, stored.Lines.Count(l => l.Amount == 0.01m)));
    }

    // ---- 3. Late usage ---------------------------------------------------------------------------

    /// <summary>Finalizes the invoice of the last closed period (the clock says which).</summary>
    private BillingInvoice FinalizeLastPeriod(Invoicing invoicing, string customer) =>
        invoicing.Complete(invoicing.Create(customer, null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);

    [SkippableFact]
    public void LateUsage_ThatCrossesTheAllowance_BillsOnlyWhatIsBeyondIt()
    {
        // Starter: 100,000 requests included, 0.0001 after. October: 90,000, finalized 29.00 + 0.00.
        // 25,000 more for October arrive in November: 115,000 in all, 15,000 x 0.0001 = 1.50 less the 0.00
        // billed = 1.50; of the 25,000, 10,000 used up the allowance left and 15,000 are billable.
        CornerSubscribe("cus_lx", "starter", Clock.Utc(2026, 10, 1));
        Time.SetUtcNow(Clock.Utc(2026, 10, 20));
        Send("cus_lx", "api", 90_000, Clock.Utc(2026, 10, 10));
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var october = FinalizeLastPeriod(invoicing, "cus_lx");
        Assert.Equal((0.00m, 29.00m), (Line(october, "api").Amount, october.Total));
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Send("cus_lx", "api", 25_000, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = invoicing.Create("cus_lx", null, null, TimeZoneInfo.Utc, false).Invoice;
        var late = Line(november, "api", InvoiceLineKind.Adjustment);
        Assert.Equal((25_000m, 10_000m, 15_000m, 1.50m), (late.Quantity, late.Included, late.Billable, late.Amount));
        Assert.Equal((Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)), (late.PeriodStart, late.PeriodEnd));
        Assert.Equal(30.50m, november.Total);
    }

    [SkippableFact]
    public void LateUsage_ThatCrossesAGraduatedTier_PricesEachTierAndTheFlatFeeOnce()
    {
        // Graduated, nothing included: the first 10 at 1.00, beyond at 0.50 plus a flat 5.00.
        // October: 8 = 8.00, finalized. Late 6: 14 = 10 x 1.00 + 4 x 0.50 + 5.00 = 17.00, less 8.00 = 9.00,
        // in tiers: 2 finishing the first (2.00) and 4 in the second (2.00 + 5.00 = 7.00).
        // Late 1 more: 15 = 10.00 + 2.50 + 5.00 = 17.50, less the 17.00 billed = 0.50 (the flat fee not again).
        CornerPlan("grad", 0m, Api(0, PricingModel.Graduated, tiers: new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.5m, FlatFee = 5m } }));
        CornerSubscribe("cus_lg", "grad", Clock.Utc(2026, 10, 1));
        Time.SetUtcNow(Clock.Utc(2026, 10, 20));
        Send("cus_lg", "api", 8, Clock.Utc(2026, 10, 10));
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        Assert.Equal(8.00m, FinalizeLastPeriod(invoicing, "cus_lg").Total);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Send("cus_lg", "api", 6, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = FinalizeLastPeriod(invoicing, "cus_lg");
        var late = Line(november, "api", InvoiceLineKind.Adjustment);
        Assert.Equal((6m, 9.00m), (late.Quantity, late.Amount));
        Assert.Equal(new[] { (2m, 2.00m), (4m, 7.00m) }, late.Tiers.Select(t => (t.Quantity, t.Amount)));
        Time.SetUtcNow(Clock.Utc(2026, 12, 3));
        Send("cus_lg", "api", 1, Clock.Utc(2026, 10, 25));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = invoicing.Create("cus_lg", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((1m, 0.50m), (Line(december, "api", InvoiceLineKind.Adjustment).Quantity, Line(december, "api", InvoiceLineKind.Adjustment).Amount));
        Assert.Equal(0.50m, december.Total);
    }

    [SkippableFact]
    public void LateUsage_ThatCrossesAVolumeTier_RepricesEveryUnit_AsACreditOrACharge()
    {
        // Volume, nothing included: up to 10 all at 1.00, more than 10 all at 0.80. October: 10 = 10.00.
        // Late 1: 11 x 0.80 = 8.80, less 10.00 billed = -1.20, a credit on November's invoice, whose own
        // 5 requests bill 5.00: total 3.80. Late 4 more: 15 x 0.80 = 12.00, less 10.00 - 1.20 = 8.80 billed: 3.20.
        CornerPlan("vol", 0m, Api(0, PricingModel.Volume, tiers: new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.8m } }));
        CornerSubscribe("cus_lv", "vol", Clock.Utc(2026, 10, 1));
        Time.SetUtcNow(Clock.Utc(2026, 10, 20));
        Send("cus_lv", "api", 10, Clock.Utc(2026, 10, 10));
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        Assert.Equal(10.00m, FinalizeLastPeriod(invoicing, "cus_lv").Total);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Send("cus_lv", "api", 1, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Send("cus_lv", "api", 5, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = FinalizeLastPeriod(invoicing, "cus_lv");
        Assert.Equal((5.00m, -1.20m, 3.80m), (Line(november, "api").Amount, Line(november, "api", InvoiceLineKind.Adjustment).Amount, november.Total));
        Time.SetUtcNow(Clock.Utc(2026, 12, 3));
        Send("cus_lv", "api", 4, Clock.Utc(2026, 10, 21));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = invoicing.Create("cus_lv", null, null, TimeZoneInfo.Utc, false).Invoice;
        var late = Line(december, "api", InvoiceLineKind.Adjustment);
        Assert.Equal((4m, 3.20m, 0.80m, Clock.Utc(2026, 10, 1)), (late.Quantity, late.Amount, late.UnitPrice, late.PeriodStart));
    }

    [SkippableFact]
    public void LateStorage_IsAveragedOverItsOwnPeriodsHours()
    {
        // Starter: 10 GB included, 0.10 a GB over, averaged over the period's hours. November: 720 hours.
        // 8,640 GB-hours = 12 GB average: 2 GB over, 0.20. Late 1,000 GB-hours for November: 9,640 / 720 =
        // 13.388889 GB, 3.388889 over = 0.338889 -> 0.34, less 0.20 = 0.14; the line shows 1,000 / 720 =
        // 1.388889 GB. (Averaged over December's 744 hours it would be R(0.2957) - 0.20 = 0.10.)
        CornerSubscribe("cus_ls", "starter", Clock.Utc(2026, 11, 1));
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Send("cus_ls", "storage", 8_640, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        Assert.Equal(0.20m, Line(FinalizeLastPeriod(invoicing, "cus_ls"), "storage").Amount);
        Time.SetUtcNow(Clock.Utc(2026, 12, 3));
        Send("cus_ls", "storage", 1_000, Clock.Utc(2026, 11, 20));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var late = Line(invoicing.Create("cus_ls", null, null, TimeZoneInfo.Utc, false).Invoice, "storage", InvoiceLineKind.Adjustment);
        Assert.Equal((1.388889m, 1.388889m, 0.14m, "GB (average over the period)"), (late.Quantity, late.Billable, late.Amount, late.Unit));
    }

    [SkippableFact]
    public void UsageArrivingBetweenDraftAndFinalization_IsOnTheFinalizedInvoice_NotAnAdjustment()
    {
        // Starter. October: 150,000 requests, the draft bills 29.00 + 50,000 x 0.0001 = 34.00. 10,000 more for
        // October arrive before it is finalized: the final invoice bills 160,000, 6.00, 35.00, and 16 events;
        // November's invoice has no adjustment (29.00).
        CornerSubscribe("cus_dr", "starter", Clock.Utc(2026, 10, 1));
        Time.SetUtcNow(Clock.Utc(2026, 10, 31));
        for (var i = 0; i < 15; i++)
            Send("cus_dr", "api", 10_000, Clock.Utc(2026, 10, 10).AddMinutes(i));
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var draft = invoicing.Create("cus_dr", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((5.00m, 15L, 34.00m), (Line(draft, "api").Amount, Line(draft, "api").Events, draft.Total));
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Send("cus_dr", "api", 10_000, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 11, 4));
        var final = invoicing.Complete(draft.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((160_000m, 6.00m, 16L, 35.00m), (Line(final, "api").Quantity, Line(final, "api").Amount, Line(final, "api").Events, final.Total));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = invoicing.Create("cus_dr", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.DoesNotContain(november.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal(29.00m, november.Total);
    }

    [SkippableFact]
    public void RestoredArchiveEvents_AreNeverBilledTwice_AndLateUsageBesideThemIsPricedOverThem()
    {
        // Starter. October: 15 events of 10,000 requests: 29.00 + 5.00, finalized. October is then archived
        // (Move-UsageRecord) and all 15 events are sent again (restored). Then 10,000 more October requests
        // arrive late. November's invoice: one adjustment, for the late event only: 160,000 - 100,000 = 60,000
        // x 0.0001 = 6.00 less the 5.00 billed = 1.00 (billing the restored events again would add 15.00).
        CornerSubscribe("cus_ra", "starter", Clock.Utc(2026, 10, 1));
        Time.SetUtcNow(Clock.Utc(2026, 10, 31));
        var october = Enumerable.Range(0, 15).Select(i => Event("cus_ra", "api", 10_000, Clock.Utc(2026, 10, 10).AddMinutes(i), $"oct-{i}")).ToList();
        Assert.Equal(15, Store.Ingest(october).Inserted);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        Assert.Equal(34.00m, FinalizeLastPeriod(invoicing, "cus_ra").Total);

        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Assert.Equal(15L, new UsageArchiver(Store).Archive(new UsageFilter("cus_ra"), Clock.Utc(2026, 11, 1), ScratchFile("corners-october.csv")).Deleted);
        Time.SetUtcNow(Clock.Utc(2026, 11, 4));
        var resent = october.Select(e => Event("cus_ra", "api", 10_000, e.Timestamp, e.EventId)).ToList();
        Assert.Equal(15, Store.Ingest(resent).Inserted);
        Time.SetUtcNow(Clock.Utc(2026, 11, 5));
        Send("cus_ra", "api", 10_000, Clock.Utc(2026, 10, 20), "oct-late");

        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var november = FinalizeLastPeriod(invoicing, "cus_ra");
        var late = Line(november, "api", InvoiceLineKind.Adjustment);
        Assert.Equal((1L, 10_000m, 1.00m), (late.Events, late.Quantity, late.Amount));
        Assert.Equal(30.00m, november.Total);

        // Archived and restored once more after November's invoice: December's bills no October usage.
        Time.SetUtcNow(Clock.Utc(2026, 12, 3));
        new UsageArchiver(Store).Archive(new UsageFilter("cus_ra"), Clock.Utc(2026, 11, 1), ScratchFile("corners-october-2.csv"));
        Time.SetUtcNow(Clock.Utc(2026, 12, 4));
        Assert.Equal(15, Store.Ingest(resent).Inserted);
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = invoicing.Create("cus_ra", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.DoesNotContain(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal(29.00m, december.Total);
    }

    // ---- 4. Zones across DST, yearly cycles, pricing models end to end -----------------------------

    [SkippableFact]
    public void Invoice_InNewYork_InMarch_HasAPeriodOf743Hours_AndLocalEdges()
    {
        // America/New_York, March 2027: from Mar 1 00:00 EST (05:00 UTC) to Apr 1 00:00 EDT (04:00 UTC);
        // clocks go forward on Mar 14, so the period has 31 x 24 - 1 = 743 hours.
        // Storage: 74,300 GB-hours / 743 = 100 GB average, 90 over x 0.10 = 9.00 (over 744 hours: 99.8656 GB, 8.99).
        // Api: 100,000 at Mar 1 05:00 UTC and 7,000 at Mar 31 23:30 EDT are in; 50,000 at Feb 28 23:30 EST and
        // 50,000 at Apr 1 00:00 EDT are not: 107,000, 7,000 over = 0.70 (in UTC months: 150,000, 5.00).
        // Total 29.00 + 0.70 + 9.00 = 38.70.
        const string zone = "America/New_York";
        var start = Local(2027, 3, 1, zone);
        Assert.Equal(Clock.Utc(2027, 3, 1, 5), start);
        CornerSubscribe("cus_ny3", "starter", start, zone: zone);
        Time.SetUtcNow(Clock.Utc(2027, 3, 20));
        Send("cus_ny3", "storage", 74_300, Clock.Utc(2027, 3, 10));
        Send("cus_ny3", "api", 100_000, Clock.Utc(2027, 3, 1, 5));
        Send("cus_ny3", "api", 50_000, Clock.Utc(2027, 3, 1, 4).AddMinutes(30));
        Time.SetUtcNow(Clock.Utc(2027, 4, 2));
        Send("cus_ny3", "api", 7_000, Clock.Utc(2027, 4, 1, 3).AddMinutes(30));
        Send("cus_ny3", "api", 50_000, Clock.Utc(2027, 4, 1, 4));
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_ny3", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2027, 3, 1, 5), Clock.Utc(2027, 4, 1, 4)), (invoice.PeriodStart, invoice.PeriodEnd));
        Assert.Equal((107_000m, 0.70m), (Line(invoice, "api").Quantity, Line(invoice, "api").Amount));
        Assert.Equal((100m, 9.00m), (Line(invoice, "storage").Quantity, Line(invoice, "storage").Amount));
        Assert.Equal(38.70m, invoice.Total);
    }

    [SkippableFact]
    public void BaseFee_OfAPartOfAPeriodAcrossTheSpringDst_IsItsShareOfTheRealHours()
    {
        // New York, March 2027 (743 hours). Split at Mar 16 00:00 EDT (04:00 UTC): the first part has 15 days
        // less the lost hour = 359 hours. R(29 x 359/743) = R(14.012113) = 14.01; the rest 29.00 - 14.01 = 14.99.
        // (Counting local days, 15/31 of 29.00 would be 14.03.) The first line's quantity is 359/743 = 0.483176.
        const string zone = "America/New_York";
        CornerSubscribe("cus_ny_parts", "starter", Local(2027, 3, 1, zone), zone: zone);
        Time.SetUtcNow(Clock.Utc(2027, 4, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var split = Local(2027, 3, 16, zone);
        Assert.Equal(Clock.Utc(2027, 3, 16, 4), split);
        var first = invoicing.Create("cus_ny_parts", Local(2027, 3, 1, zone), split, TimeZoneInfo.Utc, false).Invoice.Lines[0];
        var second = invoicing.Create("cus_ny_parts", split, Local(2027, 4, 1, zone), TimeZoneInfo.Utc, false).Invoice.Lines[0];
        Assert.Equal((0.483176m, 14.01m, 14.99m), (first.Quantity, first.Amount, second.Amount));
    }

    [SkippableFact]
    public void Invoice_InNewYork_InNovember_HasAPeriodOf721Hours()
    {
        // America/New_York, November 2026: clocks go back on Nov 1, so Nov 1 00:00 EDT (04:00 UTC) to Dec 1 00:00 EST
        // (05:00 UTC) is 721 hours. Storage: 72,100 GB-hours / 721 = 100 GB, 90 over = 9.00 (over 720: 100.1389 GB, 9.01).
        // Total 29.00 + 9.00 = 38.00.
        const string zone = "America/New_York";
        CornerSubscribe("cus_ny11", "starter", Local(2026, 11, 1, zone), zone: zone);
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Send("cus_ny11", "storage", 72_100, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_ny11", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 11, 1, 4), Clock.Utc(2026, 12, 1, 5)), (invoice.PeriodStart, invoice.PeriodEnd));
        Assert.Equal((100m, 9.00m, 38.00m), (Line(invoice, "storage").Quantity, Line(invoice, "storage").Amount, invoice.Total));
    }

    [SkippableFact]
    public void Invoice_InBerlin_InOctober_HasAPeriodOf745Hours_AndLocalEdges()
    {
        // Europe/Berlin, October 2026: Oct 1 00:00 CEST (Sep 30 22:00 UTC) to Nov 1 00:00 CET (Oct 31 23:00 UTC);
        // clocks go back on Oct 25: 745 hours. Storage 74,500 GB-hours / 745 = 100 GB: 9.00 (over 744: 9.01).
        // Api: 104,000 at Oct 1 00:30 CEST and 3,000 at Oct 31 23:30 CET are in; 40,000 at Nov 1 00:00 CET is not:
        // 107,000, 0.70 (UTC October would take 43,000, 0.30). Total 29.00 + 0.70 + 9.00 = 38.70.
        const string zone = "Europe/Berlin";
        Assert.Equal(Clock.Utc(2026, 9, 30, 22), Local(2026, 10, 1, zone));
        CornerSubscribe("cus_ber", "starter", Local(2026, 10, 1, zone), zone: zone);
        Time.SetUtcNow(Clock.Utc(2026, 10, 20));
        Send("cus_ber", "storage", 74_500, Clock.Utc(2026, 10, 10));
        Send("cus_ber", "api", 104_000, Clock.Utc(2026, 9, 30, 22).AddMinutes(30));
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        Send("cus_ber", "api", 3_000, Clock.Utc(2026, 10, 31, 22).AddMinutes(30));
        Send("cus_ber", "api", 40_000, Clock.Utc(2026, 10, 31, 23));
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_ber", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 9, 30, 22), Clock.Utc(2026, 10, 31, 23)), (invoice.PeriodStart, invoice.PeriodEnd));
        Assert.Equal((107_000m, 0.70m), (Line(invoice, "api").Quantity, Line(invoice, "api").Amount));
        Assert.Equal((100m, 9.00m, 38.70m), (Line(invoice, "storage").Quantity, Line(invoice, "storage").Amount, invoice.Total));
    }

    [SkippableFact]
    public void DailyAllowance_InNewYork_GivesThe23And25HourDaysOneAllowanceEach()
    {
        // 10 a day free, 1.00 after, days in New York. March 14, 2027 is 23 hours (05:00 UTC to 04:00 UTC Mar 15):
        // 8 at 00:30 EST and 8 at 23:30 EDT (Mar 15 03:30 UTC) are one day, 16: 6.00; 8 at Mar 15 00:30 EDT
        // (04:30 UTC) are the next day: 0. March: 6.00 (24-hour days from midnight would put all 24 in one: 14.00).
        // November 1, 2026 is 25 hours (04:00 UTC to 05:00 UTC Nov 2): 4 at 00:30 EDT and 8 at 23:30 EST (Nov 2
        // 04:30 UTC) are one day, 12: 2.00; 6 at Nov 2 00:30 EST are the next: 0. November: 2.00 (24-hour or UTC
        // days would make 4 | 14: 4.00).
        const string zone = "America/New_York";
        CornerPlan("daily", 0m, Api(10, overage: 1m, reset: QuotaResetPeriod.Daily));
        CornerSubscribe("cus_d11", "daily", Local(2026, 11, 1, zone), zone: zone);
        CornerSubscribe("cus_d3", "daily", Local(2027, 3, 1, zone), zone: zone);
        Time.SetUtcNow(Clock.Utc(2027, 4, 2));
        Send("cus_d3", "api", 8, Clock.Utc(2027, 3, 14, 5).AddMinutes(30));
        Send("cus_d3", "api", 8, Clock.Utc(2027, 3, 15, 3).AddMinutes(30));
        Send("cus_d3", "api", 8, Clock.Utc(2027, 3, 15, 4).AddMinutes(30));
        Send("cus_d11", "api", 4, Clock.Utc(2026, 11, 1, 4).AddMinutes(30));
        Send("cus_d11", "api", 8, Clock.Utc(2026, 11, 2, 4).AddMinutes(30));
        Send("cus_d11", "api", 6, Clock.Utc(2026, 11, 2, 5).AddMinutes(30));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var march = Line(invoicing.Create("cus_d3", Local(2027, 3, 1, zone), Local(2027, 4, 1, zone), TimeZoneInfo.Utc, false).Invoice, "api");
        var november = Line(invoicing.Create("cus_d11", Local(2026, 11, 1, zone), Local(2026, 12, 1, zone), TimeZoneInfo.Utc, false).Invoice, "api");
        Assert.Equal((24m, 6m, 6.00m), (march.Quantity, march.Billable, march.Amount));
        Assert.Equal((18m, 2m, 2.00m), (november.Quantity, november.Billable, november.Amount));
    }

    [SkippableFact]
    public void Invoice_OfAYearlyCycle_PaysTheYearlyFee_WithTheAllowanceOnceAYear()
    {
        // Starter yearly, 290.00, from 2026-01-01 UTC: the period is the year, 8,760 hours. The api allowance
        // (100,000, reset with the billing period) is given once for the year: 1,200,000 used, 1,100,000 x 0.0001
        // = 110.00 (a monthly allowance would bill 0). Storage 876,000 GB-hours / 8,760 = 100 GB: 9.00.
        // Total 290.00 + 110.00 + 9.00 = 409.00; with 8.25% tax: R(33.7425) = 33.74, 442.74.
        CornerSubscribe("cus_year", "starter", Clock.Utc(2026, 1, 1), BillingCycle.Yearly);
        Time.SetUtcNow(Clock.Utc(2026, 12, 30));
        for (var month = 1; month <= 12; month++)
            Send("cus_year", "api", 100_000, Clock.Utc(2026, month, 10));
        Send("cus_year", "storage", 876_000, Clock.Utc(2026, 6, 10));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var invoicing = new Invoicing(Book, taxRate: 8.25m);
        var invoice = invoicing.Complete(invoicing.Create("cus_year", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((Clock.Utc(2026, 1, 1), Clock.Utc(2027, 1, 1)), (invoice.PeriodStart, invoice.PeriodEnd));
        Assert.Equal(new[] { (InvoiceLineKind.BaseFee, 290.00m), (InvoiceLineKind.Usage, 110.00m), (InvoiceLineKind.Usage, 9.00m) },
            invoice.Lines.Select(l => (l.Kind, l.Amount)));
        Assert.Equal((409.00m, 33.74m, 442.74m), (invoice.Subtotal, invoice.Tax, invoice.Total));
    }

    [SkippableFact]
    public void Invoice_OfAYearlyCycle_InTwoParts_AddsUpToTheYear()
    {
        // Starter yearly from 2026-01-01; split on July 1 (181 of 365 days). Base fee: R(290 x 181/365) =
        // R(143.808219) = 143.81, then 290.00 - 143.81 = 146.19. Api: 60,000 in February, 60,000 in September:
        // the first part is within the year's allowance (0.00), the second bills 120,000 - 100,000 = 2.00.
        CornerSubscribe("cus_year2", "starter", Clock.Utc(2026, 1, 1), BillingCycle.Yearly);
        Time.SetUtcNow(Clock.Utc(2026, 12, 30));
        Send("cus_year2", "api", 60_000, Clock.Utc(2026, 2, 10));
        Send("cus_year2", "api", 60_000, Clock.Utc(2026, 9, 10));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var first = invoicing.Create("cus_year2", Clock.Utc(2026, 1, 1), Clock.Utc(2026, 7, 1), TimeZoneInfo.Utc, false).Invoice;
        var second = invoicing.Create("cus_year2", Clock.Utc(2026, 7, 1), Clock.Utc(2027, 1, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { 143.81m, 0.00m }, first.Lines.Select(l => l.Amount));
        Assert.Equal(new[] { 146.19m, 2.00m }, second.Lines.Select(l => l.Amount));
        Assert.Equal(292.00m, first.Total + second.Total);
    }

    [SkippableTheory]
    // Plans with a 10.00 fee and 1,000 requests included; 151,234 used in November: 150,234 billable. Tax 8.25%.
    // Graduated (up to 10,000 at 0.001; up to 100,000 at 0.0005 plus 2.00; beyond at 0.0001):
    //   10,000 x 0.001 = 10.00; 90,000 x 0.0005 + 2.00 = 47.00; 50,234 x 0.0001 = 5.0234; 62.0234 -> 62.02.
    //   Subtotal 72.02, tax R(5.941650) = 5.94, total 77.96.
    // Volume (the same tiers, all units at the tier the total reaches): 150,234 x 0.0001 = 15.0234 -> 15.02.
    //   Subtotal 25.02, tax R(2.064150) = 2.06, total 27.08.
    // Package (1,000 for 0.75, a started package whole): 151 packages x 0.75 = 113.25.
    //   Subtotal 123.25, tax R(10.168125) = 10.17, total 133.42.
    [InlineData(PricingModel.Graduated, "62.02 72.02 5.94 77.96")]
    [InlineData(PricingModel.Volume, "15.02 25.02 2.06 27.08")]
    [InlineData(PricingModel.Package, "113.25 123.25 10.17 133.42")]
    public void Invoice_UnderEachPricingModel_EndToEnd_WithTax(PricingModel model, string expected)
    {
        var tiers = new[]
        {
            new PriceTier { UpTo = 10_000, UnitPrice = 0.001m }, new PriceTier { UpTo = 100_000, UnitPrice = 0.0005m, FlatFee = 2m }, new PriceTier { UnitPrice = 0.0001m },
        };
        CornerPlan("models", 10m, model == PricingModel.Package
            ? Api(1_000, PricingModel.Package, packageSize: 1_000, packagePrice: 0.75m)
            : Api(1_000, model, tiers: tiers));
        CornerSubscribe("cus_model", "models", Clock.Utc(2026, 11, 1));
        Time.SetUtcNow(Clock.Utc(2026, 11, 30));
        Send("cus_model", "api", 100_000, Clock.Utc(2026, 11, 5));
        Send("cus_model", "api", 51_234, Clock.Utc(2026, 11, 25));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var invoicing = new Invoicing(Book, taxRate: 8.25m);
        var invoice = invoicing.Complete(invoicing.Create("cus_model", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        var api = Line(invoice, "api");
        Assert.Equal((151_234m, 1_000m, 150_234m), (api.Quantity, api.Included, api.Billable));
        Assert.Equal(Amounts(expected), new[] { api.Amount, invoice.Subtotal, invoice.Tax, invoice.Total });
        if (model == PricingModel.Graduated)
            Assert.Equal(new[] { (10_000m, 10.00m), (90_000m, 47.00m), (50_234m, 5.0234m) }, api.Tiers.Select(t => (t.Quantity, t.Amount)));
        Assert.Equal(invoice.Total, Store.GetInvoice(invoice.InvoiceId)!.Total);
    }
}
