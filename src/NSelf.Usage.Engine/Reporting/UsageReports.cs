using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Reporting;

/// <summary>Totals of one calendar period for one customer, service and (optional) metadata group.</summary>
public sealed record PeriodTotal(CalendarPeriod Period, string CustomerId, string Service, string? Group, long Events, decimal Quantity, decimal Minimum, decimal Maximum);

/// <summary>
/// Answers "how much, when, and what does it cost". Whole quarter hours of every period come
/// from the rollups; only the ragged edges of a period (a start of 10:07, say) and metadata
/// groupings read raw events. So a month of usage is a few thousand rollup rows, whatever the
/// number of events.
/// </summary>
public sealed class UsageReports
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    private readonly IUsageStore _store;

    public UsageReports(IUsageStore store)
    {
        _store = store;
    }

    public IReadOnlyList<PeriodTotal> Totals(UsageFilter filter, IReadOnlyList<CalendarPeriod> periods, string? groupKey = null)
    {
        var rollupSlices = new List<TimeSlice>();
        var rawSlices = new List<TimeSlice>();
        for (var i = 0; i < periods.Count; i++)
        {
            var (start, end) = (periods[i].Start, periods[i].End);
            var alignedStart = CeilingQuarter(start);
            var alignedEnd = ZoneCalendar.FloorQuarter(end);
            if (groupKey is not null || alignedStart >= alignedEnd)
            {
                rawSlices.Add(new TimeSlice(i, start, end));
                continue;
            }
            rollupSlices.Add(new TimeSlice(i, alignedStart, alignedEnd));
            if (start < alignedStart)
                rawSlices.Add(new TimeSlice(i, start, alignedStart));
            if (alignedEnd < end)
                rawSlices.Add(new TimeSlice(i, alignedEnd, end));
        }

        var merged = new Dictionary<(int, string, string, string?), PeriodTotal>();
        void Merge(UsageTotal t)
        {
            var key = (t.Slice, t.CustomerId, t.Service, t.Group);
            merged[key] = merged.TryGetValue(key, out var sum)
                ? sum with
                {
                    Events = sum.Events + t.Events,
                    Quantity = sum.Quantity + t.Quantity,
                    Minimum = Math.Min(sum.Minimum, t.Minimum),
                    Maximum = Math.Max(sum.Maximum, t.Maximum),
                }
                : new PeriodTotal(periods[t.Slice], t.CustomerId, t.Service, t.Group, t.Events, t.Quantity, t.Minimum, t.Maximum);
        }
        foreach (var total in _store.SumRollups(filter, rollupSlices))
            Merge(total);
        foreach (var total in _store.SumEvents(filter, rawSlices, groupKey))
            Merge(total);

        var order = ServiceOrder();
        return merged.Values
            .OrderBy(t => t.Period.Start)
            .ThenBy(t => t.CustomerId, StringComparer.Ordinal)
            .ThenBy(t => order(t.Service))
            .ThenBy(t => t.Group, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Get-Usage: one row per customer and service (and group) over [start, end).</summary>
    public IReadOnlyList<UsageSummary> Summaries(UsageFilter filter, DateTimeOffset start, DateTimeOffset end, string? groupKey = null)
    {
        var period = new CalendarPeriod(start, end, start);
        var totals = Totals(filter, new[] { period }, groupKey);
        var services = _store.GetServices();
        var rows = totals.Select(t => Summary(t.CustomerId, t.Service, t.Group, t.Quantity, t.Events, start, end, services)).ToList();

        // Services the caller named explicitly are shown even when unused, as a zero row.
        if (filter.CustomerId is { } customer && filter.Services is { Count: > 0 } named && groupKey is null)
            foreach (var service in named.Where(s => rows.All(r => r.Service != s)))
                rows.Add(Summary(customer, service, null, 0m, 0, start, end, services));
        var order = ServiceOrder();
        return rows.OrderBy(r => r.CustomerId, StringComparer.Ordinal).ThenBy(r => order(r.Service)).ThenBy(r => r.Group, StringComparer.Ordinal).ToList();
    }

    /// <summary>Get-Usage -Detailed: one row per local calendar day, customer and service.</summary>
    public IReadOnlyList<UsageBreakdown> Breakdown(UsageFilter filter, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone, string? groupKey = null)
    {
        var services = _store.GetServices();
        return Totals(filter, ZoneCalendar.Periods(start, end, UsageInterval.Daily, zone), groupKey)
            .Select(t =>
            {
                var service = services.Find(t.Service);
                return new UsageBreakdown
                {
                    CustomerId = t.CustomerId,
                    Date = t.Period.LocalDate.ToDateTime(TimeOnly.MinValue),
                    Service = t.Service,
                    Group = t.Group,
                    Quantity = t.Quantity,
                    Unit = service.Unit,
                    Events = t.Events,
                    Cost = Cost(t.Quantity, service),
                    Currency = service.Currency,
                    Start = TimeZoneInfo.ConvertTime(t.Period.Start, zone),
                    End = TimeZoneInfo.ConvertTime(t.Period.End, zone),
                };
            })
            .ToList();
    }

    /// <summary>Get-UsageAggregate: events, total, cost, average, minimum and maximum per local bucket.</summary>
    public IReadOnlyList<UsageAggregate> Aggregates(UsageFilter filter, DateTimeOffset start, DateTimeOffset end, UsageInterval interval, TimeZoneInfo zone, string? groupKey = null)
    {
        var services = _store.GetServices();
        return Totals(filter, ZoneCalendar.Periods(start, end, interval, zone), groupKey)
            .Select(t =>
            {
                var service = services.Find(t.Service);
                return new UsageAggregate
                {
                    CustomerId = t.CustomerId,
                    Period = t.Period.LocalStart,
                    PeriodEnd = TimeZoneInfo.ConvertTime(t.Period.End, zone),
                    Interval = interval,
                    Service = t.Service,
                    Group = t.Group,
                    Events = t.Events,
                    Total = t.Quantity,
                    Unit = service.Unit,
                    Cost = Cost(t.Quantity, service),
                    Currency = service.Currency,
                    Average = t.Events == 0 ? 0m : Quantities.Normalize(decimal.Round(t.Quantity / t.Events, Quantities.Scale, MidpointRounding.AwayFromZero)),
                    Minimum = t.Minimum,
                    Maximum = t.Maximum,
                };
            })
            .ToList();
    }

    private UsageSummary Summary(string customer, string serviceName, string? group, decimal quantity, long events, DateTimeOffset start, DateTimeOffset end, ServiceCatalog services)
    {
        var service = services.Find(serviceName);
        return new UsageSummary
        {
            CustomerId = customer,
            Service = service.Name,
            Group = group,
            Quantity = quantity,
            Unit = service.Unit,
            Events = events,
            Cost = Cost(quantity, service),
            Currency = service.Currency,
            Start = start,
            End = end,
        };
    }

    // Display cost at the flat per-unit price, exact (not yet rounded to cents: rounding is an
    // invoice's business, per line).
    private static decimal Cost(decimal quantity, UsageService service) => Quantities.Normalize(quantity * service.DisplayPrice);

    private Func<string, int> ServiceOrder()
    {
        var names = _store.GetServices().All.OrderByDescending(s => s.BuiltIn).Select(s => s.Name).ToList();
        var builtIn = ServiceCatalog.BuiltIn.Select(s => s.Name).ToList();
        return name =>
        {
            var index = builtIn.IndexOf(name);
            return index >= 0 ? index : builtIn.Count + Math.Max(0, names.IndexOf(name));
        };
    }

    private static DateTimeOffset CeilingQuarter(DateTimeOffset instant)
    {
        var floor = ZoneCalendar.FloorQuarter(instant.ToUniversalTime());
        return floor == instant ? floor : floor + Quarter;
    }
}
