using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Reporting;

/// <summary>Statistics, trends and peaks: the quick reference's "Analytics".</summary>
public sealed class UsageAnalytics
{
    private readonly IUsageStore _store;

    public UsageAnalytics(IUsageStore store)
    {
        _store = store;
    }

    /// <summary>
    /// Events, total, average, minimum, maximum, median, P95 and P99 of per-event quantities per
    /// service. Percentiles interpolate between the two nearest events exactly as PostgreSQL's
    /// percentile_cont does, but in exact decimals.
    /// </summary>
    public IReadOnlyList<UsageStatistic> Statistics(UsageFilter filter, DateTimeOffset start, DateTimeOffset end)
    {
        var services = _store.GetServices();
        var results = new List<UsageStatistic>();
        string? current = null;
        var quantities = new List<decimal>();
        void Flush()
        {
            if (current is null || quantities.Count == 0)
                return;
            var total = quantities.Sum();
            results.Add(new UsageStatistic
            {
                CustomerId = filter.CustomerId ?? "*",
                Service = current,
                Unit = services.TryFind(current, out var s) ? s.Unit : "",
                Events = quantities.Count,
                Total = Quantities.Normalize(total),
                Average = Round(total / quantities.Count),
                Minimum = quantities[0],
                Maximum = quantities[^1],
                Median = Percentile(quantities, 0.5m),
                P95 = Percentile(quantities, 0.95m),
                P99 = Percentile(quantities, 0.99m),
                Start = start,
                End = end,
            });
            quantities.Clear();
        }
        foreach (var (service, quantity) in _store.ReadQuantities(filter, start, end))
        {
            if (service != current)
            {
                Flush();
                current = service;
            }
            quantities.Add(quantity);
        }
        Flush();
        return results;
    }

    /// <summary>percentile_cont over sorted values: the value at position p·(n−1), interpolated.</summary>
    public static decimal Percentile(IReadOnlyList<decimal> sorted, decimal p)
    {
        var position = p * (sorted.Count - 1);
        var lower = (int)decimal.Floor(position);
        var fraction = position - lower;
        var value = lower + 1 < sorted.Count ? sorted[lower] + fraction * (sorted[lower + 1] - sorted[lower]) : sorted[lower];
        return Round(value);
    }

    private static decimal Round(decimal value) => Quantities.Normalize(decimal.Round(value, 10, MidpointRounding.AwayFromZero));

    /// <summary>
    /// One row per local day and service over the last days (today included), days without
    /// usage as zero, each beside the day before.
    /// </summary>
    public IReadOnlyList<UsageTrend> Trends(UsageFilter filter, int days, DateTimeOffset now, TimeZoneInfo zone)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        // One day more than shown, so the first day has its previous value.
        var periods = Enumerable.Range(0, days + 1).Select(i => today.AddDays(i - days))
            .Select(d => new CalendarPeriod(TimeInput.StartOfLocalDay(d, zone).ToUniversalTime(), TimeInput.StartOfLocalDay(d.AddDays(1), zone).ToUniversalTime(),
                TimeZoneInfo.ConvertTime(TimeInput.StartOfLocalDay(d, zone), zone)))
            .ToList();
        var totals = new UsageReports(_store).Totals(filter, periods);
        var customers = filter.CustomerId is { } c ? new[] { c } : totals.Select(t => t.CustomerId).Distinct().Order(StringComparer.Ordinal).ToArray();
        // Each customer's own services (or the ones named): not a zero row for every service some
        // other customer used.
        var used = totals.GroupBy(t => t.CustomerId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(t => t.Service).Distinct().ToList(), StringComparer.Ordinal);
        var byKey = totals.ToDictionary(t => (t.Period.LocalDate, t.CustomerId, t.Service));
        var rows = new List<UsageTrend>();
        foreach (var customer in customers)
            foreach (var service in (filter.Services ?? used.GetValueOrDefault(customer) ?? new List<string>()).OrderBy(s => s, StringComparer.Ordinal))
                for (var i = 1; i < periods.Count; i++)
                {
                    var date = periods[i].LocalDate;
                    var total = byKey.TryGetValue((date, customer, service), out var t) ? t.Quantity : 0m;
                    var previous = byKey.TryGetValue((periods[i - 1].LocalDate, customer, service), out var p) ? p.Quantity : 0m;
                    rows.Add(new UsageTrend
                    {
                        CustomerId = customer,
                        Date = date.ToDateTime(TimeOnly.MinValue),
                        Service = service,
                        Total = total,
                        Events = t?.Events ?? 0,
                        Previous = previous,
                        ChangePercent = previous == 0 ? null : Round((total - previous) * 100m / previous),
                    });
                }
        return rows;
    }

    /// <summary>
    /// The busiest hours or days of each service by its own total, the earlier first on ties: units
    /// differ between services (requests, GB-hours), so totals are only ranked within a service.
    /// Without a customer, every customer's usage of a period adds up (CustomerId "*").
    /// </summary>
    public IReadOnlyList<UsagePeak> PeaksPerService(UsageFilter filter, UsageInterval interval, int topEach, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        var services = _store.GetServices();
        return new UsageReports(_store).Totals(filter, ZoneCalendar.Periods(start, end, interval, zone)).UntilStopped()
            .GroupBy(t => (t.Service, t.Period))
            .Select(g => (g.Key.Service, g.Key.Period, Total: g.Sum(t => t.Quantity), Events: g.Sum(t => t.Events)))
            .GroupBy(t => t.Service, StringComparer.Ordinal)
            .SelectMany(g => g.OrderByDescending(t => t.Total).ThenBy(t => t.Period.Start).Take(topEach).Select((t, i) => new UsagePeak
            {
                Rank = i + 1,
                CustomerId = filter.CustomerId ?? "*",
                Service = t.Service,
                Interval = interval,
                Period = t.Period.LocalStart,
                Total = t.Total,
                Events = t.Events,
                Unit = services.TryFind(t.Service, out var s) ? s.Unit : "",
            }))
            .ToList();
    }

    /// <summary>The busiest hours or days by total, the earlier first on ties.</summary>
    public IReadOnlyList<UsagePeak> Peaks(UsageFilter filter, UsageInterval interval, int top, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        var services = _store.GetServices();
        return new UsageReports(_store).Totals(filter, ZoneCalendar.Periods(start, end, interval, zone)).UntilStopped()
            .OrderByDescending(t => t.Quantity)
            .ThenBy(t => t.Period.Start)
            .ThenBy(t => t.Service, StringComparer.Ordinal)
            .Take(top)
            .Select((t, i) => new UsagePeak
            {
                Rank = i + 1,
                CustomerId = t.CustomerId,
                Service = t.Service,
                Interval = interval,
                Period = t.Period.LocalStart,
                Total = t.Quantity,
                Events = t.Events,
                Unit = services.TryFind(t.Service, out var s) ? s.Unit : "",
            })
            .ToList();
    }
}
