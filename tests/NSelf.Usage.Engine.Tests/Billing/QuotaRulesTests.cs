using NSelf.Usage.Engine.Accounts;
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

    [Fact]
    public void StorageUnderAGbQuota_IsTheAverageOverThePeriodsExactHours_AndEveryOtherQuotaCountsItsOwnUnit()
    {
        // November: 30 x 24 = 720 hours, so 720 GB-hours are 1 GB on average.
        var (start, end) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        Assert.Equal(720m, QuotaUnits.Hours(start, end));
        Assert.Equal(1m, QuotaUnits.ToQuotaUnits("storage", "gb", 720, start, end));
        // nself writes the limit type in any case and spacing: ' GB ' is still a GB quota.
        Assert.Equal(0.5m, QuotaUnits.ToQuotaUnits("storage", " GB ", 360, start, end));
        // October 2026 in Paris ends on the day clocks go back: 31 x 24 + 1 = 745 hours.
        var paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");
        var (octStart, octEnd) = (new DateTimeOffset(2026, 10, 1, 0, 0, 0, paris.GetUtcOffset(new DateTime(2026, 10, 1))), new DateTimeOffset(2026, 11, 1, 0, 0, 0, paris.GetUtcOffset(new DateTime(2026, 11, 1))));
        Assert.Equal(745m, QuotaUnits.Hours(octStart, octEnd));
        Assert.Equal(2m, QuotaUnits.ToQuotaUnits("storage", "gb", 1_490, octStart, octEnd));
        // Half an hour is 0.5 hours exactly (ticks, not whole hours).
        Assert.Equal(0.5m, QuotaUnits.Hours(start, start.AddMinutes(30)));
        // Only storage with a GB limit is averaged: storage counted in another unit, and
        // bandwidth in GB (a volume, not a level kept over time), are counted as used.
        Assert.Equal(720m, QuotaUnits.ToQuotaUnits("storage", "gb-hours", 720, start, end));
        Assert.Equal(720m, QuotaUnits.ToQuotaUnits("bandwidth", "gb", 720, start, end));
        Assert.Equal(720m, QuotaUnits.ToQuotaUnits("api", "requests", 720, start, end));
        Assert.True(QuotaUnits.IsTimeAveraged("storage", "Gb"));
        Assert.False(QuotaUnits.IsTimeAveraged("Storage", "gb"));
    }

    [Theory]
    [InlineData("storage", "gb", "GB-hours", QuotaUnits.AverageGb)]
    [InlineData("storage", "GB", "GB-hours", QuotaUnits.AverageGb)]
    [InlineData("storage", "gb-hours", "GB-hours", "GB-hours")]
    [InlineData("database", "connections", "calls", "queries")]   // nself's 'connections' limit counts queries
    [InlineData("api", "requests", "requests", "requests")]
    [InlineData("bandwidth", "gb", "GB", "GB")]
    public void QuotaUnit_IsTheAverageGbForStorage_QueriesForTheDatabase_ElseTheServicesUnit(string service, string limitType, string serviceUnit, string expected) =>
        Assert.Equal(expected, QuotaUnits.UnitOf(service, limitType, serviceUnit));
}
