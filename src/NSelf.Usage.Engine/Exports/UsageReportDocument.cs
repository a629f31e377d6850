using System.Globalization;
using System.Net;
using System.Text;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Exports;

/// <summary>What a usage report shows, gathered from the store before anything is drawn.</summary>
/// <param name="Quotas">Quota use in <paramref name="QuotaPeriod"/>'s billing period: the one containing the report's last instant (or now, when the report runs on past it).</param>
/// <param name="QuotaAsOf">The instant whose billing period the quotas are of.</param>
/// <param name="Peaks">The busiest hours of each service, ranked within the service.</param>
/// <param name="BaseFees">The plan base fee each customer pays for the report's dates, prorated as an invoice of the same dates would.</param>
public sealed record UsageReportData(
    string Title,
    string? CustomerId,
    DateTimeOffset Start,
    DateTimeOffset End,
    TimeZoneInfo Zone,
    IReadOnlyList<DateOnly> Days,
    IReadOnlyList<UsageSummary> Summaries,
    IReadOnlyList<UsageBreakdown> Daily,
    IReadOnlyList<QuotaStatus> Quotas,
    BillingPeriods.Period? QuotaPeriod,
    DateTimeOffset QuotaAsOf,
    IReadOnlyList<UsagePeak> Peaks,
    IReadOnlyList<ReportBaseFee> BaseFees,
    DateTimeOffset GeneratedAt)
{
    /// <summary>Where the current billing period will end (Get-UsageForecast): for one customer's report that reaches today, else none.</summary>
    public IReadOnlyList<UsageForecast> Forecasts { get; init; } = [];
}

/// <summary>A customer's plan base fee over a report's dates: <paramref name="Periods"/> billing periods of it.</summary>
public sealed record ReportBaseFee(string CustomerId, string Plan, decimal Periods, decimal Amount, string Currency);

/// <summary>
/// Export-UsageReport: one self-contained HTML file (no network, no script libraries) with charts:
/// daily usage per service (inline SVG columns), cost per service, quota use against limits and
/// the busiest hours (HTML bars, which reflow on a phone). Every chart says how many points it has
/// (data-points) and marks each one (class "point"), and a few lines of inline script check in the
/// browser that each was drawn; the result is written to the page (data-rendered) for tests and
/// shown to nobody.
/// </summary>
public static class UsageReportDocument
{
    /// <summary>How many of each service's busiest hours are shown.</summary>
    public const int PeaksPerService = 5;

    public static UsageReportData Gather(IUsageStore store, Subscriptions book, UsageFilter filter, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone, AlertThresholds thresholds)
    {
        var costs = new PlanCosts(book, zone);
        var reports = new UsageReports(store, costs);
        var summaries = reports.Summaries(filter, start, end);
        var daily = reports.Breakdown(filter, start, end, zone);
        var days = ZoneCalendar.Periods(start, end, UsageInterval.Daily, zone).Select(p => p.LocalDate).ToList();

        // Quotas are of one billing period: the one the report ends in, or the current one while
        // the report runs on past now. A report of last month shows last month's use, never this month's.
        var now = book.Now;
        var asOf = now >= end ? end.AddTicks(-1) : now < start ? start : now;
        var quotas = new List<QuotaStatus>();
        BillingPeriods.Period? quotaPeriod = null;
        // A report that has not begun has no use to show (and a clock set after now would roll
        // the stored subscription into a period that has not come).
        if (filter.CustomerId is { } customer && asOf <= now)
        {
            // The engine's quota check, with its clock set to that instant, so every reset period
            // (day, week, billing period) is the one containing it, under the plan in force then.
            var then = new Subscriptions(store, new FixedClock(asOf));
            var terms = then.TermsOver(customer, start, asOf.AddTicks(1), zone);
            quotaPeriod = terms.BillingPeriod;
            quotas = new QuotaChecker(then, thresholds).Check(new[] { terms }, null, raiseAlerts: false).Select(c => c.Status).ToList();
        }

        var peaks = new UsageAnalytics(store).PeaksPerService(filter, UsageInterval.Hourly, PeaksPerService, start, end, zone);
        var title = filter.CustomerId is null ? "Usage of every customer" : $"Usage of {filter.CustomerId}";
        // The projection is of the period running now: a report of the past has none.
        var forecasts = filter.CustomerId is { } forecast && asOf == now
            ? new UsageForecasts(book, zone).For([book.Terms(forecast, zone)], null).Where(f => f.Projected != 0).ToList()
            : [];
        return new UsageReportData(title, filter.CustomerId, start, end, zone, days, summaries, daily, quotas, quotaPeriod, asOf, peaks,
            BaseFees(store, book, filter, start, end, zone), now) { Forecasts = forecasts };
    }

