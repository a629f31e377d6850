using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Reporting;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 20: Get-UsageForecast over a store. A customer whose daily use grows by a straight line
/// has the line carried to the period's end, priced through the plan (allowance, overage), and
/// the day the quota is crossed named; on every backend.
/// </summary>
public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void Forecast_OfAStraightLine_IsCarriedToThePeriodsEnd_PricedThroughThePlan_WithTheDayTheQuotaIsCrossed()
    {
        // 10,000 requests included, 0.01 each beyond; subscribed Nov 1 (monthly: Dec 1 to Jan 1).
        MeteredPlan("cus_line", Api(10_000, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 15, 12));
        // Nov 17 to Dec 14: 100 requests on the first day, 10 more each day (370 on Dec 14);
        // today, Dec 15, 200 so far by noon.
        for (var t = 0; t < 28; t++)
            Use("cus_line", "api", 100 + 10 * t, Clock.Utc(2026, 11, 17, 12).AddDays(t));
        Use("cus_line", "api", 200, Clock.Utc(2026, 12, 15, 6));

        var forecast = Assert.Single(new UsageForecasts(Book, TimeZoneInfo.Utc).For([Book.Terms("cus_line", TimeZoneInfo.Utc)], "api"));

        // So far: Dec 1 to 14 (240 + ... + 370 = 4,270) and today's 200. To come: half of today's
        // 380 (190), then Dec 16 to 31 (390 + ... + 540 = 7,440). 4,470 + 7,630 = 12,100.
        Assert.Equal(("cus_line", "api", "requests", 4_470m, 12_100m, UsageForecasting.Trend, 28),
            (forecast.CustomerId, forecast.Service, forecast.Unit, forecast.UsedSoFar, forecast.Projected, forecast.Method, forecast.HistoryDays));
        Assert.Equal((Clock.Utc(2026, 12, 1), Clock.Utc(2027, 1, 1)), (forecast.PeriodStart, forecast.PeriodEnd));
        // A line that fits exactly leaves (almost) no room either side.
        Assert.InRange(forecast.ProjectedLow!.Value, 12_099m, 12_100m);
        Assert.InRange(forecast.ProjectedHigh!.Value, 12_100m, 12_101m);
        // 2,100 beyond the 10,000 included, at 0.01.
        Assert.Equal((21.00m, "USD", (decimal?)10_000m), (forecast.ProjectedCost, forecast.Currency, forecast.Limit));
        // 4,660 by the end of today; Dec 16 to 27 add 390 + ... + 500 = 5,340: 10,000 on Dec 27.
        Assert.Equal(new DateOnly(2026, 12, 27), forecast.ExceedsOn);
    }

    [SkippableFact]
    public void Forecast_OfAQuotaCrossedAlready_NamesTheDayItWasCrossed_AndOfEveryServiceOnlyThoseUsedOrLimited()
    {
        MeteredPlan("cus_over", Api(1_000, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 11, 12));
        for (var t = 0; t < 10; t++)
            Use("cus_over", "api", 300, Clock.Utc(2026, 12, 1, 12).AddDays(t));
        Use("cus_over", "storage", 48, Clock.Utc(2026, 12, 5, 12));

        var forecasts = new UsageForecasts(Book, TimeZoneInfo.Utc).For([Book.Terms("cus_over", TimeZoneInfo.Utc)], null);

        Assert.Equal(["api", "storage"], forecasts.Select(f => f.Service));
        // 300, 600, 900, 1,200: crossed on Dec 4.
        Assert.Equal(new DateOnly(2026, 12, 4), forecasts[0].ExceedsOn);
        Assert.Equal(3_000m, forecasts[0].UsedSoFar);
        // Storage has no quota on this plan: its own unit, no limit, no crossing.
        Assert.Equal(("GB-hours", (decimal?)null, (DateOnly?)null, 48m), (forecasts[1].Unit, forecasts[1].Limit, forecasts[1].ExceedsOn, forecasts[1].UsedSoFar));
    }

    /// <summary>A plan "forecast" with one quota, and the customer subscribed monthly from <paramref name="start"/>, at <paramref name="now"/>.</summary>
    private void ForecastPlan(string customer, string service, decimal limit, string limitType, QuotaResetPeriod reset, DateTimeOffset start, DateTimeOffset now)
    {
        Store.SavePlan(new BillingPlan { Name = "forecast", PriceMonthly = 0, PriceYearly = 0, Currency = "USD", IsActive = true, SortOrder = 9 });
        Store.SaveQuota(new BillingQuota
        {
            Plan = "forecast", Service = service, Limit = limit, LimitType = limitType, UsageUnit = limitType == "gb" ? QuotaUnits.AverageGb : limitType,
            Enforcement = QuotaEnforcement.Soft, ResetPeriod = reset, PricingModel = PricingModel.PerUnit, OveragePrice = 0,
        });
        Time.SetUtcNow(now);
        Book.Subscribe(customer, "forecast", BillingCycle.Monthly, start, null);
    }

    /// <summary>The same use every day at noon for the 28 days before Dec 15, 2026, and <paramref name="today"/> at 06:00 on Dec 15.</summary>
    private void Steady(string customer, string service, decimal perDay, decimal today, int days = 28)
    {
        for (var t = 0; t < days; t++)
            Use(customer, service, perDay, Clock.Utc(2026, 12, 14, 12).AddDays(-t));
        if (today > 0)
            Use(customer, service, today, Clock.Utc(2026, 12, 15, 6));
    }

    private UsageForecast ForecastOf(string customer, string? service) =>
        Assert.Single(new UsageForecasts(Book, TimeZoneInfo.Utc).For([Book.Terms(customer, TimeZoneInfo.Utc)], service));

    [SkippableFact]
    public void Forecast_OfASubscriptionStartingLater_CountsOnlyTheDaysOfItsFirstPeriod()
    {
        // Subscribed on Dec 15 for a monthly period from Dec 20: Dec 20 to Jan 20, 31 days.
        ForecastPlan("cus_later", "api", 3_000, "requests", QuotaResetPeriod.Monthly, Clock.Utc(2026, 12, 20), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_later", "api", 100, today: 50);

        var forecast = ForecastOf("cus_later", "api");

        Assert.Equal((Clock.Utc(2026, 12, 20), Clock.Utc(2027, 1, 20)), (forecast.PeriodStart, forecast.PeriodEnd));
        // Nothing of today (before the period) is its use; 31 days of 100 are to come, not 35.5.
        Assert.Equal((0m, 3_100m, UsageForecasting.Mean, 28), (forecast.UsedSoFar, forecast.Projected, forecast.Method, forecast.HistoryDays));
        // 100 a day from Dec 20 reaches 3,000 on the 30th day of the period.
        Assert.Equal(new DateOnly(2027, 1, 18), forecast.ExceedsOn);
    }

    [SkippableFact]
    public void Forecast_OfStorageUnderAGbQuota_IsTheAverageOverThePeriod_AndCrossesWhenTheGbHoursReachTheLimitTimesTheHours()
    {
        // 10 GB on average over December (744 hours): 7,440 GB-hours. 10 GB all the time is 240 GB-hours a day.
        ForecastPlan("cus_disk", "storage", 10, "gb", QuotaResetPeriod.Monthly, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_disk", "storage", 240, today: 120);

        var forecast = ForecastOf("cus_disk", "storage");

        // So far: Dec 1 to 14 and the morning of the 15th, 3,480 GB-hours, 4.677419 GB over the month.
        // To come: 120 + 16 x 240 = 3,960: 7,440 in all, exactly the limit, reached on Dec 31.
        Assert.Equal((QuotaUnits.AverageGb, 4.677419m, 10m, (decimal?)10m), (forecast.Unit, forecast.UsedSoFar, forecast.Projected, forecast.Limit));
        Assert.Equal(new DateOnly(2026, 12, 31), forecast.ExceedsOn);
    }

    [SkippableFact]
    public void Forecast_UnderAWeeklyQuota_StartsEachWeekAfresh_FromThePeriodsFirstPartialWeek()
    {
        // The period starts Thursday Dec 10: its first week is Dec 10 to Monday Dec 14, then Dec 14 to 21.
        ForecastPlan("cus_week", "api", 650, "requests", QuotaResetPeriod.Weekly, Clock.Utc(2026, 11, 10), Clock.Utc(2026, 11, 10, 12));
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        for (var t = 1; t <= 28; t++)
            Use("cus_week", "api", 100, Clock.Utc(2026, 12, 10, 12).AddDays(-t));
        Use("cus_week", "api", 50, Clock.Utc(2026, 12, 10, 6));

        var forecast = ForecastOf("cus_week", "api");

        // This week: 50 + 50 + 300 = 400 by Sunday, under 650. Next week: 100 a day from Monday
        // reaches 700 on Sunday Dec 20.
        Assert.Equal((Clock.Utc(2026, 12, 10), 50m, new DateOnly(2026, 12, 20)), (forecast.PeriodStart, forecast.UsedSoFar, forecast.ExceedsOn));
    }

    [SkippableFact]
    public void Forecast_UnderADailyQuota_CrossedToday_NamesToday_AndOneCrossedOnAnEarlierDayOfTheWindow_NamesThatDay()
    {
        ForecastPlan("cus_day", "api", 80, "requests", QuotaResetPeriod.Daily, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_day", "api", 60, today: 80);
        // Today's 80 meets the daily 80: crossed today.
        Assert.Equal(new DateOnly(2026, 12, 15), ForecastOf("cus_day", "api").ExceedsOn);

        // A weekly window (Monday Dec 14 on): 60 on the 14th, then 80 today; 130 is the limit.
        ForecastPlan("cus_wk", "api", 130, "requests", QuotaResetPeriod.Weekly, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_wk", "api", 60, today: 80);
        Assert.Equal(new DateOnly(2026, 12, 15), ForecastOf("cus_wk", "api").ExceedsOn);
        // At 60 a week, Monday's 60 meets it (Sunday's belongs to the week before).
        ForecastPlan("cus_wk2", "api", 60, "requests", QuotaResetPeriod.Weekly, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_wk2", "api", 60, today: 80);
        Assert.Equal(new DateOnly(2026, 12, 14), ForecastOf("cus_wk2", "api").ExceedsOn);
    }

    [SkippableFact]
    public void Forecast_OfAServiceWithoutAQuota_IsInItsCatalogUnit_OrInUnitsWhenTheCatalogDoesNotKnowIt()
    {
        ForecastPlan("cus_unit", "api", 1_000, "requests", QuotaResetPeriod.Monthly, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_unit", "bandwidth", 2, today: 0, days: 3);
        Store.RegisterService(new UsageService { Name = "svc_frames", Unit = "frames", DisplayPrice = 0, Currency = "USD", BuiltIn = false }, replace: true);
        Steady("cus_unit", "svc_frames", 7, today: 0, days: 3);
        var expected = new List<(string, string)> { ("api", "requests"), ("bandwidth", "GB"), ("svc_frames", "frames") };
        if (!OnSqlite)
        {
            // A service nself's tools record on PostgreSQL without registering it here (its
            // triggers roll the rows up; the SQLite file has no foreign writer): in plain units.
            for (var t = 0; t < 3; t++)
                ExecuteSql("INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES "
                    + $"('cus_unit', 'svc_render', 5, {TimeSql(Clock.Utc(2026, 12, 14, 12).AddDays(-t))})");
            expected.Add(("svc_render", "units"));
        }

        var forecasts = new UsageForecasts(Book, TimeZoneInfo.Utc).For([Book.Terms("cus_unit", TimeZoneInfo.Utc)], null);

        Assert.Equal(expected, forecasts.Select(f => (f.Service, f.Unit)));
        // Three days of history: no trend yet, the mean carried on; api is listed for its quota with nothing used.
        Assert.Equal((0m, 0m, 0), (forecasts[0].UsedSoFar, forecasts[0].Projected, forecasts[0].HistoryDays));
        Assert.Equal((UsageForecasting.Mean, 3), (forecasts[2].Method, forecasts[2].HistoryDays));
    }

    [SkippableFact]
    public void Forecast_UnderALimitOfNothing_IsNotCrossedWithoutUse_AndIsCrossedByTheFirstUse()
    {
        // Bandwidth not allowed at all on this plan; the customer has used none of it.
        ForecastPlan("cus_zero", "bandwidth", 0, "GB", QuotaResetPeriod.Monthly, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 15, 12));
        Steady("cus_zero", "api", 10, today: 0, days: 3);
        var forecast = ForecastOf("cus_zero", "bandwidth");
        Assert.Equal((0m, 0m, (decimal?)0m, (DateOnly?)null), (forecast.UsedSoFar, forecast.Projected, forecast.Limit, forecast.ExceedsOn));

        // One GB on Dec 3: crossed that day.
        Use("cus_zero", "bandwidth", 1, Clock.Utc(2026, 12, 3, 9));
        Assert.Equal(new DateOnly(2026, 12, 3), ForecastOf("cus_zero", "bandwidth").ExceedsOn);
    }
}
