using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 24: the quota levels and the alert thresholds, without a store.</summary>
public sealed class QuotaRulesTests
{
    private static readonly AlertThresholds Defaults = new(75, 90, 100);

    [Theory]
    [InlineData("10000", QuotaLevel.Exceeded)]      // exactly 100%
    [InlineData("10000.000001", QuotaLevel.Exceeded)]
    [InlineData("9999.999999", QuotaLevel.Critical)] // 99.99999999%
    [InlineData("9000", QuotaLevel.Critical)]       // exactly 90%
    [InlineData("8999.999999", QuotaLevel.Warning)]
    [InlineData("7500", QuotaLevel.Warning)]        // exactly 75%
    [InlineData("7499.999999", QuotaLevel.Ok)]
    [InlineData("0", QuotaLevel.Ok)]
    public void Level_AtExactlyAThreshold_IsThatLevel(string used, QuotaLevel expected) =>
        Assert.Equal(expected, Defaults.LevelOf(decimal.Parse(used, System.Globalization.CultureInfo.InvariantCulture), 10_000));

    [Fact]
    public void Level_OfAZeroLimit_IsOkUnusedAndExceededByAnyUse_WithoutDividingByZero()
    {
        Assert.Equal(QuotaLevel.Ok, Defaults.LevelOf(0, 0));
        Assert.Equal(QuotaLevel.Exceeded, Defaults.LevelOf(0.000001m, 0));
        Assert.Equal(QuotaLevel.Unlimited, Defaults.LevelOf(1_000_000, null));
    }

    private static EnvironmentSettings Thresholds(string? warning, string? critical, string? exceeded) => new(name => name switch
    {
        "USAGE_ALERT_WARNING" => warning,
        "USAGE_ALERT_CRITICAL" => critical,
        "USAGE_ALERT_EXCEEDED" => exceeded,
        _ => null,
    });

    [Fact]
    public void AlertThresholds_DefaultTo75_90_100_AndMayBeEqual()
    {
        Assert.Equal(Defaults, AlertThresholds.From(Thresholds(null, null, null)));
        Assert.Equal(new AlertThresholds(90, 90, 90), AlertThresholds.From(Thresholds("90", "90", "90")));
        // With equal thresholds the highest level reached wins: 90% is Exceeded.
        Assert.Equal(QuotaLevel.Exceeded, new AlertThresholds(90, 90, 90).LevelOf(90, 100));
    }

    [Theory]
    [InlineData("95", "90", "100")]
    [InlineData("75", "101", "100")]
    [InlineData("80", "70", "60")]
    [InlineData("0", "100", "99.999999")]
    public void AlertThresholds_ThatDoNotRise_AreRefused(string warning, string critical, string exceeded)
    {
        var error = Assert.Throws<UsageException>(() => AlertThresholds.From(Thresholds(warning, critical, exceeded)));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)"USAGE_ALERT_*"), (error.ErrorId, error.Target));
    }

    private static QuotaStatus Status(QuotaEnforcement enforcement, decimal used, decimal? limit, QuotaLevel level, decimal? percent) => new()
    {
        CustomerId = "cus_a", Service = "api", Used = used, Limit = limit, Remaining = limit is { } l ? Math.Max(0, l - used) : null, Percent = percent,
        Level = level, Enforcement = enforcement, Unit = "requests", PeriodStart = Clock.Utc(2026, 11, 1), PeriodEnd = Clock.Utc(2026, 12, 1),
    };

    [Fact]
    public void Allows_RefusesOnlyWhatWouldGoPastAHardLimit()
    {
        // 9,999 of 10,000 used: one more reaches the limit exactly and is allowed; two go past it.
        var hard = Status(QuotaEnforcement.Hard, 9_999, 10_000, QuotaLevel.Critical, 99.99m);
        Assert.True(QuotaChecker.Allows(hard, 1));
        Assert.False(QuotaChecker.Allows(hard, 1.000001m));
        // A soft limit warns but never refuses; an unlimited quota has nothing to refuse.
        Assert.True(QuotaChecker.Allows(Status(QuotaEnforcement.Soft, 20_000, 10_000, QuotaLevel.Exceeded, 200), 1_000_000));
        Assert.True(QuotaChecker.Allows(Status(QuotaEnforcement.Hard, 20_000, null, QuotaLevel.Unlimited, null), 1_000_000));
    }

    [Fact]
    public void AlertWording_IsTheBashLibrarysForEachLevel()
    {
        Assert.Equal("WARNING: api usage at 80% - 8000/10000", QuotaChecker.Wording(Status(QuotaEnforcement.Soft, 8_000, 10_000, QuotaLevel.Warning, 80), 8_000));
        Assert.Equal("CRITICAL: api usage at 99.5% - 9950/10000", QuotaChecker.Wording(Status(QuotaEnforcement.Soft, 9_950, 10_000, QuotaLevel.Critical, 99.5m), 9_950));
        // The used figure is rounded to six places, half away from zero: 10500.0000005 -> 10500.000001.
        Assert.Equal("QUOTA EXCEEDED: api - 10500.000001/10000 (105%)", QuotaChecker.Wording(Status(QuotaEnforcement.Hard, 10_500, 10_000, QuotaLevel.Exceeded, 105), 10_500.0000005m));
    }

    [Theory]
    [InlineData(2026, 11, 29, 23)] // a Sunday belongs to the week that began the Monday before
    [InlineData(2026, 11, 23, 0)]  // a Monday starts its own week
    [InlineData(2026, 11, 26, 12)] // a Thursday
    public void WeeklyQuotaPeriod_RunsFromMondayToMonday(int year, int month, int day, int hour)
    {
        var billing = new BillingPeriods.Period(0, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        var week = BillingPeriods.QuotaPeriod(QuotaResetPeriod.Weekly, Clock.Utc(year, month, day, hour), billing, TimeZoneInfo.Utc);
        Assert.Equal((Clock.Utc(2026, 11, 23), Clock.Utc(2026, 11, 30)), week);
        var today = BillingPeriods.QuotaPeriod(QuotaResetPeriod.Daily, Clock.Utc(year, month, day, hour), billing, TimeZoneInfo.Utc);
        Assert.Equal((Clock.Utc(year, month, day), Clock.Utc(year, month, day).AddDays(1)), today);
    }
}
