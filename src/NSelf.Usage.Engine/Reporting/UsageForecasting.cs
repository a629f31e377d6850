namespace NSelf.Usage.Engine.Reporting;

/// <summary>One day of a forecast: its weekday (0 = Sunday) and the share of it still to come (1 for a whole future day).</summary>
public readonly record struct ForecastDay(int Weekday, double Share);

/// <summary>What is left of a period: the usage expected in it, and an 80% interval around that.</summary>
public sealed record Projection(double Rest, double? Low, double? High, IReadOnlyList<double> Daily, string Method);

/// <summary>
/// Where a period's usage will end, from the whole days before it (the method and its assumptions:
/// docs/Get-UsageForecast.md; decision 243). Candidates are fitted by least squares to up to
/// <see cref="HistoryDays"/> days: a steady mean, a straight-line trend and a step, each also with a
/// weekly pattern once <see cref="WeeklyDays"/> days show one; their forecasts are averaged with
/// weights from the Bayesian information criterion, the mean starting with odds of 3 to 1. The
/// interval is the averaged prediction variance of the sum of the days to come (each day's
/// scatter, proportional to its size; the fit's own uncertainty; the candidates' disagreement) at
/// Student's t for 80%. Below <see cref="MinimumDays"/> days there is no trend or step, and below
/// two days no interval.
/// </summary>
public static class UsageForecasting
{
    public const string TrendWeekly = "trend+weekly";
    public const string Trend = "trend";
    public const string Mean = "mean";
    public const string RunRate = "run-rate";

    /// <summary>How many whole days before today the fit reads: four weeks, so a weekly pattern is seen four times and old behaviour fades.</summary>
    public const int HistoryDays = 28;

    /// <summary>Below this many days of history the line is flat (a slope from a few days is mostly noise).</summary>
    public const int MinimumDays = 7;

    /// <summary>From this many days of history a weekly pattern is fitted (each weekday seen twice).</summary>
    public const int WeeklyDays = 14;

    /// <summary>
    /// The usage expected in <paramref name="days"/> (today's rest first, then each day to the period's end),
    /// from <paramref name="history"/>: the whole days before today, oldest first, the last ending where today starts.
    /// </summary>
    /// <param name="firstWeekday">The weekday of history[0] (0 = Sunday).</param>
    public static Projection Project(IReadOnlyList<double> history, int firstWeekday, IReadOnlyList<ForecastDay> days)
    {
        var n = history.Count;
        if (n == 0)
            return new Projection(0, null, null, days.Select(_ => 0d).ToList(), Mean);
        int WeekdayOf(int t) => ((firstWeekday + t) % 7 + 7) % 7;
        var flat = new double[7];
        Array.Fill(flat, 1d);
        var weekly = n >= WeeklyDays ? WeeklyPattern(history, WeekdayOf) : null;

        // Each candidate is fitted, and the forecasts are averaged with weights from the Bayesian
        // information criterion (exp(-BIC/2)): a trend, a step or a weekly pattern counts only as far
        // as it explains more than its parameters cost, and where candidates disagree the interval
        // widens by their disagreement.
        var fits = new List<Fit>();
        foreach (var pattern in weekly is null ? [flat] : new[] { flat, weekly })
            foreach (var shape in new[] { Mean, Trend, Step })
                if (Candidate(history, WeekdayOf, pattern, shape, pattern != flat) is { } fit)
                    fits.Add(fit);
        var lowest = fits.Min(f => f.Criterion);
        var weights = fits.Select(f => Math.Exp(-(f.Criterion - lowest) / 2) * (f.Method == Mean ? 3 : 1)).ToArray();
        var sum = weights.Sum();
        var outcomes = fits.Select(f => Outcome(f, n, days)).ToList();

        var daily = new double[days.Count];
        double rest = 0;
        for (var i = 0; i < fits.Count; i++)
        {
            var w = weights[i] / sum;
            rest += w * outcomes[i].Expected;
            for (var k = 0; k < days.Count; k++)
                daily[k] += w * outcomes[i].Daily[k];
        }
        var method = fits[Array.IndexOf(weights, weights.Max())].Method;
        if (outcomes.Where((o, i) => weights[i] / sum > 1e-3).Any(o => o.Variance is null))
            return new Projection(rest, null, null, daily, method);
        double variance = 0;
        for (var i = 0; i < fits.Count; i++)
            if (outcomes[i].Variance is { } v)
                variance += weights[i] / sum * (v + Math.Pow(outcomes[i].Expected - rest, 2));
        var freedom = fits.Where((f, i) => weights[i] / sum > 1e-3).Min(f => f.Freedom);
        var half = StudentT90(freedom) * Math.Sqrt(variance);
        return new Projection(rest, Math.Max(0, rest - half), rest + half, daily, method);
    }

