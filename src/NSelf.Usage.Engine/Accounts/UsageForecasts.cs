using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>
/// Get-UsageForecast: for each customer and service, where the current billing period will end
/// (UsageForecasting's method over the whole days before today in the customer's zone), what that
/// would cost on the period's invoice, and the day the quota will be crossed. One read of the
/// rollups for every customer asked about.
/// </summary>
public sealed class UsageForecasts(Subscriptions book, TimeZoneInfo defaultZone)
{
    private sealed record Plan(CustomerTerms Terms, DateTimeOffset Today, DateTimeOffset Tomorrow, List<CalendarPeriod> History,
        List<(DateTimeOffset Start, DateTimeOffset End, double Share)> Rest, int FirstSpan, List<CalendarPeriod> Past, int PastSpan);

    public IReadOnlyList<UsageForecast> For(IReadOnlyList<CustomerTerms> customers, string? service)
    {
        var now = Micros.Truncate(book.Now);
        var plans = new List<Plan>();
        var spans = new List<UsageReports.Span>();
        foreach (var terms in customers)
        {
            var zone = terms.Zone;
            var today = ZoneCalendar.PeriodStart(now, UsageInterval.Daily, zone);
            var tomorrow = ZoneCalendar.NextPeriodStart(today, UsageInterval.Daily, zone);
            var historyStart = TimeInput.StartOfLocalDay(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(today, zone).DateTime).AddDays(-UsageForecasting.HistoryDays), zone).ToUniversalTime();
            var history = ZoneCalendar.Periods(historyStart, today, UsageInterval.Daily, zone).ToList();
            // What is left of the period, day by day: the rest of today, whole days, and the part of
            // its last day before the period ends (a period may end at any time of day).
            var (periodStart, periodEnd) = (terms.BillingPeriod.Start, terms.BillingPeriod.End);
            // A subscription that starts later has nothing to come before its start.
            var rest = ZoneCalendar.Periods(now > periodStart ? now : periodStart, periodEnd, UsageInterval.Daily, zone)
                .Select(p => (p.Start, p.End, Share: (p.End - p.Start) / (ZoneCalendar.NextPeriodStart(ZoneCalendar.PeriodStart(p.Start, UsageInterval.Daily, zone), UsageInterval.Daily, zone)
                    - ZoneCalendar.PeriodStart(p.Start, UsageInterval.Daily, zone)))).ToList();
            // The period's days before today, each cut to the period (its first day may start at any
            // time of day, and it may begin before the history): where the quota was crossed.
            var past = ZoneCalendar.Periods(periodStart, today, UsageInterval.Daily, zone).ToList();
            plans.Add(new Plan(terms, today, tomorrow, history, rest, spans.Count, past, spans.Count + history.Count + 1));
            // Spans: each history day, then the period so far, then the period's past days and today so far.
            spans.AddRange(history.Select(d => new UsageReports.Span(d.Start, d.End, terms.CustomerId)));
            spans.Add(new UsageReports.Span(periodStart, now > periodStart ? now : periodStart, terms.CustomerId));
            spans.AddRange(past.Select(d => new UsageReports.Span(d.Start, d.End, terms.CustomerId)));
            var todayFrom = today > periodStart ? today : periodStart;
            spans.Add(new UsageReports.Span(todayFrom, now > todayFrom ? now : todayFrom, terms.CustomerId));
        }
        if (plans.Count == 0)
            return [];
        var services = service is null ? null : new[] { service };
        var totals = new UsageReports(book.Store).Collect(UsageFilter.AllCustomers(services), spans)
            .ToLookup(t => t.Slice);
        var costs = new PlanCosts(book, defaultZone);

