using System.Globalization;
using System.Net;
using System.Text;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Exports;

/// <summary>What a usage report shows, gathered from the store before anything is drawn.</summary>
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
    IReadOnlyList<UsagePeak> Peaks,
    DateTimeOffset GeneratedAt);

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
    public static UsageReportData Gather(IUsageStore store, BillingBook book, UsageFilter filter, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone, AlertThresholds thresholds)
    {
        var costs = new PlanCosts(book, zone);
        var reports = new UsageReports(store, costs);
        var summaries = reports.Summaries(filter, start, end);
        var daily = reports.Breakdown(filter, start, end, zone);
        var days = ZoneCalendar.Periods(start, end, UsageInterval.Daily, zone).Select(p => p.LocalDate).ToList();
        var quotas = filter.CustomerId is { } customer
            ? new QuotaChecker(book, thresholds).Check(new[] { book.Terms(customer, zone) }, null, raiseAlerts: false).Select(c => c.Status).ToList()
            : new List<QuotaStatus>();
        var peaks = new UsageAnalytics(store).Peaks(filter, UsageInterval.Hourly, 10, start, end, zone);
        var title = filter.CustomerId is null ? "Usage of every customer" : $"Usage of {filter.CustomerId}";
        return new UsageReportData(title, filter.CustomerId, start, end, zone, days, summaries, daily, quotas, peaks, book.Now);
    }

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
              .card .value { font-size: 20px; font-weight: 650; }
              section { background: #fff; border-radius: 8px; padding: 18px; margin: 16px 0; box-shadow: 0 1px 3px rgba(0,0,0,.08); }
              .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 16px; }
              svg { width: 100%; height: auto; display: block; }
              svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
              table { width: 100%; border-collapse: collapse; } th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; }
              td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
              .empty { color: var(--muted); font-style: italic; }
              .bar-row { display: grid; grid-template-columns: minmax(90px, 210px) 1fr minmax(120px, 32%); gap: 4px 10px; align-items: center; margin: 6px 0; }
              .bar-label { text-align: right; color: var(--muted); overflow-wrap: anywhere; }
              .bar-track { position: relative; height: 16px; }
              .bar-track.marked::after { content: ""; position: absolute; left: var(--marker); top: -4px; bottom: -4px; border-left: 2px dashed var(--ink); }
              .bar { height: 100%; border-radius: 3px; }
              .bar-text { color: var(--muted); font-variant-numeric: tabular-nums; }
              .table-wrap { overflow-x: auto; }
              @media print { body { background: #fff; } section, .card { box-shadow: none; border: 1px solid var(--line); break-inside: avoid; } }
              @media (max-width: 600px) {
                main { padding: 12px; } .grid { grid-template-columns: 1fr; }
                .bar-row { grid-template-columns: minmax(6em, 1fr) 2fr; } .bar-label { text-align: left; } .bar-text { text-align: right; } .bar-track { grid-column: 1 / -1; grid-row: 2; }
              }
            </style>
            </head>
            <body>
            <main>
            <h1>{{E(data.Title)}}</h1>
            <div class="muted">{{data.Start.ToOffset(data.Zone.GetUtcOffset(data.Start)):yyyy-MM-dd}} to {{data.End.ToOffset(data.Zone.GetUtcOffset(data.End)).AddTicks(-1):yyyy-MM-dd}} ({{E(zoneName)}}) · generated {{data.GeneratedAt:yyyy-MM-dd HH:mm}} UTC</div>
            <div class="cards">
            """);
        html.Append(CultureInfo.InvariantCulture, $"""<div class="card"><div class="muted">Events</div><div class="value">{data.Summaries.Sum(s => s.Events):N0}</div></div>""");
        // One amount per currency: amounts in different currencies are never added together.
        var costs = data.Summaries.GroupBy(s => s.Currency, StringComparer.OrdinalIgnoreCase)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{Money.Round(g.Sum(s => s.Cost), g.Key).ToString("N" + Money.MinorUnitDigits(g.Key), CultureInfo.InvariantCulture)} {E(g.Key)}"))
            .DefaultIfEmpty($"0.00 {E(currency)}");
        html.Append(CultureInfo.InvariantCulture, $"""<div class="card"><div class="muted">Cost</div><div class="value">{string.Join(" + ", costs)}</div></div>""");
        html.Append(CultureInfo.InvariantCulture, $"""<div class="card"><div class="muted">Services used</div><div class="value">{data.Summaries.Count(s => s.Events > 0)}</div></div>""");
        if (data.Quotas.Count > 0)
        {
            var worst = data.Quotas.Where(q => q.Level != QuotaLevel.Unlimited && q.Limit is > 0).MaxBy(q => q.Percent ?? 0);
            if (worst is not null)
                html.Append(CultureInfo.InvariantCulture, $"""<div class="card"><div class="muted">Highest quota use</div><div class="value">{N(worst.Percent ?? 0)}% <span class="muted">{E(worst.Service)}</span></div></div>""");
        }
        html.Append("</div>\n<section><h2>Daily usage per service</h2><div class=\"grid\">\n");
        var services = data.Summaries.Select(s => s.Service).Distinct().ToList();
        if (services.Count == 0)
            html.Append("<p class=\"empty\">No usage in this period.</p>");
        foreach (var service in services)
        {
            var unit = data.Summaries.First(s => s.Service == service).Unit;
            var values = data.Days.Select(day => data.Daily.Where(d => d.Service == service && DateOnly.FromDateTime(d.Date) == day).Sum(d => d.Quantity)).ToList();
            html.Append(DailyChart($"daily-{service}", $"{service} ({unit}) per day", data.Days, values));
        }
        html.Append("</div></section>\n<section><h2>Cost per service</h2>\n");
        html.Append(BarChart("cost", data.Summaries.Where(s => s.Events > 0).Select(s => (s.Service, s.Cost, $"{N(s.Cost)} {s.Currency}")).ToList(), null));
        html.Append("</section>\n");
        if (data.Quotas.Count > 0)
        {
            var (periodStart, periodEnd) = (data.Quotas.Min(q => q.PeriodStart), data.Quotas.Max(q => q.PeriodEnd));
            html.Append(CultureInfo.InvariantCulture, $"<section><h2>Quota use in the current billing period</h2><p class=\"muted\">{TimeZoneInfo.ConvertTime(periodStart, data.Zone):yyyy-MM-dd} to {TimeZoneInfo.ConvertTime(periodEnd, data.Zone).AddTicks(-1):yyyy-MM-dd}, against the plan's limits (dashed line: 100%).</p>\n");
            var limited = data.Quotas.Where(q => q.Limit is > 0).ToList();
            html.Append(BarChart("quota", limited.Select(q => (q.Service, Math.Min(q.Percent ?? 0, 200m), $"{N(q.Used)} / {N(q.Limit!.Value)} {q.Unit} ({N(q.Percent ?? 0)}%, {q.Level})")).ToList(), 100m));
            html.Append("</section>\n");
        }
        html.Append("<section><h2>Busiest hours</h2>\n");
        html.Append(BarChart("peaks", data.Peaks.Select(p => (string.Create(CultureInfo.InvariantCulture, $"{p.Period:yyyy-MM-dd HH:mm} {p.Service}"), p.Total, string.Create(CultureInfo.InvariantCulture, $"{N(p.Total)} {p.Unit}"))).ToList(), null));
        html.Append("</section>\n<section><h2>Summary</h2><div class=\"table-wrap\"><table><thead><tr><th>Customer</th><th>Service</th><th class=\"n\">Quantity</th><th>Unit</th><th class=\"n\">Events</th><th class=\"n\">Cost</th></tr></thead><tbody>\n");
        foreach (var s in data.Summaries)
            html.Append(CultureInfo.InvariantCulture, $"<tr><td>{E(s.CustomerId)}</td><td>{E(s.Service)}</td><td class=\"n\">{N(s.Quantity)}</td><td>{E(s.Unit)}</td><td class=\"n\">{s.Events:N0}</td><td class=\"n\">{N(s.Cost)} {E(s.Currency)}</td></tr>\n");
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
            })();
            </script>
            </body>
            </html>
            """);
        return html.ToString();
    }

    /// <summary>Columns for each day (a zero day is a thin line, so it still counts as drawn).</summary>
    private static string DailyChart(string id, string title, IReadOnlyList<DateOnly> days, IReadOnlyList<decimal> values)
    {
        const double width = 480, height = 180, left = 44, bottom = 26, top = 10;
        var max = values.Count == 0 ? 0m : values.Max();
        var scale = max == 0 ? 0 : (height - top - bottom) / (double)max;
        var step = (width - left - 6) / Math.Max(1, days.Count);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<figure><figcaption>{E(title)}</figcaption><svg viewBox="0 0 {width} {height}" role="img" aria-label="{E(title)}" data-chart="{E(id)}" data-points="{days.Count}">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#cbd2d9"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 4}" y="{top + 8}" text-anchor="end">{E(N(max))}</text><text x="{left - 4}" y="{height - bottom}" text-anchor="end">0</text>""");
        for (var i = 0; i < days.Count; i++)
        {
            var h = Math.Max(1, (double)values[i] * scale);
            var x = left + i * step + step * 0.15;
            svg.Append(CultureInfo.InvariantCulture, $"""<rect class="point" x="{F(x)}" y="{F(height - bottom - h)}" width="{F(Math.Max(1, step * 0.7))}" height="{F(h)}" fill="#3e7bfa"><title>{days[i]:yyyy-MM-dd}: {E(N(values[i]))}</title></rect>""");
            if (days.Count <= 14 || i % (days.Count / 7 + 1) == 0)
                svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(x + step * 0.35)}" y="{height - 8}" text-anchor="middle">{days[i]:MM-dd}</text>""");
        }
        return svg.Append("</svg></figure>\n").ToString();
    }

    /// <summary>
    /// Horizontal bars, one per item, as HTML (they reflow on a phone where an SVG's text would
    /// shrink), with an optional marker (the 100% line of quotas).
    /// </summary>
    private static string BarChart(string id, IReadOnlyList<(string Label, decimal Value, string Text)> items, decimal? marker)
    {
        if (items.Count == 0)
            return $"<p class=\"empty\" data-chart=\"{E(id)}\" data-points=\"0\">Nothing to show.</p>\n";
        var max = Math.Max(items.Max(i => i.Value), marker ?? 0);
        var html = new StringBuilder();
        html.Append(CultureInfo.InvariantCulture, $"""<div class="bars" data-chart="{E(id)}" data-points="{items.Count}">""");
        foreach (var (label, value, text) in items)
        {
            var percent = max == 0 ? 0 : (double)(value / max) * 100;
            var color = marker is { } m && value >= m ? "#e12d39" : marker is { } m2 && value >= m2 * 0.75m ? "#f0b429" : "#3e7bfa";
            var markerStyle = marker is { } limit && max > 0 ? $" marked\" style=\"--marker: {F((double)(limit / max) * 100)}%" : "";
            html.Append(CultureInfo.InvariantCulture,
                $"""<div class="bar-row"><div class="bar-label">{E(label)}</div><div class="bar-track{markerStyle}"><div class="point bar" style="width: max(3px, {F(percent)}%); background: {color}" title="{E(text)}"></div></div><div class="bar-text">{E(text)}</div></div>""");
        }
        return html.Append("</div>\n").ToString();
    }
}