    /// <summary>What one candidate expects of the days to come, and the variance of their sum (null without enough history to tell).</summary>
    private static (double Expected, double[] Daily, double? Variance) Outcome(Fit fit, int n, IReadOnlyList<ForecastDay> days)
    {
        var daily = new double[days.Count];
        double rest = 0, sumC = 0, sumCx = 0, noise = 0;
        for (var k = 0; k < days.Count; k++)
        {
            var t = n + k;
            var c = days[k].Share * fit.Pattern[days[k].Weekday];
            var expected = Math.Max(0, fit.Level(t) * c);
            daily[k] = expected;
            rest += expected;
            sumC += c;
            sumCx += c * (t - fit.XMean);
            // Usage scatters in proportion to its size (a busier day varies more): each day's scatter
            // is the history's relative scatter at that day's expected size, where it can be measured.
            noise += double.IsNaN(fit.RelativeVariance) ? c * c * fit.Variance : expected * expected * fit.RelativeVariance;
        }
        if (fit.Freedom < 1)
            return (rest, daily, null);
        // The scatter of each day to come, and the uncertainty of the fitted level (and slope).
        return (rest, daily, noise + fit.Variance * (sumC * sumC / fit.LevelPoints + (fit.Sxx > 0 ? sumCx * sumCx / fit.Sxx : 0)));
    }

    private const string Step = "step";

    /// <summary>A fitted candidate: its level on day t (in units of an average weekday), its weekday pattern, and what its interval needs.</summary>
    private sealed record Fit(string Method, Func<double, double> Level, double[] Pattern, double Criterion, double Variance, int Freedom,
        int LevelPoints, double XMean, double Sxx, double RelativeVariance);

    private static Fit? Candidate(IReadOnlyList<double> history, Func<int, int> weekdayOf, double[] pattern, string shape, bool weekly)
    {
        var n = history.Count;
        // A weekday with (almost) no usage says nothing about the level.
        var points = Enumerable.Range(0, n).Where(t => pattern[weekdayOf(t)] > 0.05).ToList();
        var xs = points.Select(t => (double)t).ToArray();
        var zs = points.Select(t => history[t] / pattern[weekdayOf(t)]).ToArray();
        var m = xs.Length;
        // m is at least 1: the flat pattern keeps every day, and a weekly one (from 14 days, every
        // weekday seen) sums to 7, so some weekday is above the cut.
        if (shape != Mean && m < MinimumDays)
            return null;
        Func<double, double> level;
        int parameters, levelPoints = m;
        double xMean = xs.Average(), sxx = 0;
        switch (shape)
        {
            case Trend:
                var (meanZ, slope) = Line(xs, zs);
                level = t => meanZ + slope * (t - xMean);
                sxx = xs.Sum(x => (x - xMean) * (x - xMean));
                parameters = 2;
                break;
            case Step:
                // The level after the best split (at least three days on each side): the change kept.
                var (split, after) = (-1, 0d);
                var bestRss = double.MaxValue;
                for (var k = 3; k <= m - 3; k++)
                {
                    var a = zs[..k].Average();
                    var b = zs[k..].Average();
                    var rss = zs[..k].Sum(z => (z - a) * (z - a)) + zs[k..].Sum(z => (z - b) * (z - b));
                    if (rss < bestRss)
                        (bestRss, split, after) = (rss, k, b);
                }
                var before = zs[..split].Average();
                level = t => t < xs[split] ? before : after;
                // Only the level after the split is carried forward: its uncertainty is that of a mean of the days after it.
                levelPoints = m - split;
                // The split is chosen from the days too: it costs a parameter of its own.
                parameters = 4;
                break;
            default:
                var mean = zs.Average();
                level = _ => mean;
                parameters = 1;
                break;
        }
        var seasonal = weekly ? 6 : 0;
        double residual = 0, raw = 0, relative = 0;
        var relativePoints = 0;
        for (var i = 0; i < m; i++)
        {
            var fitted = level(xs[i]);
            residual += Math.Pow(zs[i] - fitted, 2);
            raw += Math.Pow(history[points[i]] - fitted * pattern[weekdayOf(points[i])], 2);
            if (fitted > 0)
            {
                relative += Math.Pow((zs[i] - fitted) / fitted, 2);
                relativePoints++;
            }
        }
        var freedom = m - parameters - seasonal;
        // BIC on the days as they were (not deseasonalized), so that candidates with and without a
        // weekly pattern are judged on the same numbers; a floor keeps a perfect fit comparable.
        var criterion = n * Math.Log(Math.Max(raw / n, 1e-12)) + (parameters + seasonal) * Math.Log(n);
        var method = (shape, weekly) switch
        {
            (Trend, true) => TrendWeekly,
            (Trend, false) => Trend,
            (Step, true) => "step+weekly",
            (Step, false) => Step,
            (_, true) => "mean+weekly",
            _ => Mean,
        };
        return new Fit(method, level, pattern, criterion, freedom >= 1 ? residual / freedom : 0, freedom, levelPoints, xMean, sxx,
            freedom >= 1 && relativePoints == m ? relative / freedom : double.NaN);
    }

