using NSelf.Usage.Engine.Accounts;
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
}
