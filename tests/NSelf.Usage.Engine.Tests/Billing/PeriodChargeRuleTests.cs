using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 24: the rules of PeriodCharges an invoice line depends on beyond its amount: windows of
/// a period, what a multi-window charge shows (unit price, tier parts, allowance used up), late
/// usage settling what earlier lines billed, two periods' charges added, and the base fee over
/// dates. Every expected figure is worked out by hand beside it.
/// </summary>
public sealed class PeriodChargeRuleTests
{
    private static BillingQuota Quota(decimal? limit, PricingModel model = PricingModel.PerUnit, decimal overage = 0, PriceTier[]? tiers = null,
        QuotaResetPeriod reset = QuotaResetPeriod.Daily, string service = "api", string limitType = "requests") => new()
    {
        Service = service, Limit = limit, LimitType = limitType, UsageUnit = limitType, Enforcement = QuotaEnforcement.Soft, ResetPeriod = reset,
        PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(),
    };

    // Up to 10 at 1.00; beyond at 0.50 with a 5.00 flat fee.
    private static readonly PriceTier[] TwoTiers = { new() { UpTo = 10, UnitPrice = 1m }, new() { UnitPrice = 0.5m, FlatFee = 5m } };

    private static readonly PeriodCharges.Window[] TwoDays =
    {
        new(Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 2)),
        new(Clock.Utc(2026, 11, 2), Clock.Utc(2026, 11, 3)),
    };

    private static readonly PeriodCharges.Window November = new(Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));

    private static (decimal?, decimal, decimal)[] Parts(PricedUsage p) => p.Tiers.Select(t => (t.UpTo, t.Quantity, t.Amount)).ToArray();

    [Fact]
    public void Windows_OfAMonthlyQuota_IsTheWholePeriod_AndAnEmptyPeriodIsOneEmptyWindow()
    {
        var (start, end) = (Clock.Utc(2026, 11, 4, 11), Clock.Utc(2026, 11, 18, 11));
        Assert.Equal(new[] { new PeriodCharges.Window(start, end) }, PeriodCharges.Windows(QuotaResetPeriod.Monthly, start, end, TimeZoneInfo.Utc));
        // A daily quota over no time still has its one window, so the usage list has a place to go.
        Assert.Equal(new[] { new PeriodCharges.Window(start, start) }, PeriodCharges.Windows(QuotaResetPeriod.Daily, start, start, TimeZoneInfo.Utc));
    }

    [Fact]
    public void Windows_OfAWeeklyQuota_StartingMidWeek_EndAtTheNextLocalMonday()
    {
        // Berlin is UTC+1 in November. A period from Wednesday Nov 4 11:00Z to Wednesday Nov 18 11:00Z: the first
        // week ends Monday Nov 9 00:00 local = Nov 8 23:00Z, the next Monday Nov 16 00:00 local = Nov 15 23:00Z.
        var zone = NSelf.Usage.Engine.Time.TimeZones.Find("Europe/Berlin");
        var windows = PeriodCharges.Windows(QuotaResetPeriod.Weekly, Clock.Utc(2026, 11, 4, 11), Clock.Utc(2026, 11, 18, 11), zone);
        Assert.Equal(new[]
        {
            new PeriodCharges.Window(Clock.Utc(2026, 11, 4, 11), Clock.Utc(2026, 11, 8, 23)),
            new PeriodCharges.Window(Clock.Utc(2026, 11, 8, 23), Clock.Utc(2026, 11, 15, 23)),
            new PeriodCharges.Window(Clock.Utc(2026, 11, 15, 23), Clock.Utc(2026, 11, 18, 11)),
        }, windows);
    }

    [Fact]
    public void Windows_OfADailyQuota_FollowTheLocalDay_NotTheUtcDate()
    {
        // Nov 8 23:30Z is already Monday Nov 9 00:30 in Berlin: its day ends Nov 9 23:00Z.
        var zone = NSelf.Usage.Engine.Time.TimeZones.Find("Europe/Berlin");
        var windows = PeriodCharges.Windows(QuotaResetPeriod.Daily, Clock.Utc(2026, 11, 8, 23, 30), Clock.Utc(2026, 11, 10, 12), zone);
        Assert.Equal(new[]
        {
            new PeriodCharges.Window(Clock.Utc(2026, 11, 8, 23, 30), Clock.Utc(2026, 11, 9, 23)),
            new PeriodCharges.Window(Clock.Utc(2026, 11, 9, 23), Clock.Utc(2026, 11, 10, 12)),
        }, windows);
    }

    [Fact]
    public void Whole_OverDailyWindows_SumsEachWindowsFigures()
    {
        // 10 free a day, 0.50 after. Day 1: 14 used, 4 billable, 2.00; day 2: 7 used, nothing billable.
        var priced = PeriodCharges.Whole(Quota(10, overage: 0.5m), "api", TwoDays, new[] { 14m, 7m });
        Assert.Equal((21m, 20m, 4m, 2m, (decimal?)0.5m), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
    }

    [Fact]
    public void Whole_PerUnitWithNothingBillable_StillShowsTheOveragePrice_OtherModelsShowNone()
    {
        // Per unit: the line says what a unit beyond the allowance would cost. Graduated has no single price.
        Assert.Equal(0.5m, PeriodCharges.Whole(Quota(10, overage: 0.5m), "api", TwoDays, new[] { 3m, 4m }).UnitPrice);
        Assert.Null(PeriodCharges.Whole(Quota(10, PricingModel.Graduated, tiers: TwoTiers), "api", TwoDays, new[] { 3m, 4m }).UnitPrice);
    }

    [Fact]
    public void Whole_VolumeWindowsInDifferentTiers_HaveNoSingleUnitPrice_AndAWindowWithinItsAllowanceDoesNotCount()
    {
        // No allowance: day 1 5 units (tier 1, 1.00 each), day 2 20 units (open tier, 0.50 + 5.00): two prices, none shown.
        var volume = Quota(0, PricingModel.Volume, tiers: TwoTiers);
        var mixed = PeriodCharges.Whole(volume, "api", TwoDays, new[] { 5m, 20m });
        Assert.Equal((5m + 15m, (decimal?)null), (mixed.Amount, mixed.UnitPrice));
        // Day 2 empty: only day 1 is billable, so its price is the line's, 1.00 (the empty day's missing price is not a second one).
        Assert.Equal((5m, (decimal?)1m), (PeriodCharges.Whole(volume, "api", TwoDays, new[] { 5m, 0m }).Amount, PeriodCharges.Whole(volume, "api", TwoDays, new[] { 5m, 0m }).UnitPrice));
    }

    [Fact]
    public void Whole_GraduatedOverDailyWindows_MergesTierPartsByTier_InTierOrder()
    {
        // Day 1: 12 used: 10 x 1.00 = 10.00, 2 x 0.50 + 5.00 = 6.00. Day 2: 4 used: 4.00.
        // Merged: tier 1 14 units 14.00, open tier 2 units 6.00; 20.00.
        var priced = PeriodCharges.Whole(Quota(0, PricingModel.Graduated, tiers: TwoTiers), "api", TwoDays, new[] { 12m, 4m });
        Assert.Equal(20m, priced.Amount);
        Assert.Equal(new (decimal?, decimal, decimal)[] { (10m, 14m, 14m), (null, 2m, 6m) }, Parts(priced));
    }

    [Fact]
    public void Whole_StorageUnderAGbQuota_IsAveragedOverTheWindowsHours()
    {
        // 1,440 GB-hours over November's 720 hours is 2 GB on average; 1 GB included, 1.50 a GB after: 1.50.
        var storage = Quota(1, overage: 1.5m, reset: QuotaResetPeriod.Monthly, service: "storage", limitType: "GB");
        var priced = PeriodCharges.Whole(storage, "storage", new[] { November }, new[] { 1_440m });
        Assert.Equal((2m, 1m, 1.5m), (priced.Used, priced.Billable, priced.Amount));
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 1)]
    [InlineData(0, 0)]
    public void Whole_WithoutOneQuantityPerWindow_IsRefused(int windows, int quantities)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            PeriodCharges.Whole(Quota(0, overage: 1m), "api", TwoDays.Take(windows).ToList(), Enumerable.Repeat(1m, quantities).ToList()));
        Assert.Equal("used", error.ParamName);
        Assert.StartsWith("One quantity per window.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Margin_OverDailyWindows_CountsTheAllowanceUsedUpPerWindow_AndAWholePeriodLineShowsAllOfIt()
    {
        // 10 free a day, 1.00 after. Before: 8 and 12; the part adds 5 and 1. Day 1 uses up 2 more of its allowance
        // (8 -> 10), day 2 had none left: 2 included. Billed after: 3 + 3 = 6.00; before: 0 + 2 = 2.00; the part 4.00.
        var quota = Quota(10, overage: 1m);
        var part = PeriodCharges.Margin(quota, "api", "USD", TwoDays, new[] { 8m, 12m }, new[] { 5m, 1m });
        Assert.Equal((6m, 2m, 4m, 4.00m, (decimal?)1m), (part.Used, part.Included, part.Billable, part.Amount, part.UnitPrice));
        // An invoice for the whole period shows the whole allowance, 10 a day over two days.
        Assert.Equal(20m, PeriodCharges.Margin(quota, "api", "USD", TwoDays, new[] { 8m, 12m }, new[] { 5m, 1m }, wholePeriod: true).Included);
    }

    [Fact]
    public void Margin_Unlimited_UsesUpAsMuchAllowanceAsThePartUsed()
    {
        var part = PeriodCharges.Margin(Quota(null, overage: 1m), "api", "USD", TwoDays, new[] { 8m, 12m }, new[] { 5m, 1m });
        Assert.Equal((6m, 6m, 0m, 0m), (part.Used, part.Included, part.Billable, part.Amount));
    }

    [Fact]
    public void Margin_OfStorage_CountsTheAllowanceInAverageGb()
    {
        // 1 GB included over November (720 h), 2.00 a GB after. Before: 360 GB-hours (0.5 GB); the part adds 720 (1 GB):
        // 1.5 GB in all. The part used up 0.5 GB of allowance and bills 0.5 GB: 1.00.
        var storage = Quota(1, overage: 2m, reset: QuotaResetPeriod.Monthly, service: "storage", limitType: "GB");
        var part = PeriodCharges.Margin(storage, "storage", "USD", new[] { November }, new[] { 360m }, new[] { 720m });
        Assert.Equal((1m, 0.5m, 0.5m, 1.00m), (part.Used, part.Included, part.Billable, part.Amount));
    }

    [Fact]
    public void Margin_TierParts_AreThoseThePartAdded_AndATierItDidNotTouchIsLeftOut()
    {
        // One window, no allowance, TwoTiers. 8 before, 12 in the part: tier 1 gets 2 (2.00), the open tier 10 (10.00).
        var quota = Quota(0, PricingModel.Graduated, tiers: TwoTiers, reset: QuotaResetPeriod.Monthly);
        var first = PeriodCharges.Margin(quota, "api", "USD", new[] { November }, new[] { 8m }, new[] { 12m });
        Assert.Equal(new (decimal?, decimal, decimal)[] { (10m, 2m, 2m), (null, 10m, 10m) }, Parts(first));
        // 20 before, 3 more: only the open tier, 3 x 0.50 = 1.50; tier 1 (10 after less 10 before) comes to nothing.
        var later = PeriodCharges.Margin(quota, "api", "USD", new[] { November }, new[] { 20m }, new[] { 3m });
        Assert.Equal(new (decimal?, decimal, decimal)[] { (null, 3m, 1.5m) }, Parts(later));
    }

    [Fact]
    public void Late_SettlesWhatTheEarlierLinesBilledShortOfThePeriodsCharge()
    {
        // 1.00 a unit, no allowance. 5 units were billed, but the lines came to 4.00 (a part priced before an earlier
        // part's late usage). 2 late units: their margin R(7) - R(5) = 2.00, plus the 5.00 - 4.00 = 1.00 owed: 3.00.
        var quota = Quota(0, overage: 1m, reset: QuotaResetPeriod.Monthly);
        var late = PeriodCharges.Late(quota, "api", "USD", new[] { November }, new[] { 5m }, 4.00m, new[] { 2m });
        Assert.Equal((2m, 2m, 3.00m), (late.Used, late.Billable, late.Amount));
        // Lines that billed more than the charge (6.00) are credited back: 2.00 - 1.00 = 1.00.
        Assert.Equal(1.00m, PeriodCharges.Late(quota, "api", "USD", new[] { November }, new[] { 5m }, 6.00m, new[] { 2m }).Amount);
    }

    private static PricedUsage Charge(decimal used, decimal included, decimal billable, decimal amount, decimal? unitPrice, params InvoiceTierAmount[] tiers) =>
        new(used, included, billable, amount, unitPrice, tiers);

    private static InvoiceTierAmount Tier(decimal? upTo, decimal quantity, decimal amount) =>
        new() { UpTo = upTo, Quantity = quantity, UnitPrice = 0.5m, FlatFee = 5m, Amount = amount };

    [Fact]
    public void Add_OfTwoPeriodsCharges_SumsThem_AndKeepsAUnitPriceOnlyWhenBothHaveIt()
    {
        var a = Charge(1m, 2m, 3m, 4m, 0.5m, Tier(null, 3m, 6.5m));
        var b = Charge(10m, 20m, 30m, 40m, 0.5m, Tier(null, 30m, 20m));
        var sum = PeriodCharges.Add(a, b);
        Assert.Equal((11m, 22m, 33m, 44m, (decimal?)0.5m), (sum.Used, sum.Included, sum.Billable, sum.Amount, sum.UnitPrice));
        Assert.Equal(new (decimal?, decimal, decimal)[] { (null, 33m, 26.5m) }, Parts(sum));
        Assert.Null(PeriodCharges.Add(a, b with { UnitPrice = 0.4m }).UnitPrice);
    }

    [Fact]
    public void Add_KeepsATierWhoseQuantitiesCancelButWhoseAmountDoesNot()
    {
        // A tier whose units net to zero but whose flat fee does not (5.50 charged, 0.50 credited) still carries 5.00.
        var sum = PeriodCharges.Add(Charge(1m, 0m, 1m, 5.5m, null, Tier(null, 1m, 5.5m)), Charge(-1m, 0m, -1m, -0.5m, null, Tier(null, -1m, -0.5m)));
        Assert.Equal(new (decimal?, decimal, decimal)[] { (null, 0m, 5m) }, Parts(sum));
    }

    private static CustomerTerms Terms(BillingPlan? plan, DateTimeOffset? anchor, DateTimeOffset? canceledAt = null)
    {
        var subscription = anchor is { } a ? new BillingSubscription
        {
            SubscriptionId = "sub_1", CustomerId = "cus_fee", Plan = "starter", Status = SubscriptionStatus.Active, BillingCycle = BillingCycle.Monthly,
            CurrentPeriodStart = a, CurrentPeriodEnd = a.AddMonths(1), Anchor = a, TimeZone = "UTC", CancelAtPeriodEnd = false, CanceledAt = canceledAt, CreatedAt = a,
        } : null;
        return new CustomerTerms("cus_fee", subscription, plan, new Dictionary<string, BillingQuota>(), new BillingPeriods.Period(0, November.Start, November.End), TimeZoneInfo.Utc);
    }

    private static readonly BillingPlan Starter = new() { Name = "starter", PriceMonthly = 30m, PriceYearly = 300m, Currency = "USD", IsActive = true, SortOrder = 1 };

    [Fact]
    public void BaseFee_WithoutASubscriptionOrAPlan_IsNone()
    {
        Assert.Null(PeriodCharges.BaseFee(Terms(Starter, null), November.Start, November.End));
        Assert.Null(PeriodCharges.BaseFee(Terms(null, November.Start), November.Start, November.End));
    }

    [Fact]
    public void BaseFee_OfDatesBeforeTheSubscription_IsNone_AndDatesReachingBackBillFromItsStart()
    {
        // Subscribed November 1 at 30.00 a month. October is not covered at all.
        var terms = Terms(Starter, November.Start);
        Assert.Null(PeriodCharges.BaseFee(terms, Clock.Utc(2026, 10, 1), November.Start));
        // October 15 to December 1: only November is covered, one period, 30.00.
        Assert.Equal((1m, 30.00m), PeriodCharges.BaseFee(terms, Clock.Utc(2026, 10, 15), November.End));
        // November and December: two periods, 60.00.
        Assert.Equal((2m, 60.00m), PeriodCharges.BaseFee(terms, November.Start, Clock.Utc(2027, 1, 1)));
    }

    [Fact]
    public void BaseFee_IsProratedToTheDatesAndStopsAtACancellation()
    {
        // November 11 to 21 is a third of the period: R(30 x 20/30) - R(30 x 10/30) = 20.00 - 10.00 = 10.00.
        var (periods, fee) = PeriodCharges.BaseFee(Terms(Starter, November.Start), Clock.Utc(2026, 11, 11), Clock.Utc(2026, 11, 21))!.Value;
        Assert.Equal((10.00m, 10m / 30m), (fee, periods));
        // Canceled November 16: the invoice of all November bills 15 of 30 days, 15.00, half a period.
        Assert.Equal((0.5m, 15.00m), PeriodCharges.BaseFee(Terms(Starter, November.Start, Clock.Utc(2026, 11, 16)), November.Start, November.End));
        // A cancellation after the dates does not shorten them.
        Assert.Equal((1m, 30.00m), PeriodCharges.BaseFee(Terms(Starter, November.Start, Clock.Utc(2026, 12, 5)), November.Start, November.End));
    }

    [Fact]
    public void BaseFeeShare_OfDatesReachingOutsideThePeriod_IsClampedToThePeriod()
    {
        // The whole of November and more: the whole fee. Before the period or after it: nothing.
        Assert.Equal(29m, PeriodCharges.BaseFeeShare(29m, "USD", November.Start, November.End, Clock.Utc(2026, 10, 20), Clock.Utc(2026, 12, 10)));
        Assert.Equal(0m, PeriodCharges.BaseFeeShare(29m, "USD", November.Start, November.End, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 10, 20)));
        Assert.Equal(0m, PeriodCharges.BaseFeeShare(29m, "USD", November.Start, November.End, Clock.Utc(2026, 12, 2), Clock.Utc(2026, 12, 10)));
        // In yen (no minor unit): 1,000 over the first 10 of 30 days is R(333.33) = 333.
        Assert.Equal(333m, PeriodCharges.BaseFeeShare(1_000m, "JPY", November.Start, November.End, November.Start, Clock.Utc(2026, 11, 11)));
    }
}