    /// <summary>Each weekday's share of a week (seven in all), from the history with its straight-line trend taken out; null when the history shows no usage.</summary>
    private static double[]? WeeklyPattern(IReadOnlyList<double> history, Func<int, int> weekdayOf)
    {
        var n = history.Count;
        var (_, slope) = Line(Enumerable.Range(0, n).Select(t => (double)t).ToArray(), history.ToArray());
        var detrended = Enumerable.Range(0, n).Select(t => history[t] - slope * (t - (n - 1) / 2d)).ToArray();
        var mean = detrended.Average();
        if (mean <= 0)
            return null;
        var pattern = new double[7];
        for (var w = 0; w < 7; w++)
            pattern[w] = Math.Max(0, Enumerable.Range(0, n).Where(t => weekdayOf(t) == w).Select(t => detrended[t]).DefaultIfEmpty(mean).Average() / mean);
        var total = pattern.Sum();
        // The total is positive: the mean is, so some weekday's average is.
        for (var w = 0; w < 7; w++)
            pattern[w] = pattern[w] * 7 / total;
        return pattern;
    }

    /// <summary>
    /// The run rate most tools show: the period so far, scaled to the whole period
    /// (<paramref name="elapsed"/> of it has passed, 0 to 1). The backtest's baseline.
    /// </summary>
    public static double RunRateTotal(double usedSoFar, double elapsed) => elapsed <= 0 ? usedSoFar : usedSoFar / elapsed;

    /// <summary>Least squares: the mean of y and the slope of y over x (a line through the means).</summary>
    private static (double MeanY, double Slope) Line(double[] x, double[] y)
    {
        var xm = x.Average();
        var ym = y.Average();
        double sxy = 0, sxx = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - xm) * (y[i] - ym);
            sxx += (x[i] - xm) * (x[i] - xm);
        }
        return (ym, sxx == 0 ? 0 : sxy / sxx);
    }

    // The 90th percentile of Student's t (so that 80% of outcomes fall within plus or minus it),
    // by degrees of freedom; past 30 the normal's 1.2816 is within 2%.
    private static readonly double[] T90 = [0, 3.078, 1.886, 1.638, 1.533, 1.476, 1.440, 1.415, 1.397, 1.383, 1.372,
        1.363, 1.356, 1.350, 1.345, 1.341, 1.337, 1.333, 1.330, 1.328, 1.325, 1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.310];

    internal static double StudentT90(int freedom) => freedom < T90.Length ? T90[Math.Max(1, freedom)] : 1.2816;
}
