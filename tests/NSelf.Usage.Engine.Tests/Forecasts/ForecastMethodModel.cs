using NSelf.Usage.Engine.Reporting;

namespace NSelf.Usage.Engine.Tests.Forecasts;

/// <summary>
/// The forecast method of docs/Get-UsageForecast.md written the textbook way, to check
/// UsageForecasting.Project against: every candidate is a linear model y = Xb fitted by solving
/// the normal equations, and the uncertainty of what it expects for the rest of the period is
/// s^2 g'(X'X)^-1 g, with g the sum of the future rows weighted by their day's share and weekday.
/// Nothing here is shared with the engine but the published constants.
/// </summary>
public static class ForecastMethodModel
{
    public sealed record Candidate(string Method, double Bic, double Expected, double[] Daily, double? Variance, int Freedom);

    public sealed record Result(double Rest, double? Low, double? High, double[] Daily, string Method, IReadOnlyList<Candidate> Candidates);

    /// <summary>Weekdays whose share of the week is at most this say nothing about the level.</summary>
    private const double QuietWeekday = 0.05;

    /// <summary>Odds the steady mean starts with against each other candidate.</summary>
    private const double MeanOdds = 3;

    /// <summary>The parameters a step costs: two levels and the split, counted as the engine documents (decision 243).</summary>
    private const int StepParameters = 4;

    public static Result Project(IReadOnlyList<double> history, int firstWeekday, IReadOnlyList<ForecastDay> days)
    {
        var n = history.Count;
        if (n == 0)
            return new Result(0, null, null, new double[days.Count], "mean", []);
        var weekdays = Enumerable.Range(0, n).Select(t => (firstWeekday + t) % 7).ToArray();
        var patterns = new List<(double[] Shares, bool Weekly)> { (Enumerable.Repeat(1d, 7).ToArray(), false) };
        if (n >= 14 && WeekShares(history, weekdays) is { } shares)
            patterns.Add((shares, true));

        var candidates = new List<Candidate>();
        foreach (var (pattern, weekly) in patterns)
            foreach (var shape in new[] { "mean", "trend", "step" })
                if (Fit(history, weekdays, pattern, weekly, shape, days) is { } candidate)
                    candidates.Add(candidate);

        var best = candidates.Min(c => c.Bic);
        var raw = candidates.Select(c => Math.Exp((best - c.Bic) / 2) * (c.Method == "mean" ? MeanOdds : 1)).ToArray();
        var weights = raw.Select(w => w / raw.Sum()).ToArray();
        var rest = candidates.Select((c, i) => weights[i] * c.Expected).Sum();
        var daily = Enumerable.Range(0, days.Count).Select(k => candidates.Select((c, i) => weights[i] * c.Daily[k]).Sum()).ToArray();
        var leader = candidates[Array.IndexOf(weights, weights.Max())].Method;
        var counted = candidates.Where((c, i) => weights[i] > 1e-3).ToList();
        if (counted.Any(c => c.Variance is null))
            return new Result(rest, null, null, daily, leader, candidates);
        // Total variance: within each candidate, plus the spread of their expectations around the average.
        var variance = candidates.Select((c, i) => c.Variance is { } v ? weights[i] * (v + (c.Expected - rest) * (c.Expected - rest)) : 0).Sum();
        var half = Quantile90(counted.Min(c => c.Freedom)) * Math.Sqrt(variance);
        return new Result(rest, Math.Max(0, rest - half), rest + half, daily, leader, candidates);
    }