        var forecasts = new List<UsageForecast>();
        foreach (var plan in plans)
        {
            var terms = plan.Terms;
            var soFarSlice = plan.FirstSpan + plan.History.Count;
            // The services to forecast: those used in the history or the period, and those with a quota.
            var names = Enumerable.Range(plan.FirstSpan, plan.History.Count + 1).SelectMany(s => totals[s]).Select(t => t.Service)
                .Concat(terms.Quotas.Keys).Where(s => service is null || s == service).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            foreach (var name in names)
                forecasts.Add(Forecast(plan, name, totals, costs));
        }
        return forecasts;
    }

    private UsageForecast Forecast(Plan plan, string service, ILookup<int, UsageTotal> totals, PlanCosts costs)
    {
        var terms = plan.Terms;
        var (periodStart, periodEnd) = (terms.BillingPeriod.Start, terms.BillingPeriod.End);
        var daily = Enumerable.Range(0, plan.History.Count).Select(i => UsedIn(totals, plan.FirstSpan + i, service)).ToList();
        // History starts at the first day with usage: days before a customer's first use say nothing.
        var first = daily.FindIndex(q => q != 0);
        var history = first < 0 ? [] : daily.Skip(first).Select(q => (double)q).ToList();
        var firstWeekday = first < 0 ? 0 : (int)plan.History[first].LocalStart.DayOfWeek;
        var usedSoFar = UsedIn(totals, plan.FirstSpan + plan.History.Count, service);
        var projection = UsageForecasting.Project(history, firstWeekday,
            plan.Rest.Select(r => new ForecastDay((int)TimeZoneInfo.ConvertTime(r.Start, terms.Zone).DayOfWeek, r.Share)).ToList());

        var projected = usedSoFar + Exact(projection.Rest);
        var quota = terms.Quotas.GetValueOrDefault(service);
        var services = book.Store.GetServices();
        decimal InQuotaUnits(decimal q) => quota is null ? q : QuotaUnits.ToQuotaUnits(service, quota.LimitType, q, periodStart, periodEnd);
        var (cost, currency) = costs.Price(terms.CustomerId, service, projected, periodStart, periodEnd);
        return new UsageForecast
        {
            CustomerId = terms.CustomerId,
            Service = service,
            Unit = quota is null ? services.TryFind(service, out var known) ? known.Unit : "units" : QuotaUnits.UnitOf(service, quota.LimitType, quota.UsageUnit),
            PeriodStart = periodStart,
            PeriodEnd = periodEnd,
            UsedSoFar = Round(InQuotaUnits(usedSoFar)),
            Projected = Estimate(InQuotaUnits(projected)),
            ProjectedLow = projection.Low is { } low ? Estimate(InQuotaUnits(usedSoFar + Exact(low))) : null,
            ProjectedHigh = projection.High is { } high ? Estimate(InQuotaUnits(usedSoFar + Exact(high))) : null,
            ProjectedCost = Money.Round(cost, currency),
            Currency = currency,
            Limit = quota?.Limit,
            ExceedsOn = quota?.Limit is { } limit ? CrossingDay(plan, service, quota, limit, projection, totals) : null,
            Method = projection.Method,
            HistoryDays = history.Count,
        };
    }

    /// <summary>
    /// The local day on which the projected use crosses the limit within its quota window (the
    /// period, or each day or week of a daily or weekly quota): the day it was crossed if the
    /// current window's use is past it already; null if it will not be this period.
    /// </summary>
    private static DateOnly? CrossingDay(Plan plan, string service, BillingQuota quota, decimal limit, Projection projection, ILookup<int, UsageTotal> totals)
    {
        var terms = plan.Terms;
        var zone = terms.Zone;
        var windows = PeriodCharges.Windows(quota.ResetPeriod, terms.BillingPeriod.Start, terms.BillingPeriod.End, zone);
        // Reached: the use meets the window's limit (a limit of 0 is reached by the first use, not by none).
        bool Reached(decimal used, PeriodCharges.Window w) =>
            used > 0 && used >= (QuotaUnits.IsTimeAveraged(service, quota.LimitType) ? limit * QuotaUnits.Hours(w.Start, w.End) : limit);
        DateOnly LocalDay(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);
        // The days to come start now (or where a period that starts later does): never empty, as now is before the period's end.
        var now = plan.Rest[0].Start;
        var window = windows.First(w => w.Start <= now && now < w.End);

        // Use in the current window so far, day by day: the period's days before today inside the
        // window (the first cut to the period's start). Crossed already: the day it happened.
        var inWindow = 0m;
        for (var i = 0; i < plan.Past.Count; i++)
        {
            if (plan.Past[i].Start < window.Start)
                continue;
            inWindow += UsedIn(totals, plan.PastSpan + i, service);
            if (Reached(inWindow, window))
                return LocalDay(plan.Past[i].Start);
        }
        // Then today so far, and the days to come as projected (a new window starting over);
        // today's use so far counts on today's first step of the walk.
        inWindow += UsedIn(totals, plan.PastSpan + plan.Past.Count, service);
        for (var k = 0; k < plan.Rest.Count; k++)
        {
            var (start, _, _) = plan.Rest[k];
            if (start >= window.End)
            {
                window = windows.First(w => w.Start <= start && start < w.End);
                inWindow = 0;
            }
            inWindow += Exact(projection.Daily[k]);
            if (Reached(inWindow, window))
                return LocalDay(start);
        }
        return null;
    }

    /// <summary>The service's use in one span of the read.</summary>
    private static decimal UsedIn(ILookup<int, UsageTotal> totals, int slice, string service) =>
        totals[slice].Where(t => t.Service == service).Sum(t => t.Quantity);

    private static decimal Exact(double value) => (decimal)Math.Round(value, 6);

    /// <summary>An estimate to six significant figures (613,407, not 613,407.119107; 0.000123, not 0.000123456): more would claim a precision it does not have.</summary>
    internal static decimal Estimate(decimal value)
    {
        if (value == 0)
            return 0;
        var digits = (int)Math.Floor(Math.Log10((double)Math.Abs(value))) + 1;
        return Round(decimal.Round(value, Math.Clamp(6 - digits, 0, 6), MidpointRounding.AwayFromZero));
    }

    private static decimal Round(decimal value) => Quantities.Normalize(decimal.Round(value, 6, MidpointRounding.AwayFromZero));
}