    /// <summary>
    /// The base fee of every customer with a subscription over [start, end), as the invoice of
    /// those dates bills it: the plan in force then, prorated by the billing periods the dates
    /// cover, up to a cancellation, each period's share rounded as the invoice rounds it.
    /// </summary>
    private static List<ReportBaseFee> BaseFees(IUsageStore store, Subscriptions book, UsageFilter filter,
        DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        var customers = filter.CustomerId is { } one ? new List<string> { one }
            : store.GetSubscriptions(null, includeEnded: true).Where(s => s.Anchor < end && (s.CanceledAt ?? DateTimeOffset.MaxValue) > start)
                .Select(s => s.CustomerId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var fees = new List<ReportBaseFee>();
        foreach (var terms in book.TermsOver(customers, start, end, zone))
        {
            var customer = terms.CustomerId;
            // The invoice's own rule (PeriodCharges.BaseFee): the same dates, the same fee to the cent.
            if (terms.Plan is { } plan && PeriodCharges.BaseFee(terms, start, end) is { } fee)
                fees.Add(new ReportBaseFee(customer, plan.DisplayName ?? plan.Name, fee.Periods, fee.Amount, terms.Currency));
        }
        return fees;
    }

    /// <summary>A clock stopped at one instant: what the engine's "now" is for a past report.</summary>
    private sealed class FixedClock : TimeProvider
    {
        private readonly DateTimeOffset _at;

        public FixedClock(DateTimeOffset at) => _at = at;

        public override DateTimeOffset GetUtcNow() => _at;
    }

    /// <summary>Between a customer and a service in a label; a long customer id wraps before it, not inside it.</summary>
    private static readonly string Separator = WebUtility.HtmlEncode(" · ");

    private static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    private static string N(decimal value) => Quantities.Format(decimal.Round(value, 6, MidpointRounding.AwayFromZero));

    private static string F(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    public static string Html(UsageReportData data)
    {
        var html = new StringBuilder();
        var zoneName = TimeZones.DisplayId(data.Zone);
        var currency = data.Summaries.Select(s => s.Currency).FirstOrDefault() ?? "USD";
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{{E(data.Title)}}</title>
            <style>
              :root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; }
              body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; background: #f5f7fa; }
              main { max-width: 1100px; margin: 0 auto; padding: 24px; }
              h1 { margin: 0; font-size: 26px; } h2 { font-size: 17px; margin: 0 0 12px; }
              .muted { color: var(--muted); }
              .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 20px 0; }
              .card { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
              .card .value { font-size: 20px; font-weight: 650; overflow-wrap: anywhere; }
              .card .detail { font-size: 12px; color: var(--muted); margin-top: 2px; }
              section { background: #fff; border-radius: 8px; padding: 18px; margin: 16px 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
              .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
              .grid.wide { grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); }
              figure { margin: 0; min-width: 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
              svg { width: 100%; height: auto; display: block; }
              svg text { font: 15px system-ui, sans-serif; fill: var(--muted); }
              table { width: 100%; border-collapse: collapse; } th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; }
              td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
              .empty { color: var(--muted); font-style: italic; }
              .bar-row { display: grid; grid-template-columns: minmax(90px, 280px) 1fr minmax(120px, 32%); gap: 4px 10px; align-items: center; margin: 6px 0; }
              .bar-label { text-align: right; color: var(--muted); overflow-wrap: anywhere; }
              .bar-track { position: relative; height: 16px; }
              .bar-track.marked::after { content: ""; position: absolute; left: var(--marker); top: -4px; bottom: -4px; border-left: 2px dashed var(--ink); }
              .bar { height: 100%; border-radius: 3px; }
              .bar-text { color: var(--muted); font-variant-numeric: tabular-nums; }
              .table-wrap { overflow-x: auto; }
              @media (min-width: 601px) {
                .bars.compact .bar-row { grid-template-columns: max-content minmax(48px, 1fr) max-content; }
                .bars.compact .bar-label, .bars.compact .bar-text { white-space: nowrap; }
              }
              @media print { body { background: #fff; } section, .card { box-shadow: none; border: 1px solid var(--line); break-inside: avoid; } }
              @media (max-width: 600px) {
                main { padding: 12px; } section { padding: 14px; } .grid, .grid.wide { grid-template-columns: 1fr; }
                th, td { padding: 6px 4px; font-size: 13px; }
                /* Label and value share a line when they fit, else the value goes under the label; the bar is below both. */
                .bar-row { display: flex; flex-wrap: wrap; column-gap: 10px; row-gap: 2px; }
                .bar-label { flex: 0 1 auto; text-align: left; } .bar-text { flex: 0 1 auto; margin-left: auto; text-align: right; }
                .bar-track { order: 3; flex: 1 0 100%; }
                /* The summary table as one block per row, each value beside its heading: six columns do not fit. */
                table, tbody, tr, td { display: block; } thead { display: none; }
                tr { border-bottom: 1px solid var(--line); padding: 6px 0; }
                td, td.n { border: 0; padding: 1px 0; display: flex; justify-content: space-between; gap: 12px; text-align: right; overflow-wrap: anywhere; min-width: 0; }
                td::before { content: attr(data-label); color: var(--muted); text-align: left; flex: none; }
              }
            </style>
            </head>
            <body>
            <main>
            <h1>{{E(data.Title)}}</h1>
            <div class="muted">{{data.Start.ToOffset(data.Zone.GetUtcOffset(data.Start)):yyyy-MM-dd}} to {{data.End.ToOffset(data.Zone.GetUtcOffset(data.End)).AddTicks(-1):yyyy-MM-dd}} ({{E(zoneName)}}) · generated {{data.GeneratedAt:yyyy-MM-dd HH:mm}} UTC</div>
            <div class="cards">
            """);
        html.Append(CultureInfo.InvariantCulture, $"""<div class="card" data-card="events"><div class="muted">Events</div><div class="value">{data.Summaries.Sum(s => s.Events):N0}</div></div>""");
        html.Append(CostCard(data, currency));
        // Distinct services, not customer-service pairs: two customers using api is one service.
        var used = data.Summaries.Where(s => s.Events > 0).ToList();
        html.Append(CultureInfo.InvariantCulture, $"""<div class="card" data-card="services"><div class="muted">Services used</div><div class="value">{used.Select(s => s.Service).Distinct(StringComparer.Ordinal).Count()}</div></div>""");
        if (data.CustomerId is null)
            html.Append(CultureInfo.InvariantCulture, $"""<div class="card" data-card="customers"><div class="muted">Customers</div><div class="value">{used.Select(s => s.CustomerId).Distinct(StringComparer.Ordinal).Count():N0}</div><div class="detail">with usage in these dates</div></div>""");
        if (data.Quotas.Count > 0)
        {
            var worst = data.Quotas.Where(q => q.Level != QuotaLevel.Unlimited && q.Limit is > 0).MaxBy(q => q.Percent ?? 0);
            if (worst is not null)
                html.Append(CultureInfo.InvariantCulture, $"""<div class="card" data-card="quota"><div class="muted">Highest quota use</div><div class="value">{N(worst.Percent ?? 0)}% <span class="muted">{E(worst.Service)}</span></div></div>""");
        }
        html.Append("</div>\n<section><h2>Daily usage per service</h2><div class=\"grid\">\n");
        var services = data.Summaries.Select(s => s.Service).Distinct().ToList();
        if (services.Count == 0)
            html.Append("<p class=\"empty\">No usage in this period.</p>");
        // One pass over the daily rows: looking each day up among all rows took a tenth of a
        // second per service for a report over years, and nothing could stop it.
        var perDay = data.Daily.UntilStopped()
            .GroupBy(d => (d.Service, Day: DateOnly.FromDateTime(d.Date)))
            .ToDictionary(g => g.Key, g => g.Sum(d => d.Quantity));
        foreach (var service in services)
        {
            var unit = data.Summaries.First(s => s.Service == service).Unit;
            var values = data.Days.Select(day => perDay.GetValueOrDefault((service, day))).ToList();
            html.Append(DailyChart($"daily-{service}", $"{service} ({unit}) per day", data.Days, values));
        }

        // Of every customer, a bar per customer and service ("cus_a · api"): a service's name alone
        // would name several bars. Base fees are bars too, so the bars add up to the cost card.
        var everyone = data.CustomerId is null;
        string Label(string customer, string what) => everyone ? $"{customer} · {what}" : what;
        var costBars = data.Summaries.Where(s => s.Events > 0)
            .Select(s => (s.CustomerId, Order: 1, Item: (Label(s.CustomerId, s.Service), s.Cost, $"{N(s.Cost)} {s.Currency}")))
            .Concat(data.BaseFees.Select(f => (f.CustomerId, Order: 0, Item: (Label(f.CustomerId, $"{f.Plan} base fee"), f.Amount,
                $"{Money.Round(f.Amount, f.Currency).ToString("0." + new string('0', Money.MinorUnitDigits(f.Currency)), CultureInfo.InvariantCulture)} {f.Currency}{(f.Periods == 1m ? "" : $" ({N(decimal.Round(f.Periods, 4, MidpointRounding.AwayFromZero))} of a billing period)")}"))))
            .OrderBy(b => b.CustomerId, StringComparer.Ordinal).ThenBy(b => b.Order)
            .Select(b => b.Item).ToList();
        html.Append(everyone ? "</div></section>\n<section><h2>Cost per customer and service</h2>\n" : "</div></section>\n<section><h2>Cost per service</h2>\n");
        html.Append(BarChart("cost", costBars, null));
        html.Append("</section>\n");
        if (data.Quotas.Count > 0 && data.QuotaPeriod is { } billing)
        {
            string Day(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, data.Zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            // Whole local days as "from to last day"; a period that starts at another time of day
            // (a subscription's anchor in another zone) with its times, so it is not read as a day off.
            string Dates(DateTimeOffset from, DateTimeOffset until)
            {
                var (a, b) = (TimeZoneInfo.ConvertTime(from, data.Zone), TimeZoneInfo.ConvertTime(until, data.Zone));
                return a.TimeOfDay == TimeSpan.Zero && b.TimeOfDay == TimeSpan.Zero
                    ? $"{Day(from)} to {Day(until.AddTicks(-1))}"
                    : string.Create(CultureInfo.InvariantCulture, $"from {a:yyyy-MM-dd HH:mm} until {b:yyyy-MM-dd HH:mm} ({TimeZones.DisplayId(data.Zone)})");
            }
            var asOf = data.QuotaAsOf == data.GeneratedAt ? $"{Day(data.QuotaAsOf)}, today"
                : data.QuotaAsOf >= data.End.AddTicks(-1) ? $"{Day(data.QuotaAsOf)}, the last day of this report" : $"{Day(data.QuotaAsOf)}, the first day of this report";
            var beyond = billing.Start < data.Start || billing.End > data.End
                ? " It runs past this report's dates; the use shown is that of the whole period." : "";
            html.Append(CultureInfo.InvariantCulture, $"<section data-period-start=\"{Day(billing.Start)}\" data-period-end=\"{Day(billing.End.AddTicks(-1))}\"><h2>Quota use</h2><p class=\"muted\">Billing period {Dates(billing.Start, billing.End)}: the one containing {asOf}.{beyond} Against the plan's limits (dashed line: 100%); a daily or weekly quota is of its day or week in that period.</p>\n");
            var limited = data.Quotas.Where(q => q.Limit is > 0).ToList();
            string Own(QuotaStatus q) => q.PeriodStart == billing.Start && q.PeriodEnd == billing.End ? "" : $", {Day(q.PeriodStart)}{(q.PeriodEnd - q.PeriodStart > TimeSpan.FromHours(25) ? $" to {Day(q.PeriodEnd.AddTicks(-1))}" : "")}";
            html.Append(BarChart("quota", limited.Select(q => (q.Service, Math.Min(q.Percent ?? 0, 200m), $"{N(q.Used)} / {N(q.Limit!.Value)} {q.Unit} ({N(q.Percent ?? 0)}%, {q.Level}{Own(q)})")).ToList(), 100m));
            html.Append("</section>\n");
        }
        if (data.Forecasts.Count > 0)
        {
            var period = data.Forecasts[0];
            string Day(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, data.Zone).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            html.Append(CultureInfo.InvariantCulture, $"<section class=\"forecast\" data-rows=\"{data.Forecasts.Count}\"><h2>Where this period will end</h2><p class=\"muted\">Projected from up to {UsageForecasting.HistoryDays} whole days of history (a trend, a step or a steady level, with a weekly pattern where one shows; see Get-UsageForecast) to {Day(period.PeriodEnd.AddTicks(-1))}, with the range the total falls in 8 times out of 10. The cost is what the projected total would cost on the period's invoice.</p>\n");
            html.Append("<div class=\"table-wrap\"><table><thead><tr><th>Service</th><th class=\"n\">Used so far</th><th class=\"n\">Projected</th><th class=\"n\">80% range</th><th class=\"n\">Projected cost</th><th class=\"n\">Limit</th><th>Crossed on</th></tr></thead><tbody>\n");
            foreach (var f in data.Forecasts)
                html.Append(CultureInfo.InvariantCulture, $"<tr><td data-label=\"Service\">{E(f.Service)}</td><td class=\"n\" data-label=\"Used so far\">{N(f.UsedSoFar)} {E(f.Unit)}</td><td class=\"n\" data-label=\"Projected\">{N(f.Projected)}</td><td class=\"n\" data-label=\"80% range\">{(f.ProjectedLow is { } low ? $"{N(low)} to {N(f.ProjectedHigh!.Value)}" : f.HistoryDays == 0 ? "no whole day of use yet" : "too little history")}</td><td class=\"n\" data-label=\"Projected cost\">{E(Ingestion.Quantities.Format(f.ProjectedCost))} {E(f.Currency)}</td><td class=\"n\" data-label=\"Limit\">{(f.Limit is { } limit ? N(limit) : "none")}</td><td data-label=\"Crossed on\">{(f.ExceedsOn is { } on ? on.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "")}</td></tr>\n");
            html.Append("</tbody></table></div></section>\n");
        }
        // Hours are ranked within each service: 5,000 GB-hours and 100 requests are not comparable.
        html.Append(CultureInfo.InvariantCulture, $"<section><h2>Busiest hours per service</h2><p class=\"muted\">The {PeaksPerService} hours with the highest total of each service, in its own unit{(everyone ? ", every customer's usage together" : "")}.</p>\n");
        var peakServices = data.Peaks.Select(p => p.Service).Distinct(StringComparer.Ordinal).OrderBy(s => services.IndexOf(s) is var i && i < 0 ? int.MaxValue : i).ThenBy(s => s, StringComparer.Ordinal).ToList();
        if (peakServices.Count == 0)
            html.Append("<p class=\"empty\" data-chart=\"peaks\" data-points=\"0\">No usage in this period.</p>\n");
        else
            html.Append("<div class=\"grid wide\">\n");
        foreach (var service in peakServices)
        {
            var peaks = data.Peaks.Where(p => p.Service == service).OrderBy(p => p.Rank).ToList();
            html.Append(CultureInfo.InvariantCulture, $"<figure><figcaption>{E(service)} ({E(peaks[0].Unit)})</figcaption>");
            html.Append(BarChart($"peaks-{service}", peaks.Select(p => (p.Period.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), p.Total,
                string.Create(CultureInfo.InvariantCulture, $"{N(p.Total)} {p.Unit} ({p.Events:N0} {(p.Events == 1 ? "event" : "events")})"))).ToList(), null, compact: true));
            html.Append("</figure>\n");
        }
        if (peakServices.Count > 0)
            html.Append("</div>\n");
        html.Append("</section>\n<section><h2>Summary</h2><div class=\"table-wrap\"><table><thead><tr><th>Customer</th><th>Service</th><th class=\"n\">Quantity</th><th>Unit</th><th class=\"n\">Events</th><th class=\"n\">Cost</th></tr></thead><tbody>\n");
        foreach (var s in data.Summaries)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td data-label=\"Customer\">{E(s.CustomerId)}</td><td data-label=\"Service\">{E(s.Service)}</td><td class=\"n\" data-label=\"Quantity\">{N(s.Quantity)}</td><td data-label=\"Unit\">{E(s.Unit)}</td><td class=\"n\" data-label=\"Events\">{s.Events:N0}</td><td class=\"n\" data-label=\"Cost\">{N(s.Cost)} {E(s.Currency)}</td></tr>\n");
        html.Append("""
            </tbody></table></div></section>
            </main>
            <script>
            // Checks in the browser that every chart drew every point it declares, and records the result.
            (function () {
              var results = [];
              document.querySelectorAll('[data-chart]').forEach(function (chart) {
                var drawn = Array.prototype.filter.call(chart.querySelectorAll('.point'), function (p) {
                  var box = p.getBoundingClientRect(); return box.width > 0 && box.height > 0;
                }).length;
                results.push(chart.getAttribute('data-chart') + ':' + drawn + '/' + chart.getAttribute('data-points'));
              });
              document.body.setAttribute('data-rendered', results.join(' '));
              // How far the page is wider than the window, and how many texts are cut off.
              var root = document.documentElement;
              document.body.setAttribute('data-overflow', String(Math.max(0, root.scrollWidth - root.clientWidth)));
              document.body.setAttribute('data-clipped', String(Array.prototype.filter.call(
                document.querySelectorAll('h1, h2, p, figcaption, .card, .bar-label, .bar-text, .table-wrap'), function (e) { return e.scrollWidth > e.clientWidth + 1; }).length));
            })();
            </script>
            </body>
            </html>
            """);
        return html.ToString();
    }

    /// <summary>
    /// The cost card: per currency (amounts in different currencies are never added together),
    /// the base fees and the usage, each customer's and service's amount rounded to the minor unit
    /// as an invoice line is, with a line saying what the total is made of.
    /// </summary>
    private static string CostCard(UsageReportData data, string currency)
    {
        var usage = data.Summaries.GroupBy(s => s.Currency, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Sum(s => Money.Round(s.Cost, g.Key)), StringComparer.OrdinalIgnoreCase);
        var fees = data.BaseFees.GroupBy(f => f.Currency, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => (Amount: g.Sum(f => f.Amount), Count: g.Count()), StringComparer.OrdinalIgnoreCase);
        var currencies = usage.Keys.Union(fees.Keys, StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
        if (currencies.Count == 0)
            currencies.Add(currency);
        string M(decimal amount, string code) =>
            $"{amount.ToString("N" + Money.MinorUnitDigits(code), CultureInfo.InvariantCulture)} {code.ToUpperInvariant()}";
        var total = currencies.Select(c => M(usage.GetValueOrDefault(c) + fees.GetValueOrDefault(c).Amount, c));
        var detail = fees.Count == 0
            ? "usage only: no plan base fee in these dates"
            : string.Join("; ", currencies.Select(c => fees.TryGetValue(c, out var f)
                ? $"{M(f.Amount, c)} {(f.Count == 1 ? "base fee" : "base fees")} + {M(usage.GetValueOrDefault(c), c)} usage"
                : $"{M(usage.GetValueOrDefault(c), c)} usage"));
        return $"""<div class="card" data-card="cost"><div class="muted">Cost</div><div class="value">{E(string.Join(" + ", total))}</div><div class="detail">{E(detail)}</div></div>""";
    }

    /// <summary>
    /// Columns for each day (a zero day is a thin line, so it still counts as drawn). The chart is
    /// drawn at about its shown size (two or three to a row on a desktop, one on a phone), and its
    /// text is sized for that, so it reads at 11-13 px; day labels are spaced so they never touch.
    /// </summary>
    private static string DailyChart(string id, string title, IReadOnlyList<DateOnly> days, IReadOnlyList<decimal> values)
    {
        const double width = 420, height = 200, left = 58, bottom = 28, top = 14, labelWidth = 60;
        var max = values.Count == 0 ? 0m : values.Max();
        var scale = max == 0 ? 0 : (height - top - bottom) / (double)max;
        var step = (width - left - 6) / Math.Max(1, days.Count);
        var every = Math.Max(1, (int)Math.Ceiling(labelWidth / step));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<figure><figcaption>{E(title)}</figcaption><svg viewBox="0 0 {width} {height}" role="img" aria-label="{E(title)}" data-chart="{E(id)}" data-points="{days.Count}">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#cbd2d9"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 6}" y="{top + 5}" text-anchor="end">{E(Axis(max))}</text><text x="{left - 6}" y="{height - bottom + 5}" text-anchor="end">0</text>""");
        for (var i = 0; i < days.Count; i++)
        {
            var h = Math.Max(1, (double)values[i] * scale);
            var x = left + i * step + step * 0.15;
            svg.Append(CultureInfo.InvariantCulture, $"""<rect class="point" x="{F(x)}" y="{F(height - bottom - h)}" width="{F(Math.Max(1, step * 0.7))}" height="{F(h)}" fill="#3e7bfa"><title>{days[i]:yyyy-MM-dd}: {E(N(values[i]))}</title></rect>""");
            // Centred under its column; one that would run past the right edge is left out.
            var centre = x + step * 0.35;
            if (i % every == 0 && centre + labelWidth / 2 <= width)
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(centre)}" y="{height - 8}" text-anchor="middle">{days[i]:MM-dd}</text>""");
        }
        return svg.Append("</svg></figure>\n").ToString();
    }

