using System.Diagnostics;
using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Storage.Sqlite;
using NSelf.Usage.Engine.Tests.Storage;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Differential;

// Issue 20's forecast, differentially: UsageForecasts.For over a real store against a model that
// works from the raw events alone (local days, the period, the shares of the days to come, the
// crossing day, the price); UsageForecasting.Project is the shared rule, the plumbing is checked.

/// <summary>One api event: days and seconds before now's local midnight (Kind 0), exactly at a local midnight (1), or seconds before now (2).</summary>
public sealed record ForecastEvent(int Kind, int DaysBack, int Seconds, int Millis, decimal Quantity)
{
    public override string ToString() => $"({Kind}, {DaysBack}d, {Seconds}s.{Millis:D3}, {Quantity.ToString(CultureInfo.InvariantCulture)})";
}

/// <summary>A generated case: zone, subscription (days ago, at local midnight or at a second of day), plan, now (a local date and a second of it), events.</summary>
public sealed record ForecastCase(int Zone, int StartDaysAgo, int StartSecond, bool Daily, int Limit, decimal Price, DateOnly NowDate, int NowSecond, int NowMillis,
    IReadOnlyList<ForecastEvent> Events)
{
    public override string ToString() =>
        $"zone {ForecastModel.Zones[Zone]}, start {StartDaysAgo} days ago at {(StartSecond < 0 ? "midnight" : StartSecond + " s")}, {(Daily ? "daily" : "monthly")} limit {Limit} at {Price.ToString(CultureInfo.InvariantCulture)}, "
        + $"now {NowDate:yyyy-MM-dd} +{NowSecond}s.{NowMillis:D3} local-midnight-relative, events [{string.Join(", ", Events)}]";
}

public static class ForecastCases
{
    private static readonly DateOnly[] Dates =
    [
        new(2026, 3, 27), new(2026, 3, 29), new(2026, 3, 30), new(2026, 4, 2), new(2026, 4, 5), new(2026, 4, 6), new(2026, 9, 27), new(2026, 9, 28),
        new(2026, 10, 25), new(2026, 10, 26), new(2026, 10, 30), new(2026, 11, 1), new(2026, 11, 2), new(2026, 11, 5), new(2026, 3, 8), new(2026, 3, 9),
    ];

    private static Gen<ForecastEvent> EventGen() =>
        from kind in Gen.Frequency((8, Gen.Constant(0)), (1, Gen.Constant(1)), (1, Gen.Constant(2)))
        from days in Gen.Choose(0, 40)
        from seconds in kind == 2 ? Gen.Choose(1, 600) : Gen.Choose(0, 86_399)
        from millis in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(0, 999)))
        from quantity in Gen.Frequency((4, Gen.Choose(1, 500).Select(q => (decimal)q)), (1, Gen.Choose(1, 99_999).Select(q => q / 1000m)), (1, Gen.Choose(1000, 20_000).Select(q => (decimal)q)))
        select new ForecastEvent(kind, days, seconds, millis, quantity);

    public static Gen<ForecastCase> Cases() =>
        from zone in Gen.Choose(0, ForecastModel.Zones.Length - 1)
        from startDays in Gen.Frequency((3, Gen.Choose(0, 30)), (1, Gen.Choose(31, 45)))
        from startSecond in Gen.Frequency((1, Gen.Constant(-1)), (1, Gen.Choose(4 * 3600, 86_399)))
        from daily in Gen.Frequency((3, Gen.Constant(false)), (1, Gen.Constant(true)))
        from limit in Gen.Frequency((2, Gen.Choose(1, 2000)), (1, Gen.Choose(2000, 200_000)))
        from price in Gen.Elements(0m, 0.01m, 0.0001m, 1m, 0.125m)
        from date in Gen.Frequency((2, Gen.Elements(Dates)), (1, Gen.Choose(0, 364).Select(d => new DateOnly(2026, 1, 1).AddDays(d))))
        from nowSecond in Gen.Frequency((2, Gen.Choose(-300, 300)), (1, Gen.Choose(86_100, 86_399)), (3, Gen.Choose(0, 86_399)))
        from millis in Gen.Frequency((2, Gen.Constant(0)), (1, Gen.Choose(0, 999)))
        from count in Gen.Frequency((1, Gen.Constant(0)), (6, Gen.Choose(1, 40)), (2, Gen.Choose(40, 90)))
        from events in Gen.ListOf(EventGen(), count)
        select new ForecastCase(zone, startDays, startSecond, daily, limit, price, date, nowSecond, millis, events.ToList());
}

/// <summary>The forecast written from the rules, from the case's events alone.</summary>
public static class ForecastModel
{
    public static readonly string[] Zones = ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Auckland"];

