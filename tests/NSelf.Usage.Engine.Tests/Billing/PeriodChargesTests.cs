using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// PeriodCharges: windows of daily and weekly quotas, the margin of a part of a period, and the
/// base fee's share. Every expected amount is worked out by hand beside it.
/// </summary>
public sealed class PeriodChargesTests
{
    private static BillingQuota Api(decimal? limit, PricingModel model = PricingModel.PerUnit, decimal overage = 0, PriceTier[]? tiers = null,
        decimal? packageSize = null, decimal? packagePrice = null, QuotaResetPeriod reset = QuotaResetPeriod.Monthly) => new()
    {
        Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft, ResetPeriod = reset,
        PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(), PackageSize = packageSize, PackagePrice = packagePrice,
    };

    private static readonly PeriodCharges.Window November = new(Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));

    private static PricedUsage Part(BillingQuota quota, decimal before, decimal part) =>
        PeriodCharges.Margin(quota, "api", "USD", new[] { November }, new[] { before }, new[] { part });

    [Fact]
    public void Margin_GivesTheAllowanceOnce()
    {
        // 10 free, 1.00 after: 5 then 15 bill 0 and 10.00; the second part used up the 5 left.
        var quota = Api(10, overage: 1m);
        Assert.Equal(0.00m, Part(quota, 0, 5).Amount);
        var second = Part(quota, 5, 15);
        Assert.Equal((15m, 5m, 10m, 10.00m), (second.Used, second.Included, second.Billable, second.Amount));
    }

    [Fact]
    public void Margin_RoundsEachSideOnce_SoPartsAddUpToTheWhole()
    {
        // 0.003 a unit, no allowance: 1 unit then 1 unit. Whole: 2 x 0.003 = 0.006 -> 0.01.
        // Parts: R(0.003) = 0.00, then R(0.006) - R(0.003) = 0.01 - 0.00 = 0.01; each priced alone would be 0.00 + 0.00.
        var quota = Api(0, overage: 0.003m);
        Assert.Equal((0.00m, 0.01m), (Part(quota, 0, 1).Amount, Part(quota, 1, 1).Amount));
    }

    [Fact]
    public void Margin_Graduated_ContinuesTheTiers_AndChargesAFlatFeeOnce()
    {
        // First 10 at 1.00; beyond, 0.50 and a flat 5.00. 8 before, 12 in the part: the part finishes tier one
        // (2 x 1.00 = 2.00) and puts 10 in tier two (10 x 0.50 + 5.00 = 10.00): 12.00. A later part of 3 adds 1.50 only.
        var quota = Api(0, PricingModel.Graduated, tiers: new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.5m, FlatFee = 5m } });
        Assert.Equal(12.00m, Part(quota, 8, 12).Amount);
        Assert.Equal(1.50m, Part(quota, 20, 3).Amount);
    }

    [Fact]
    public void Windows_OfADailyQuota_AreLocalDaysWithinThePeriod()
    {
        // A period from Nov 1 05:00 UTC to Nov 3 12:00 UTC in New York (UTC-5 after Nov 1 02:00):
        // Nov 1 05:00Z (00:00 local) - Nov 2 05:00Z, Nov 2 05:00Z - Nov 3 05:00Z, Nov 3 05:00Z - 12:00Z.
        var zone = NSelf.Usage.Engine.Time.TimeZones.Find("America/New_York");
        var windows = PeriodCharges.Windows(QuotaResetPeriod.Daily, Clock.Utc(2026, 11, 1, 5), Clock.Utc(2026, 11, 3, 12), zone);
        Assert.Equal(new[]
        {
            new PeriodCharges.Window(Clock.Utc(2026, 11, 1, 5), Clock.Utc(2026, 11, 2, 5)),
            new PeriodCharges.Window(Clock.Utc(2026, 11, 2, 5), Clock.Utc(2026, 11, 3, 5)),
            new PeriodCharges.Window(Clock.Utc(2026, 11, 3, 5), Clock.Utc(2026, 11, 3, 12)),
        }, windows);
    }

    [Fact]
    public void Windows_OfAWeeklyQuota_StartOnMonday()
    {
        // November 2026: the 1st is a Sunday, the 2nd, 9th, 16th, 23rd and 30th Mondays.
        var windows = PeriodCharges.Windows(QuotaResetPeriod.Weekly, November.Start, November.End, TimeZoneInfo.Utc);
        Assert.Equal(new[] { 1, 2, 9, 16, 23, 30 }, windows.Select(w => w.Start.Day));
        Assert.Equal(Clock.Utc(2026, 12, 1), windows[^1].End);
    }

    [Fact]
    public void DailyWindows_EachGetTheAllowance_AndTheAmountIsRoundedOnce()
    {
        // 10 a day free, 0.004 a unit after. Three days of 11: 1 + 1 + 1 = 3 billable, 0.012 -> 0.01
        // (rounding each day would give 0.00 + 0.00 + 0.00).
        var quota = Api(10, overage: 0.004m, reset: QuotaResetPeriod.Daily);
        var windows = PeriodCharges.Windows(QuotaResetPeriod.Daily, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 4), TimeZoneInfo.Utc);
        var priced = PeriodCharges.Margin(quota, "api", "USD", windows, new[] { 0m, 0m, 0m }, new[] { 11m, 11m, 11m });
        Assert.Equal((33m, 3m, 0.01m), (priced.Used, priced.Billable, priced.Amount));
    }

    [Fact]
    public void BaseFeeShare_ThreeThirdsOf29_Are29()
    {
        // 30 days; R(29/3) = 9.67, R(58/3) = 19.33.
        var (s, e) = (November.Start, November.End);
        var thirds = new[] { (s, s.AddDays(10)), (s.AddDays(10), s.AddDays(20)), (s.AddDays(20), e) }
            .Select(p => PeriodCharges.BaseFeeShare(29m, "USD", s, e, p.Item1, p.Item2)).ToList();
        Assert.Equal(new[] { 9.67m, 9.66m, 9.67m }, thirds);
    }
}