    /// <summary>Each weekday's share of the week, from the history with its least-squares slope taken out around the middle day.</summary>
    private static double[]? WeekShares(IReadOnlyList<double> history, int[] weekdays)
    {
        var n = history.Count;
        var line = Solve(Enumerable.Range(0, n).Select(t => new double[] { 1, t }).ToArray(), history.ToArray());
        var middle = (n - 1) / 2d;
        var level = Enumerable.Range(0, n).Select(t => history[t] - line[1] * (t - middle)).ToArray();
        var average = level.Average();
        if (average <= 0)
            return null;
        var shares = new double[7];
        for (var w = 0; w < 7; w++)
        {
            var seen = Enumerable.Range(0, n).Where(t => weekdays[t] == w).Select(t => level[t]).ToList();
            shares[w] = Math.Max(0, (seen.Count == 0 ? average : seen.Average()) / average);
        }
        var total = shares.Sum();
        return total > 0 ? shares.Select(s => 7 * s / total).ToArray() : Enumerable.Repeat(1d, 7).ToArray();
    }

    private static Candidate? Fit(IReadOnlyList<double> history, int[] weekdays, double[] pattern, bool weekly, string shape, IReadOnlyList<ForecastDay> days)
    {
        var n = history.Count;
        var used = Enumerable.Range(0, n).Where(t => pattern[weekdays[t]] > QuietWeekday).ToArray();
        var m = used.Length;
        var name = weekly ? shape + "+weekly" : shape;
        if (m == 0)
            return shape == "mean" ? new Candidate(name, double.MaxValue, 0, new double[days.Count], null, 0) : null;
        if (shape != "mean" && m < UsageForecasting.MinimumDays)
            return null;
        // The level in units of an average weekday: each day divided by its weekday's share.
        var y = used.Select(t => history[t] / pattern[weekdays[t]]).ToArray();
        double[] Row(int t, int split) => shape switch
        {
            "trend" => [1, t],
            "step" => t < split ? [1, 0] : [0, 1],
            _ => [1],
        };
        int split = -1;
        if (shape == "step")
        {
            // The split with the smallest squared error, at least three days on each side; the first of equals.
            var bestError = double.PositiveInfinity;
            for (var k = 3; k <= m - 3; k++)
            {
                var error = SquaredError(used, y, t => Row(t, used[k]));
                if (error < bestError)
                    (bestError, split) = (error, used[k]);
            }
        }
        var rows = used.Select(t => Row(t, split)).ToArray();
        var b = Solve(rows, y);
        double LevelAt(int t) => Dot(Row(t, split), b);
        var parameters = shape switch { "trend" => 2, "step" => StepParameters, _ => 1 } + (weekly ? 6 : 0);
        var freedom = m - parameters;
        var fitted = used.Select(LevelAt).ToArray();
        var residuals = y.Select((v, i) => v - fitted[i]).ToArray();
        var asRecorded = used.Select((t, i) => history[t] - fitted[i] * pattern[weekdays[t]]).Sum(r => r * r);
        var bic = n * Math.Log(Math.Max(asRecorded / n, 1e-12)) + parameters * Math.Log(n);
        var s2 = freedom >= 1 ? residuals.Sum(r => r * r) / freedom : 0;
        var relative = freedom >= 1 && fitted.All(f => f > 0) ? residuals.Select((r, i) => r / fitted[i]).Sum(q => q * q) / freedom : double.NaN;

        var daily = new double[days.Count];
        var g = new double[rows[0].Length];
        double scatter = 0;
        for (var k = 0; k < days.Count; k++)
        {
            var t = n + k;
            var weight = days[k].Share * pattern[days[k].Weekday];
            daily[k] = Math.Max(0, LevelAt(t) * weight);
            var row = Row(t, split);
            for (var j = 0; j < g.Length; j++)
                g[j] += weight * row[j];
            scatter += double.IsNaN(relative) ? weight * weight * s2 : daily[k] * daily[k] * relative;
        }
        double? variance = freedom >= 1 ? scatter + s2 * Dot(g, Solve(Gram(rows), g)) : null;
        return new Candidate(name, bic, daily.Sum(), daily, variance, freedom);
    }

    private static double SquaredError(int[] used, double[] y, Func<int, double[]> row)
    {
        var rows = used.Select(row).ToArray();
        var b = Solve(rows, y);
        return rows.Select((r, i) => y[i] - Dot(r, b)).Sum(e => e * e);
    }