    public static TimeZoneInfo ZoneOf(ForecastCase c) => TimeZoneInfo.FindSystemTimeZoneById(Zones[c.Zone]);

    /// <summary>A local midnight in the generated zones always exists and is never ambiguous.</summary>
    public static DateTimeOffset Midnight(DateOnly day, TimeZoneInfo zone) =>
        new(TimeZoneInfo.ConvertTimeToUtc(day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified), zone), TimeSpan.Zero);

    public static DateOnly LocalDate(DateTimeOffset t, TimeZoneInfo zone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(t, zone).DateTime);

    public static DateTimeOffset Now(ForecastCase c) => Midnight(c.NowDate, ZoneOf(c)).AddSeconds(c.NowSecond).AddMilliseconds(c.NowMillis);

    public static DateTimeOffset Start(ForecastCase c)
    {
        var zone = ZoneOf(c);
        var day = LocalDate(Now(c), zone).AddDays(-c.StartDaysAgo);
        if (c.StartSecond < 0)
            return Midnight(day, zone);
        // 04:00 or later: never in a DST change's hour.
        var local = day.ToDateTime(TimeOnly.MinValue).AddSeconds(c.StartSecond);
        var start = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
        return start < Now(c) ? start : Midnight(day, zone);
    }

    /// <summary>The events' instants: all before now.</summary>
    public static List<(DateTimeOffset At, decimal Quantity)> Events(ForecastCase c)
    {
        var zone = ZoneOf(c);
        var now = Now(c);
        var today = LocalDate(now, zone);
        var list = new List<(DateTimeOffset, decimal)>();
        foreach (var e in c.Events)
        {
            var at = e.Kind switch
            {
                1 => Midnight(today.AddDays(-e.DaysBack), zone),
                2 => now.AddSeconds(-e.Seconds).AddMilliseconds(-e.Millis),
                _ => Midnight(today.AddDays(-e.DaysBack), zone).AddSeconds(e.Seconds).AddMilliseconds(e.Millis),
            };
            if (at < now)
                list.Add((at, e.Quantity));
        }
        return list;
    }

    public static UsageForecast Expect(ForecastCase c, string customer)
    {
        var zone = ZoneOf(c);
        var now = Now(c);
        var events = Events(c);
        decimal Sum(DateTimeOffset from, DateTimeOffset to) => events.Where(e => e.At >= from && e.At < to).Sum(e => e.Quantity);

        var today = LocalDate(now, zone);
        var todayStart = Midnight(today, zone);
        var days = Enumerable.Range(1, UsageForecasting.HistoryDays).Select(i => today.AddDays(-UsageForecasting.HistoryDays - 1 + i)).ToList();
        var daily = days.Select(d => Sum(Midnight(d, zone), Midnight(d.AddDays(1), zone))).ToList();
        var first = daily.FindIndex(q => q != 0);
        var history = first < 0 ? new List<double>() : daily.Skip(first).Select(q => (double)q).ToList();
        var firstWeekday = first < 0 ? 0 : (int)days[first].DayOfWeek;

        // The period: whole months from the anchor's local date and time (the day clamped to the month's length).
        var anchor = TimeZoneInfo.ConvertTime(Start(c), zone).DateTime;
        DateTimeOffset PeriodStart(int k)
        {
            var month = new DateTime(anchor.Year, anchor.Month, 1).AddMonths(k);
            var local = new DateTime(month.Year, month.Month, Math.Min(anchor.Day, DateTime.DaysInMonth(month.Year, month.Month))).Add(anchor.TimeOfDay);
            return new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(local, zone), TimeSpan.Zero);
        }
        var index = 0;
        while (PeriodStart(index + 1) <= now)
            index++;
        var (periodStart, periodEnd) = (PeriodStart(index), PeriodStart(index + 1));
        var usedSoFar = Sum(periodStart, now);

        // The days to come: [now, periodEnd) cut at local midnights, each a share of its local day.
        var rest = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        for (var from = now; from < periodEnd;)
        {
            var next = Midnight(LocalDate(from, zone).AddDays(1), zone);
            var to = next < periodEnd ? next : periodEnd;
            rest.Add((from, to));
            from = to;
        }
        var forecastDays = rest.Select(r =>
        {
            var d = LocalDate(r.Start, zone);
            var length = Midnight(d.AddDays(1), zone) - Midnight(d, zone);
            return new ForecastDay((int)d.DayOfWeek, (r.End - r.Start) / length);
        }).ToList();
        var projection = UsageForecasting.Project(history, firstWeekday, forecastDays);
        static decimal Exact(double v) => (decimal)Math.Round(v, 6);
        var projected = usedSoFar + Exact(projection.Rest);

        // Quota windows: the period, or each local day of it.
        var windows = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        if (!c.Daily)
            windows.Add((periodStart, periodEnd));
        else
            for (var from = periodStart; from < periodEnd;)
            {
                var next = Midnight(LocalDate(from, zone).AddDays(1), zone);
                var to = next < periodEnd ? next : periodEnd;
                windows.Add((from, to));
                from = to;
            }

        // Price: per unit beyond the allowance, per window; the projected total fills the windows'
        // stored use in time order, the rest going to the last window used.
        decimal cost;
        if (windows.Count == 1)
            cost = Math.Max(0, projected - c.Limit) * c.Price;
        else
        {
            var used = new decimal[windows.Count];
            var left = projected;
            for (var i = 0; i < windows.Count; i++)
            {
                used[i] = Math.Min(left, Sum(windows[i].Start, windows[i].End));
                left -= used[i];
            }
            used[Math.Max(0, Array.FindLastIndex(used, u => u > 0))] += left;
            cost = used.Sum(u => Math.Max(0, u - c.Limit) * c.Price);
        }

        return new UsageForecast
        {
            CustomerId = customer,
            Service = "api",
            Unit = "requests",
            PeriodStart = periodStart,
            PeriodEnd = periodEnd,
            UsedSoFar = decimal.Round(usedSoFar, 6, MidpointRounding.AwayFromZero),
            Projected = SixFigures(projected),
            ProjectedLow = projection.Low is { } low ? SixFigures(usedSoFar + Exact(low)) : null,
            ProjectedHigh = projection.High is { } high ? SixFigures(usedSoFar + Exact(high)) : null,
            ProjectedCost = decimal.Round(cost, 2, MidpointRounding.AwayFromZero),
            Currency = "USD",
            Limit = c.Limit,
            ExceedsOn = Crossing(c, zone, now, todayStart, periodStart, windows, rest, projection, Sum),
            Method = projection.Method,
            HistoryDays = history.Count,
        };
    }

    /// <summary>
    /// The crossing day: in the current window, each local day of it (inside the period) before
    /// today, then today so far, then the projected days (a new window starting over).
    /// </summary>
    private static DateOnly? Crossing(ForecastCase c, TimeZoneInfo zone, DateTimeOffset now, DateTimeOffset todayStart, DateTimeOffset periodStart,
        List<(DateTimeOffset Start, DateTimeOffset End)> windows, List<(DateTimeOffset Start, DateTimeOffset End)> rest, Projection projection,
        Func<DateTimeOffset, DateTimeOffset, decimal> sum)
    {
        var window = windows.First(w => w.Start <= now && now < w.End);
        var from = window.Start > periodStart ? window.Start : periodStart;
        var inWindow = 0m;
        while (from < todayStart)
        {
            var day = LocalDate(from, zone);
            var next = Midnight(day.AddDays(1), zone);
            inWindow += sum(from, next);
            if (inWindow >= c.Limit && inWindow > 0)
                return day;
            from = next;
        }
        inWindow += sum(from, now);
        if (inWindow >= c.Limit && inWindow > 0)
            return LocalDate(now, zone);
        for (var k = 0; k < rest.Count; k++)
        {
            if (rest[k].Start >= window.End)
            {
                window = windows.First(w => w.Start <= rest[k].Start && rest[k].Start < w.End);
                inWindow = 0;
            }
            inWindow += (decimal)Math.Round(projection.Daily[k], 6);
            if (inWindow >= c.Limit && inWindow > 0)
                return LocalDate(rest[k].Start, zone);
        }
        return null;
    }

    /// <summary>Six significant figures, no decimals past the sixth.</summary>
    public static decimal SixFigures(decimal v)
    {
        if (v == 0)
            return 0;
        var digits = 0;
        for (var a = Math.Abs(v); a >= 1; a /= 10)
            digits++;
        if (digits == 0)
            for (var a = Math.Abs(v); a < 0.1m; a *= 10)
                digits--;
        return decimal.Round(v, Math.Clamp(6 - digits, 0, 6), MidpointRounding.AwayFromZero);
    }
}

