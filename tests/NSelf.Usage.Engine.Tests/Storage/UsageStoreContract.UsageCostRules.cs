using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 24: the rules of PlanCosts (the cost figures of reports and Get-BillingSummary), on every
/// store: which period an interval is priced as, how a daily quota's quantity is spread over the
/// stored days, and which currency a cost is in. Every amount is worked out by hand beside it.
/// </summary>
public abstract partial class UsageStoreContract
{
    /// <summary>Plan <paramref name="plan"/> in <paramref name="currency"/> (no base fee) with one quota; the customer subscribed monthly from November 1.</summary>
    private PlanCosts CostsUnder(string customer, string plan, string currency, string service, string limitType, decimal limit, decimal overage, QuotaResetPeriod reset)
    {
        Store.SavePlan(new BillingPlan { Name = plan, PriceMonthly = 0, PriceYearly = 0, Currency = currency, IsActive = true, SortOrder = 9 });
        Store.SaveQuota(new BillingQuota
        {
            Plan = plan, Service = service, Limit = limit, LimitType = limitType, UsageUnit = limitType, Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = reset, PricingModel = PricingModel.PerUnit, OveragePrice = overage,
        });
        Time.SetUtcNow(Clock.Utc(2026, 11, 1, 12));
        Book.Subscribe(customer, plan, BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        return new PlanCosts(Book, TimeZoneInfo.Utc);
    }

    [SkippableFact]
    public void PlanCosts_AnIntervalWithinABillingPeriod_IsPricedAsThatPeriod_OtherwiseAsItself()
    {
        // Storage under a GB quota, none included, 1.00 a GB (average). 720 GB-hours:
        // within November (720 hours, from its first or to its last hour too) it is 1 GB on average: 1.00;
        // over Oct 31 12:00 to Nov 1 12:00, which no one period contains, it is 720 / 24 = 30 GB: 30.00.
        var costs = CostsUnder("cus_gb", "gb", "USD", "storage", "GB", 0m, 1m, QuotaResetPeriod.Monthly);
        Assert.Equal((1m, "USD"), costs.Price("cus_gb", "storage", 720m, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 2)));
        Assert.Equal((1m, "USD"), costs.Price("cus_gb", "storage", 720m, Clock.Utc(2026, 11, 30), Clock.Utc(2026, 12, 1)));
        Assert.Equal((30m, "USD"), costs.Price("cus_gb", "storage", 720m, Clock.Utc(2026, 10, 31, 12), Clock.Utc(2026, 11, 1, 12)));
    }

    [SkippableFact]
    public void PlanCosts_OfADailyQuota_SpreadTheQuantityOverTheStoredDays_EarliestFirst()
    {
        // 10 a day free, 1.00 a unit after. Stored: 15 on Nov 2, 5 on Nov 3.
        var costs = CostsUnder("cus_day", "daily", "USD", "api", "requests", 10m, 1m, QuotaResetPeriod.Daily);
        Use("cus_day", "api", 15, Clock.Utc(2026, 11, 2, 9));
        Use("cus_day", "api", 5, Clock.Utc(2026, 11, 3, 9));
        var (november, december) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        // All 20: day 2 bills 5, day 3 nothing: 5.00 (as one window it would be 10.00).
        Assert.Equal(5m, costs.Price("cus_day", "api", 20, november, december).Cost);
        // A running total of 18 fills day 2 (15) and then 3 of day 3: 5.00 still.
        Assert.Equal(5m, costs.Price("cus_day", "api", 18, november, december).Cost);
        // 12 fills day 2 only: 2.00 (filled from the latest day, 5 on day 3 and 7 on day 2, it would be 0.00).
        Assert.Equal(2m, costs.Price("cus_day", "api", 12, november, december).Cost);
    }