    /// <summary>Least squares by the normal equations (X'X)b = X'y; a column with no data (a step side never seen) gets 0.</summary>
    private static double[] Solve(double[][] x, double[] y)
    {
        var p = x[0].Length;
        var xty = new double[p];
        for (var i = 0; i < x.Length; i++)
            for (var j = 0; j < p; j++)
                xty[j] += x[i][j] * y[i];
        return Solve(Gram(x), xty);
    }

    private static double[,] Gram(double[][] x)
    {
        var p = x[0].Length;
        var a = new double[p, p];
        foreach (var row in x)
            for (var i = 0; i < p; i++)
                for (var j = 0; j < p; j++)
                    a[i, j] += row[i] * row[j];
        return a;
    }

    /// <summary>Gaussian elimination with partial pivoting on a small symmetric system; a zero pivot (a flat x) leaves that unknown at 0.</summary>
    private static double[] Solve(double[,] a0, double[] b0)
    {
        var p = b0.Length;
        var a = (double[,])a0.Clone();
        var b = (double[])b0.Clone();
        for (var c = 0; c < p; c++)
        {
            var pivot = Enumerable.Range(c, p - c).MaxBy(r => Math.Abs(a[r, c]));
            for (var j = 0; j < p; j++)
                (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
            (b[c], b[pivot]) = (b[pivot], b[c]);
            if (Math.Abs(a[c, c]) < 1e-12)
                continue;
            for (var r = 0; r < p; r++)
            {
                if (r == c)
                    continue;
                var f = a[r, c] / a[c, c];
                for (var j = 0; j < p; j++)
                    a[r, j] -= f * a[c, j];
                b[r] -= f * b[c];
            }
        }
        return Enumerable.Range(0, p).Select(i => Math.Abs(a[i, i]) < 1e-12 ? 0 : b[i] / a[i, i]).ToArray();
    }

    private static double Dot(double[] a, double[] b) => a.Select((v, i) => v * b[i]).Sum();

    private static readonly Dictionary<int, double> Quantiles = [];

    /// <summary>
    /// The 90th percentile of Student's t as the method states it: to three decimals up to 30 degrees
    /// of freedom (the printed tables' precision), the normal's 1.2816 beyond.
    /// </summary>
    public static double Quantile90(int freedom)
    {
        if (freedom > 30)
            return 1.2816;
        lock (Quantiles)
        {
            if (!Quantiles.TryGetValue(freedom, out var q))
                Quantiles[freedom] = q = Math.Round(ExactQuantile90(freedom), 3);
            return q;
        }
    }

    /// <summary>
    /// The x where Student's t with the given freedom leaves 10% above it, from the density alone:
    /// bisection on the upper tail, integrated by Simpson's rule after x = tan(a) maps the half line
    /// onto [0, pi/2).
    /// </summary>
    public static double ExactQuantile90(int freedom)
    {
        double Integrand(double a)
        {
            a = Math.Min(a, Math.PI / 2 - 1e-9);
            var x = Math.Tan(a);
            return Math.Pow(1 + x * x / freedom, -(freedom + 1) / 2d) / (Math.Cos(a) * Math.Cos(a));
        }
        double Integral(double from, double to)
        {
            const int steps = 4_000;
            var h = (to - from) / steps;
            var s = Integrand(from) + Integrand(to);
            for (var i = 1; i < steps; i++)
                s += (i % 2 == 1 ? 4 : 2) * Integrand(from + i * h);
            return s * h / 3;
        }
        var half = Integral(0, Math.PI / 2);
        double lo = 0, hi = 10;
        for (var i = 0; i < 40; i++)
        {
            var mid = (lo + hi) / 2;
            if (Integral(Math.Atan(mid), Math.PI / 2) / half > 0.20)
                lo = mid;
            else
                hi = mid;
        }
        return (lo + hi) / 2;
    }
}