/// <summary>The forecast's differential property over one store; subclasses open SQLite and PostgreSQL.</summary>
public abstract class ForecastDifferentialTests : IDisposable
{
    private readonly ITestOutputHelper _output;
    private readonly TempDirectory _folder = new();
    private readonly SequenceClock _clock = new();
    private int _cases;

    protected ForecastDifferentialTests(ITestOutputHelper output) => _output = output;

    protected SequenceClock Clock => _clock;

    protected TempDirectory Folder => _folder;

    /// <summary>How many cases a run checks: NSELF_DIFFERENTIAL_SEQUENCES, default 800 (about 20 s on SQLite, 35 s on PostgreSQL, on a busy 2-core machine).</summary>
    public static int CaseCount =>
        DifferentialRun.Count(800);

    protected abstract IUsageStore OpenStore();

    private void SetNow(DateTimeOffset t) => _clock.Current = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(t) { AutoAdvanceAmount = TimeSpan.Zero };

    private string? Run(IUsageStore store, ForecastCase c)
    {
        var id = ++_cases;
        var customer = $"cus_f{id}";
        var plan = $"fplan{id}";
        var book = new Subscriptions(store, _clock);
        var start = ForecastModel.Start(c);
        store.SavePlan(new BillingPlan { Name = plan, PriceMonthly = 0, PriceYearly = 0, Currency = "USD", IsActive = true, SortOrder = 9 });
        store.SaveQuota(new BillingQuota
        {
            Plan = plan, Service = "api", Limit = c.Limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = c.Daily ? QuotaResetPeriod.Daily : QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = c.Price,
        });
        SetNow(start);
        book.Subscribe(customer, plan, BillingCycle.Monthly, start, ForecastModel.Zones[c.Zone]);
        var now = ForecastModel.Now(c);
        SetNow(now);
        var events = ForecastModel.Events(c);
        if (events.Count > 0)
        {
            var factory = new UsageEventFactory(store.GetServices(), _clock);
            store.Ingest(events.Select(e => factory.Create(customer, "api", e.Quantity, e.At)).ToList());
        }
        var actual = new UsageForecasts(book, TimeZoneInfo.Utc).For([book.Terms(customer, TimeZoneInfo.Utc)], "api");
        var expected = ForecastModel.Expect(c, customer);
        if (actual.Count != 1)
            return $"{actual.Count} forecasts, expected one";
        var differs = Fields(expected).Zip(Fields(actual[0])).Where(p => p.First != p.Second).Select(p => $"  model: {p.First}{Environment.NewLine}  store: {p.Second}").ToList();
        return differs.Count == 0 ? null : $"now {now:O}, period start {start:O}:{Environment.NewLine}" + string.Join(Environment.NewLine, differs);
    }