    [SkippableFact]
    public void PlanCosts_OfADailyQuota_PutMoreThanWasStoredOnTheLastDayUsed()
    {
        // 10 a day free, 1.00 after. Stored: 8 on Nov 2, 10 on Nov 3. 23 is 5 more than stored (events arriving
        // between the reads): the rest goes to day 3, the last day used: 15, 5.00. On day 2 it would be 13, 3.00;
        // on the first or last day of the month, 5 of a free 10, 0.00.
        var costs = CostsUnder("cus_more", "daily", "USD", "api", "requests", 10m, 1m, QuotaResetPeriod.Daily);
        Use("cus_more", "api", 8, Clock.Utc(2026, 11, 2, 9));
        Use("cus_more", "api", 10, Clock.Utc(2026, 11, 3, 9));
        Assert.Equal(5m, costs.Price("cus_more", "api", 23, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Cost);
    }

    [SkippableFact]
    public void PlanCosts_OfADailyQuota_CountOnlyTheStoredUsageWithinTheInterval()
    {
        // 10 a day free, 1.00 after. Stored: 3 on Nov 2, 12 on Nov 3. The interval Nov 3 to Nov 10 holds 12, all of
        // Nov 3: 2 billable, 2.00 (counting Nov 2's 3 as within it would put 3 on day 2 and 9 on day 3: 0.00).
        var costs = CostsUnder("cus_in", "daily", "USD", "api", "requests", 10m, 1m, QuotaResetPeriod.Daily);
        Use("cus_in", "api", 3, Clock.Utc(2026, 11, 2, 9));
        Use("cus_in", "api", 12, Clock.Utc(2026, 11, 3, 9));
        Assert.Equal(2m, costs.Price("cus_in", "api", 12, Clock.Utc(2026, 11, 3), Clock.Utc(2026, 11, 10)).Cost);
    }

    [SkippableFact]
    public void PlanCosts_OfADailyQuota_DoNotCountStoredUsageAfterTheInterval()
    {
        // 10 a day free, 1.00 after. Stored: 3 on Nov 2 (in Nov 1 to Nov 4), 15 on Nov 5 (after it). 12 for the
        // interval: 3 stored on day 2, the 9 more go to day 2 as well, 12: 2.00 (spread onto Nov 5 as stored usage
        // of the interval, 3 + 9 would both be free: 0.00).
        var costs = CostsUnder("cus_after", "daily", "USD", "api", "requests", 10m, 1m, QuotaResetPeriod.Daily);
        Use("cus_after", "api", 3, Clock.Utc(2026, 11, 2, 9));
        Use("cus_after", "api", 15, Clock.Utc(2026, 11, 5, 9));
        Assert.Equal(2m, costs.Price("cus_after", "api", 12, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 4)).Cost);
    }

    [SkippableFact]
    public void PlanCosts_OfADailyQuotaWithNothingStored_PutTheQuantityOnTheFirstDay()
    {
        // Nothing stored yet (events arriving between the reads): 12 on the first day, 2 beyond its 10: 2.00.
        var costs = CostsUnder("cus_none", "daily", "USD", "api", "requests", 10m, 1m, QuotaResetPeriod.Daily);
        Assert.Equal(2m, costs.Price("cus_none", "api", 12, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).Cost);
    }

    [SkippableFact]
    public void PlanCosts_AreInThePlansCurrency_ForItsServices_AndInTheServicesOwnForOthers()
    {
        // A EUR plan pricing api (none free, 0.002 a request): 1,000 requests are 2.00 EUR. Bandwidth has no quota on
        // it: its display price, 0.01 USD a GB, 300 GB = 3.00 USD. Prepared for two customers at once, each is priced.
        var costs = CostsUnder("cus_eur", "euro", "EUR", "api", "requests", 0m, 0.002m, QuotaResetPeriod.Monthly);
        var (november, december) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        costs.Prepare(new[] { "cus_eur", "cus_noplan", "cus_eur" }, november, december);
        Assert.Equal((2m, "EUR"), costs.Price("cus_eur", "api", 1_000m, november, december));
        Assert.Equal((3m, "USD"), costs.Price("cus_eur", "bandwidth", 300m, november, december));
        // Without a plan: the display price, 0.0001 USD a request: 1,000 requests are 0.10 USD.
        Assert.Equal((0.1m, "USD"), costs.Price("cus_noplan", "api", 1_000m, november, december));
    }
}
