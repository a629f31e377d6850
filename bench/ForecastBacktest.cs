using NSelf.Usage.Engine.Reporting;

namespace NSelf.Usage.Bench;

/// <summary>
/// The forecast backtest (issue 20): series with a known truth, a 30-day month forecast from its
/// first 20 days, and each method's error on the last 10 days' total. Shared by the benchmark
/// (bench/results.md) and an xUnit test that holds the targets.
/// </summary>
public static class ForecastBacktest
{
    public const int MonthDays = 30;
    public const int KnownDays = 20;

    public static readonly string[] Kinds = ["flat", "linear growth", "weekly seasonality", "step change", "noise"];

    /// <summary>The method under test, as the scores name it: UsageForecasting's candidates, averaged.</summary>
    public const string Method = "forecast";

    public sealed record Score(string Kind, string Method, int Series, double MeanAbsolutePercentError, double? IntervalCoverage);

    /// <summary>One month of daily usage of a kind, drawn with the given random source; the month starts on <paramref name="weekday0"/> (0 = Sunday).</summary>
    public static double[] Series(string kind, Random random, int weekday0)
    {
        var level = 50 + random.NextDouble() * 5000;
        var growth = 0.01 + random.NextDouble() * 0.04;
        var stepDay = 8 + random.Next(9);
        var step = 1.5 + random.NextDouble() * 1.5;
        // Weekends are quiet in a weekly pattern: a business's API traffic.
        double[] week = [0.35, 1.1, 1.2, 1.2, 1.15, 1.1, 0.4];
        var noise = kind == "noise" ? 0.35 : 0.1;
        var days = new double[MonthDays];
        for (var t = 0; t < MonthDays; t++)
        {
            var mean = kind switch
            {
                "linear growth" => level * (1 + growth * t),
                "weekly seasonality" => level * week[(weekday0 + t) % 7],
                "step change" => t < stepDay ? level : level * step,
                _ => level,
            };
            days[t] = Math.Max(0, mean * (1 + noise * Normal(random)));
        }
        return days;
    }

    /// <summary>Scores every kind: <paramref name="series"/> series each, drawn from <paramref name="seed"/>.</summary>
    public static IReadOnlyList<Score> Run(int series, int seed)
    {
        var scores = new List<Score>();
        foreach (var kind in Kinds)
        {
            var random = new Random(seed + Array.IndexOf(Kinds, kind));
            double trendError = 0, runRateError = 0;
            var covered = 0;
            for (var i = 0; i < series; i++)
            {
                var weekday0 = random.Next(7);
                var days = Series(kind, random, weekday0);
                var known = days[..KnownDays];
                var truth = days[KnownDays..].Sum();
                var future = Enumerable.Range(KnownDays, MonthDays - KnownDays).Select(t => new ForecastDay((weekday0 + t) % 7, 1)).ToList();
                var projection = UsageForecasting.Project(known, weekday0, future);
                trendError += Math.Abs(projection.Rest - truth) / truth;
                var runRate = UsageForecasting.RunRateTotal(known.Sum(), KnownDays / (double)MonthDays) - known.Sum();
                runRateError += Math.Abs(runRate - truth) / truth;
                if (projection.Low <= truth && truth <= projection.High)
                    covered++;
            }
            scores.Add(new Score(kind, Method, series, 100 * trendError / series, 100.0 * covered / series));
            scores.Add(new Score(kind, UsageForecasting.RunRate, series, 100 * runRateError / series, null));
        }
        return scores;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
