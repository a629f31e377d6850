using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Sqlite;
using NSelf.Usage.Engine.Tests.Differential;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Forecasts;

/// <summary>
/// A fixed sample of the forecast's differential cases on SQLite, outside the Differential
/// namespace so that mutation testing (whose filter leaves the long differential suites out)
/// runs it: the same 150 cases every time, so a mutant is killed or not for a reason that repeats.
/// </summary>
public sealed class SqliteForecastSampleTests(ITestOutputHelper output) : ForecastDifferentialTests(output)
{
    protected override IUsageStore OpenStore() => new SqliteUsageStore(Folder.File("forecast-sample.db"), Clock);

    [Fact]
    public void AFixedSampleOfCases_ForecastsAsTheModelSays() => CheckCases(150, (20261207, 1442695040888963407));
}

/// <summary>How a forecast is rounded: to six significant figures, and never past six decimals.</summary>
public sealed class ForecastRoundingTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("613407.119107", "613407")]
    [InlineData("1234567.5", "1234568")]
    [InlineData("999999.5", "1000000")]
    [InlineData("100000.5", "100001")]
    [InlineData("99999.95", "100000")]
    [InlineData("12345.65", "12345.7")]
    [InlineData("12.3456789", "12.3457")]
    [InlineData("1.0000004", "1")]
    [InlineData("0.1234565", "0.123457")]
    [InlineData("0.000123456789", "0.000123")]
    [InlineData("0.0000004", "0")]
    [InlineData("0.0000005", "0.000001")]
    [InlineData("7440.000000000001", "7440")]
    public void AnEstimate_HasSixSignificantFigures_AndAtMostSixDecimals(string value, string expected) =>
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture),
            UsageForecasts.Estimate(decimal.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
}