    private static IEnumerable<string> Fields(UsageForecast f)
    {
        static string D(decimal? d) => d is { } v ? (v / 1.000000000000000000000000000m).ToString(CultureInfo.InvariantCulture) : "null";
        yield return "CustomerId " + f.CustomerId;
        yield return "Service " + f.Service;
        yield return "Unit " + f.Unit;
        yield return "PeriodStart " + f.PeriodStart.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        yield return "PeriodEnd " + f.PeriodEnd.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
        yield return "UsedSoFar " + D(f.UsedSoFar);
        yield return "Projected " + D(f.Projected);
        yield return "ProjectedLow " + D(f.ProjectedLow);
        yield return "ProjectedHigh " + D(f.ProjectedHigh);
        yield return "ProjectedCost " + D(f.ProjectedCost);
        yield return "Currency " + f.Currency;
        yield return "Limit " + D(f.Limit);
        yield return "ExceedsOn " + (f.ExceedsOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "null");
        yield return "Method " + f.Method;
        yield return "HistoryDays " + f.HistoryDays;
    }

    /// <param name="count">How many cases.</param>
    /// <param name="seed">A fixed generator seed, so that the same cases run every time (for mutation testing's sample); null: a new seed each run.</param>
    protected void CheckCases(int count, (ulong, ulong)? seed = null)
    {
        using var store = OpenStore();
        store.GetPlans();
        var watch = Stopwatch.StartNew();
        DifferentialRun.Check(ForecastCases.Cases().ToArbitrary(), c => Run(store, c), count, seed);
        _output.WriteLine($"{count} forecast cases on {store.Backend} in {watch.Elapsed.TotalSeconds:F1} s.");
    }

    public virtual void Dispose()
    {
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteForecastDifferentialTests : ForecastDifferentialTests
{
    public SqliteForecastDifferentialTests(ITestOutputHelper output) : base(output) { }

    protected override IUsageStore OpenStore() => new SqliteUsageStore(Folder.File("forecast.db"), Clock);

    [Fact]
    public void EveryCase_ForecastsAsTheModelSays() => CheckCases(CaseCount);
}

public sealed class PostgresForecastDifferentialTests : ForecastDifferentialTests
{
    private string? _database;

    public PostgresForecastDifferentialTests(ITestOutputHelper output) : base(output) { }

    // One database for the class (CreateDatabase fails without a server when CI=true, else skips).
    protected override IUsageStore OpenStore() => new PostgresUsageStore(_database = PostgresServer.CreateDatabase(), null, Clock);

    [SkippableFact]
    public void EveryCase_ForecastsAsTheModelSays() => CheckCases(CaseCount);

    public override void Dispose()
    {
        Npgsql.NpgsqlConnection.ClearAllPools();
        if (_database is not null)
            PostgresServer.DropDatabase(_database);
        base.Dispose();
    }
}
