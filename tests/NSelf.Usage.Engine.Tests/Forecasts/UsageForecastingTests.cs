using NSelf.Usage.Bench;
using NSelf.Usage.Engine.Reporting;

namespace NSelf.Usage.Engine.Tests.Forecasts;

/// <summary>
/// The forecast method on series whose truth is known: exact shapes are carried forward exactly,
/// and the backtest (issue 20) holds its targets: at most 10% mean absolute percentage error on the
/// trend and seasonal series, and an 80% interval that covers the truth 70-90% of the time.
/// </summary>
public sealed class UsageForecastingTests
{
    private static List<ForecastDay> Days(int count, int firstWeekday, double firstShare = 1) =>
        Enumerable.Range(0, count).Select(k => new ForecastDay((firstWeekday + k) % 7, k == 0 ? firstShare : 1)).ToList();

    [Fact]
    public void ASteadySeries_IsCarriedForwardAtItsLevel_WithANarrowIntervalAroundIt()
    {
        var history = Enumerable.Range(0, 28).Select(t => 1000d + (t % 2 == 0 ? 10 : -10)).ToList();
        var projection = UsageForecasting.Project(history, 1, Days(10, 1));
        Assert.Equal(UsageForecasting.Mean, projection.Method);
        // The richer shapes weigh almost nothing here: within 0.1% of the level.
        Assert.InRange(projection.Rest, 9_990, 10_010);
        Assert.InRange(projection.Low!.Value, 9_850, projection.Rest);
        Assert.InRange(projection.High!.Value, projection.Rest, 10_150);
        Assert.All(projection.Daily, d => Assert.InRange(d, 999, 1001));
    }

    [Theory]
    [InlineData(1)]
    // A million requests a day growing by 100,000: the exact line's criterion is so far below the
    // others' that their weights underflow to nothing; they must not overflow to infinity.
    [InlineData(10_000)]
    public void AStraightLine_IsCarriedForwardExactly(double scale)
    {
        // 100 on day 0, 10 more each day: days 28 to 31 are 380, 390, 400, 410 (times the scale).
        var history = Enumerable.Range(0, 28).Select(t => (100d + 10 * t) * scale).ToList();
        var projection = UsageForecasting.Project(history, 0, Days(4, 0));
        Assert.Equal(UsageForecasting.Trend, projection.Method);
        Assert.Equal([380 * scale, 390 * scale, 400 * scale, 410 * scale], projection.Daily.Select(d => Math.Round(d, 6)));
        Assert.Equal(1580 * scale, projection.Rest, 6);
        Assert.Equal(1580 * scale, projection.Low!.Value, 3);
        Assert.Equal(1580 * scale, projection.High!.Value, 3);
    }

    [Fact]
    public void TwoWeeksOfNothing_ForecastNothing_WithoutAWeeklyPattern()
    {
        var projection = UsageForecasting.Project(Enumerable.Repeat(0d, 14).ToList(), 2, Days(9, 2));
        Assert.Equal((0d, 0d, 0d, UsageForecasting.Mean), (projection.Rest, projection.Low, projection.High, projection.Method));
        Assert.All(projection.Daily, d => Assert.Equal(0d, d));
    }

    [Fact]
    public void TheRunRate_ScalesThePeriodSoFarToTheWholePeriod()
    {
        Assert.Equal(1200d, UsageForecasting.RunRateTotal(300, 0.25));
        Assert.Equal(300d, UsageForecasting.RunRateTotal(300, 1));
        // Before any of the period has passed there is nothing to scale: what is used is what is known.
        Assert.Equal(300d, UsageForecasting.RunRateTotal(300, 0));
    }

    [Fact]
    public void AWeeklyPattern_IsRepeated_AndTheRestOfTodayIsItsShare()
    {
        // Weekdays 100, weekends 20 (Sunday = 0, Saturday = 6), four weeks.
        var history = Enumerable.Range(0, 28).Select(t => t % 7 is 0 or 6 ? 20d : 100d).ToList();
        var projection = UsageForecasting.Project(history, 0, Days(8, 0, firstShare: 0.5));
        Assert.Equal("mean+weekly", projection.Method);
        Assert.Equal([10, 100, 100, 100, 100, 100, 20, 20], projection.Daily.Select(d => Math.Round(d, 6)));
    }

    [Fact]
    public void AStep_IsFollowedAtItsNewLevel()
    {
        var history = Enumerable.Range(0, 20).Select(t => t < 12 ? 100d : 300d).ToList();
        var projection = UsageForecasting.Project(history, 0, Days(5, 6));
        Assert.Equal("step", projection.Method);
        Assert.Equal(1500, projection.Rest, 6);
    }

    [Fact]
    public void WithoutHistory_NothingMoreIsExpected_AndWithOneDayThereIsNoInterval()
    {
        var none = UsageForecasting.Project([], 0, Days(5, 0));
        Assert.Equal((0d, (double?)null, (double?)null), (none.Rest, none.Low, none.High));
        var one = UsageForecasting.Project([40], 3, Days(5, 4));
        Assert.Equal((200d, (double?)null, UsageForecasting.Mean), (one.Rest, one.Low, one.Method));
    }

    [Fact]
    public void Usage_IsNeverForecastBelowZero()
    {
        // A falling line would cross zero within the days to come: those days are 0, not negative.
        var history = Enumerable.Range(0, 20).Select(t => 200d - 10 * t).ToList();
        var projection = UsageForecasting.Project(history, 0, Days(10, 0));
        Assert.All(projection.Daily, d => Assert.True(d >= 0));
        Assert.True(projection.Low >= 0);
    }

    [Fact]
    public void TheStudentTQuantile_NarrowsToTheNormalsAsHistoryGrows()
    {
        Assert.Equal(3.078, UsageForecasting.StudentT90(1));
        Assert.Equal(1.325, UsageForecasting.StudentT90(20));
        Assert.Equal(1.2816, UsageForecasting.StudentT90(200));
    }

    [Fact]
    public void Backtest_MeetsItsTargets_OnTheTrendAndSeasonalSeries_AndTheIntervalCoversEightInTen()
    {
        var scores = ForecastBacktest.Run(300, 20261207);
        foreach (var kind in ForecastBacktest.Kinds)
        {
            var ours = scores.Single(s => s.Kind == kind && s.Method == ForecastBacktest.Method);
            // Every kind's interval covers the truth 70-90% of the time.
            Assert.InRange(ours.IntervalCoverage!.Value, 70, 90);
            if (kind is "linear growth" or "weekly seasonality")
                Assert.True(ours.MeanAbsolutePercentError <= 10, $"{kind}: {ours.MeanAbsolutePercentError:F2}%");
        }
        // Where the run rate is wrong by design (growth, a step), the forecast is far better.
        double Error(string kind, string method) => scores.Single(s => s.Kind == kind && s.Method == method).MeanAbsolutePercentError;
        Assert.True(Error("linear growth", ForecastBacktest.Method) * 3 < Error("linear growth", UsageForecasting.RunRate));
        Assert.True(Error("step change", ForecastBacktest.Method) * 3 < Error("step change", UsageForecasting.RunRate));
    }
}
