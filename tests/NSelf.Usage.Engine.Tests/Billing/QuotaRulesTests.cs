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
}
