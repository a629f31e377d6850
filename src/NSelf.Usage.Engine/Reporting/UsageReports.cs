using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Reporting;

/// <summary>Totals of one calendar period for one customer, service and (optional) metadata group.</summary>
public sealed record PeriodTotal(CalendarPeriod Period, string CustomerId, string Service, string? Group, long Events, decimal Quantity, decimal Minimum, decimal Maximum);

/// <summary>
/// Answers "how much, when, and what does it cost". Whole days and quarter hours of every
/// period come from the rollups; only the ragged edges of a period (a start of 10:07, say) and metadata
/// groupings read raw events. So a month of usage is a few thousand rollup rows, whatever the
/// number of events.
/// </summary>
public sealed class UsageReports
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    private readonly IUsageStore _store;
    private readonly IUsageCosts _costs;

    /// <param name="costs">How rows are priced; by default the services' flat display prices.</param>
    public UsageReports(IUsageStore store, IUsageCosts? costs = null)
    {
        _store = store;
        _costs = costs ?? new DisplayPrices(store);
    }

    /// <summary>Every unit at its service's flat display price (nself's bash prices).</summary>
    private sealed class DisplayPrices : IUsageCosts
    {
        private readonly IUsageStore _store;

        public DisplayPrices(IUsageStore store) => _store = store;

        public (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end)
        {
            var known = _store.GetServices().Describe(service);
            return (Quantities.Normalize(quantity * known.DisplayPrice), known.Currency);
        }
    }

    public IReadOnlyList<PeriodTotal> Totals(UsageFilter filter, IReadOnlyList<CalendarPeriod> periods, string? groupKey = null)
    {
        var spans = periods.Select(p => new Span(p.Start, p.End, null)).ToList();
        var order = ServiceOrder();
        var ranks = new Dictionary<string, int>(StringComparer.Ordinal);
        // The periods come in time order, so the rows are sorted period by period: a stop is heard
        // between two periods, and many small sorts cost less than one of everything.
        var bySlice = new List<(int Service, UsageTotal Total)>?[periods.Count];
        var count = 0;
        foreach (var total in Collect(filter, spans, groupKey).UntilStopped())
        {
            if (!ranks.TryGetValue(total.Service, out var rank))
                ranks[total.Service] = rank = order(total.Service);
            (bySlice[total.Slice] ??= []).Add((rank, total));
            count++;
        }
        var sorted = new List<PeriodTotal>(count);
        for (var slice = 0; slice < bySlice.Length; slice++)
        {
            if (bySlice[slice] is not { } rows)
                continue;
            StoreCancellation.ThrowIfStopped();
            rows.Sort(static (a, b) =>
            {
                var byCustomer = string.CompareOrdinal(a.Total.CustomerId, b.Total.CustomerId);
                if (byCustomer != 0)
                    return byCustomer;
                // Services outside the catalog share a rank: their names keep the order fixed.
                var byService = a.Service != b.Service ? a.Service.CompareTo(b.Service) : string.CompareOrdinal(a.Total.Service, b.Total.Service);
                return byService != 0 ? byService : string.CompareOrdinal(a.Total.Group, b.Total.Group);
            });
            foreach (var (_, t) in rows)
                sorted.Add(new PeriodTotal(periods[slice], t.CustomerId, t.Service, t.Group, t.Events, t.Quantity, t.Minimum, t.Maximum));
        }
        return sorted;
    }

    /// <summary>A half-open interval to total; with a customer, only that customer's usage.</summary>
    public readonly record struct Span(DateTimeOffset Start, DateTimeOffset End, string? CustomerId);

    /// <summary>
    /// Totals per span (by position), customer, service and group: whole UTC days and quarter
    /// hours from the rollups, ragged edges from raw events. Spans may each name their own customer, so one
    /// read covers many customers' billing periods.
    /// </summary>
    public IReadOnlyList<UsageTotal> Collect(UsageFilter filter, IReadOnlyList<Span> spans, string? groupKey = null)
    {
        var rollupSlices = new List<TimeSlice>();
        var daySlices = new List<TimeSlice>();
        var rawSlices = new List<TimeSlice>();
        // An hourly report over years has hundreds of thousands of spans: cut into slices, they
        // take longer than a stop may wait.
        var stopped = StoreCancellation.Current;
        for (var i = 0; i < spans.Count; i++)
        {
            stopped.ThrowIfCancellationRequested();
            var (start, end, customer) = spans[i];
            var alignedStart = CeilingQuarter(start);
            var alignedEnd = ZoneCalendar.FloorQuarter(end);
            if (groupKey is not null || alignedStart >= alignedEnd)
            {
                rawSlices.Add(new TimeSlice(i, start, end, customer));
                continue;
            }
            // Whole UTC days come from the daily rollups, the quarter hours around them from
            // the quarter-hour ones: a month is ~31 rows per customer and service, not ~2,976.
            var dayStart = CeilingDay(alignedStart);
            var dayEnd = FloorDay(alignedEnd);
            if (dayStart < dayEnd)
            {
                daySlices.Add(new TimeSlice(i, dayStart, dayEnd, customer));
                if (alignedStart < dayStart)
                    rollupSlices.Add(new TimeSlice(i, alignedStart, dayStart, customer));
                if (dayEnd < alignedEnd)
                    rollupSlices.Add(new TimeSlice(i, dayEnd, alignedEnd, customer));
            }
            else
                rollupSlices.Add(new TimeSlice(i, alignedStart, alignedEnd, customer));
            if (start < alignedStart)
                rawSlices.Add(new TimeSlice(i, start, alignedStart, customer));
            if (alignedEnd < end)
                rawSlices.Add(new TimeSlice(i, alignedEnd, end, customer));
        }

        var merged = new Dictionary<(int, string, string, string?), UsageTotal>();
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
                : t;
        }
        foreach (var total in _store.SumRollups(filter, daySlices, RollupGrain.Day))
            Merge(total);
        foreach (var total in _store.SumRollups(filter, rollupSlices, RollupGrain.QuarterHour))
            Merge(total);
        foreach (var total in _store.SumEvents(filter, rawSlices, groupKey))
            Merge(total);
        return merged.Values.ToList();
    }

    /// <summary>Get-Usage: one row per customer and service (and group) over [start, end).</summary>
    public IReadOnlyList<UsageSummary> Summaries(UsageFilter filter, DateTimeOffset start, DateTimeOffset end, string? groupKey = null)
    {
        var period = new CalendarPeriod(start, end, start);
        var totals = Totals(filter, new[] { period }, groupKey);
        var services = _store.GetServices();
        _costs.Prepare(totals.Select(t => t.CustomerId), start, end);
        var shares = Shares(totals.Select(t => (t.CustomerId, t.Service, t.Quantity)), start, end);
        var rows = totals.UntilStopped().Select(t => Summary(t.CustomerId, t.Service, t.Group, t.Quantity, t.Events, start, end, services,
            groupKey is null ? null : shares[(t.CustomerId, t.Service)])).ToList();

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
        var totals = Totals(filter, ZoneCalendar.Periods(start, end, UsageInterval.Daily, zone), groupKey);
        var cost = BucketCosts(totals, start, end, groupKey);
        return totals.UntilStopped()
            .Select(t =>
            {
                var service = services.Describe(t.Service);
                var (amount, currency) = cost(t);
                return new UsageBreakdown
                {
                    CustomerId = t.CustomerId,
                    Date = t.Period.LocalDate.ToDateTime(TimeOnly.MinValue),
                    Service = t.Service,
                    Group = t.Group,
                    Quantity = t.Quantity,
                    Unit = service.Unit,
                    Events = t.Events,
                    Cost = amount,
                    Currency = currency,
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
        var totals = Totals(filter, ZoneCalendar.Periods(start, end, interval, zone), groupKey);
        var cost = BucketCosts(totals, start, end, groupKey);
        return totals.UntilStopped()
            .Select(t =>
            {
                var service = services.Describe(t.Service);
                var (amount, currency) = cost(t);
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
                    Cost = amount,
                    Currency = currency,
                    Average = t.Events == 0 ? 0m : Quantities.Normalize(decimal.Round(t.Quantity / t.Events, Quantities.Scale, MidpointRounding.AwayFromZero)),
                    Minimum = t.Minimum,
                    Maximum = t.Maximum,
                };
            })
            .ToList();
    }

    private UsageSummary Summary(string customer, string serviceName, string? group, decimal quantity, long events, DateTimeOffset start, DateTimeOffset end,
        ServiceCatalog services, (decimal Price, string Currency)? share = null)
    {
        var service = services.Describe(serviceName);
        var (cost, currency) = share is { } s ? (Quantities.Normalize(decimal.Round(quantity * s.Price, 10, MidpointRounding.AwayFromZero)), s.Currency)
            : _costs.Price(customer, service.Name, quantity, start, end);
        return new UsageSummary
        {
            CustomerId = customer,
            Service = service.Name,
            Group = group,
            Quantity = quantity,
            Unit = service.Unit,
            Events = events,
            Cost = cost,
            Currency = currency,
            Start = start,
            End = end,
        };
    }

    /// <summary>
    /// The average price per unit of each customer and service over the whole interval: grouped
    /// rows (-GroupBy) get their proportional share of the service's cost.
    /// </summary>
    private Dictionary<(string, string), (decimal Price, string Currency)> Shares(IEnumerable<(string Customer, string Service, decimal Quantity)> rows, DateTimeOffset start, DateTimeOffset end) =>
        rows.UntilStopped().GroupBy(r => (r.Customer, r.Service)).ToDictionary(g => g.Key, g =>
        {
            var total = g.Sum(r => r.Quantity);
            var (cost, currency) = _costs.Price(g.Key.Customer, g.Key.Service, total, start, end);
            return (total == 0 ? 0m : cost / total, currency);
        });

    /// <summary>
    /// Costs of consecutive buckets: each bucket costs what it adds to the interval's cost so far,
    /// so included allowances and tiers apply once over the interval and the buckets add up to
    /// the interval's cost. Grouped buckets get their proportional share instead.
    /// </summary>
    private Func<PeriodTotal, (decimal Cost, string Currency)> BucketCosts(IReadOnlyList<PeriodTotal> totals, DateTimeOffset start, DateTimeOffset end, string? groupKey)
    {
        _costs.Prepare(totals.Select(t => t.CustomerId), start, end);
        if (groupKey is not null)
        {
            var shares = Shares(totals.Select(t => (t.CustomerId, t.Service, t.Quantity)), start, end);
            return t =>
            {
                var (price, currency) = shares[(t.CustomerId, t.Service)];
                return (Quantities.Normalize(decimal.Round(t.Quantity * price, 10, MidpointRounding.AwayFromZero)), currency);
            };
        }
        var costs = new Dictionary<PeriodTotal, (decimal, string)>(ReferenceEqualityComparer.Instance);
        foreach (var series in totals.GroupBy(t => (t.CustomerId, t.Service)))
        {
            var cumulative = 0m;
            var before = 0m;
            foreach (var bucket in series.OrderBy(t => t.Period.Start).UntilStopped())
            {
                cumulative += bucket.Quantity;
                var (after, currency) = _costs.Price(series.Key.CustomerId, series.Key.Service, cumulative, start, end);
                costs[bucket] = (Quantities.Normalize(after - before), currency);
                before = after;
            }
        }
        return t => costs[t];
    }

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

    private static DateTimeOffset FloorDay(DateTimeOffset instant) => new(instant.UtcDateTime.Date, TimeSpan.Zero);

    private static DateTimeOffset CeilingDay(DateTimeOffset instant)
    {
        var floor = FloorDay(instant);
        return floor == instant ? floor : floor.AddDays(1);
    }
}