    /// <summary>The top of a y axis in at most about six characters (1568, 2.5, 12.3k, 4.1M): the exact values are in each column's tooltip.</summary>
    private static string Axis(decimal value) =>
        value >= 1_000_000_000m ? F((double)value / 1e9) + "G"
        : value >= 1_000_000m ? F((double)value / 1e6) + "M"
        : value >= 100_000m ? F((double)value / 1e3) + "k"
        : N(decimal.Round(value, value >= 100 ? 0 : 2, MidpointRounding.AwayFromZero));

    /// <summary>
    /// Horizontal bars, one per item, as HTML (they reflow on a phone where an SVG's text would
    /// shrink), with an optional marker (the 100% line of quotas).
    /// </summary>
    /// <param name="compact">Short labels and texts kept on one line each beside a narrower bar (several such charts share a row on a desktop).</param>
    private static string BarChart(string id, IReadOnlyList<(string Label, decimal Value, string Text)> items, decimal? marker, bool compact = false)
    {
        if (items.Count == 0)
            return $"<p class=\"empty\" data-chart=\"{E(id)}\" data-points=\"0\">Nothing to show.</p>\n";
        var max = Math.Max(items.Max(i => i.Value), marker ?? 0);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""<div class="bars{(compact ? " compact" : "")}" data-chart="{E(id)}" data-points="{items.Count}">""");
        foreach (var (label, value, text) in items)
        {
            var percent = max == 0 ? 0 : (double)(value / max) * 100;
            var color = marker is { } m && value >= m ? "#e12d39" : marker is { } m2 && value >= m2 * 0.75m ? "#f0b429" : "#3e7bfa";
            var markerStyle = marker is { } limit && max > 0 ? $" marked\" style=\"--marker: {F((double)(limit / max) * 100)}%" : "";
            html.Append(CultureInfo.InvariantCulture,
                $"""<div class="bar-row"><div class="bar-label">{E(label).Replace(Separator, "<wbr>" + Separator, StringComparison.Ordinal)}</div><div class="bar-track{markerStyle}"><div class="point bar" style="width: max(3px, {F(percent)}%); background: {color}" title="{E(text)}"></div></div><div class="bar-text">{E(text)}</div></div>""");
        }
        return html.Append("</div>\n").ToString();
    }
}
