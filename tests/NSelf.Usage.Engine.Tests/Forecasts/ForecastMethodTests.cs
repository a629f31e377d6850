using System.Globalization;
using NSelf.Usage.Engine.Reporting;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Forecasts;

/// <summary>
/// UsageForecasting.Project against ForecastMethodModel (the method written the textbook way) on
/// generated histories: short and long, flat, growing, shrinking to nothing, weekly with quiet
/// weekends, stepping, noisy, bursty; days to come with a partial first and last day. Every
/// number the method gives (the rest of the period, each day, the interval, the leading method)
/// must agree. The seed is fixed so a failure repeats; NSELF_FORECAST_SEED tries another.
/// </summary>
public sealed class ForecastMethodTests(ITestOutputHelper output)
{
    public sealed record Case(int Seed, double[] History, int FirstWeekday, ForecastDay[] Days)
    {
        public override string ToString() =>
            $"seed {Seed}: history [{string.Join(", ", History.Select(h => h.ToString("R", CultureInfo.InvariantCulture)))}], first weekday {FirstWeekday}, "
            + $"days [{string.Join(", ", Days.Select(d => $"({d.Weekday}, {d.Share.ToString("R", CultureInfo.InvariantCulture)})"))}]";
    }

    /// <summary>One generated history and the days after it.</summary>
    public static Case Generate(int seed)
    {
        var random = new Random(seed);
        var n = random.Next(7) switch
        {
            0 => random.Next(0, 7),
            1 => random.Next(7, 14),
            2 or 3 => random.Next(14, 28),
            _ => 28,
        };
        var firstWeekday = random.Next(7);
        var level = random.Next(4) == 0 ? random.NextDouble() * 10 : 50 + random.NextDouble() * 5000;
        // A slope that may take the series towards zero before the period ends.
        var slope = random.Next(3) switch { 0 => 0, 1 => level * random.NextDouble() * 0.08, _ => -level * random.NextDouble() * 0.06 };
        // A weekly shape, its weekend quiet (no use at all) or slow.
        var weekly = random.Next(2) == 0
            ? Enumerable.Range(0, 7).Select(w => w is 0 or 6 ? random.Next(2) == 0 ? 0 : 0.3 : 1 + random.NextDouble() * 0.4).ToArray()
            : Enumerable.Repeat(1d, 7).ToArray();
        var stepAt = random.Next(3) == 0 ? random.Next(0, Math.Max(1, n)) : -1;
        var stepBy = 0.3 + random.NextDouble() * 2.5;
        var noise = random.Next(4) switch { 0 => 0, 1 => 0.02, 2 => 0.15, _ => 0.5 };
        var whole = random.Next(2) == 0;
        var history = new double[n];
        for (var t = 0; t < n; t++)
        {
            var value = (level + slope * t) * weekly[(firstWeekday + t) % 7] * (stepAt >= 0 && t >= stepAt ? stepBy : 1);
            value *= 1 + noise * (random.NextDouble() * 2 - 1);
            if (random.Next(25) == 0)
                value *= random.Next(2) == 0 ? 0 : 6;
            value = Math.Max(0, value);
            history[t] = whole ? Math.Round(value) : Math.Round(value, 3);
        }
        var count = random.Next(5) == 0 ? random.Next(0, 3) : random.Next(3, 32);
        var days = new ForecastDay[count];
        for (var k = 0; k < count; k++)
        {
            var share = k == 0 ? random.Next(3) == 0 ? 1 : random.NextDouble() : k == count - 1 && random.Next(3) == 0 ? random.NextDouble() : 1;
            days[k] = new ForecastDay((firstWeekday + n + k) % 7, share);
        }
        return new Case(seed, history, firstWeekday, days);
    }

    public static TheoryData<int> Batches() => new() { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };

    [Theory]
    [MemberData(nameof(Batches))]
    public void TheEngine_AgreesWithTheTextbookModel_OnGeneratedHistories(int batch)
    {
        var first = int.TryParse(Environment.GetEnvironmentVariable("NSELF_FORECAST_SEED"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 20261207;
        const int perBatch = 120;
        for (var i = 0; i < perBatch; i++)
        {
            var c = Generate(first + batch * perBatch + i);
            try
            {
                Compare(c);
            }
            catch (Exception)
            {
                output.WriteLine($"Failing case: {c}");
                throw;
            }
        }
    }

    private static void Compare(Case c)
    {
        var engine = UsageForecasting.Project(c.History, c.FirstWeekday, c.Days);
        var model = ForecastMethodModel.Project(c.History, c.FirstWeekday, c.Days);
        var scale = Math.Max(1, c.History.DefaultIfEmpty(0).Max() * Math.Max(1, c.Days.Length));
        void Close(double expected, double actual, string what)
        {
            if (Math.Abs(expected - actual) > 1e-7 * scale)
                Assert.Fail($"{what}: model {expected:R}, engine {actual:R}");
        }
        Close(model.Rest, engine.Rest, "rest of the period");
        Assert.Equal(model.Daily.Length, engine.Daily.Count);
        for (var k = 0; k < model.Daily.Length; k++)
            Close(model.Daily[k], engine.Daily[k], $"day {k}");
        Assert.Equal(model.Low is null, engine.Low is null);
        Assert.Equal(model.High is null, engine.High is null);
        if (model.Low is { } low)
            Close(low, engine.Low!.Value, "low end");
        if (model.High is { } high)
            Close(high, engine.High!.Value, "high end");
        // The leading method, unless two candidates are within rounding of each other.
        var weights = model.Candidates.Select(x => x.Bic).ToList();
        var ordered = model.Candidates.Select(x => Math.Exp((weights.Min() - x.Bic) / 2) * (x.Method == UsageForecasting.Mean ? 3 : 1))
            .OrderByDescending(w => w).ToList();
        if (ordered.Count < 2 || ordered[0] - ordered[1] > 1e-6 * ordered[0])
            Assert.Equal(model.Method, engine.Method);
    }

    [Fact]
    public void TheStudentTTable_IsTheDistributionsOwn_ToThreeDecimals()
    {
        for (var freedom = 1; freedom <= 30; freedom++)
            Assert.Equal(ForecastMethodModel.Quantile90(freedom), UsageForecasting.StudentT90(freedom), 3);
        // Past the table, the normal: within 2.5% of the distribution's own quantile at 31, and closer beyond.
        Assert.Equal(1.2816, UsageForecasting.StudentT90(31));
        Assert.Equal(1.2816, UsageForecasting.StudentT90(500));
        Assert.InRange(ForecastMethodModel.ExactQuantile90(31) / 1.2816, 1, 1.025);
        // No freedom at all is read as one.
        Assert.Equal(UsageForecasting.StudentT90(1), UsageForecasting.StudentT90(0));
    }
}
