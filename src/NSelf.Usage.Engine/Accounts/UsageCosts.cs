using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>
/// Costs from each customer's plan, as the invoice of the same dates charges them
/// (PeriodCharges): the terms are those an invoice of [start, end) is priced with
/// (Subscriptions.TermsOver: the plan in force then, by the plan-change history, not today's plan),
/// and an interval within one billing period (the period so far, say) is priced as that period's
/// usage, with the allowance once per period (or once per day or week for a daily or weekly
/// quota), tiers applied and storage averaged over the period's hours, not the hours elapsed.
/// An interval that is not within one billing period is priced as a period of its own. Customers
/// without a plan, and services a plan does not price, cost the service's flat display price per
/// unit. Exact: no rounding, which belongs to invoice lines.
/// </summary>
public sealed class PlanCosts : IUsageCosts
{
    private readonly Subscriptions _book;
    private readonly TimeZoneInfo _zone;
    private readonly Dictionary<(string, DateTimeOffset, DateTimeOffset), CustomerTerms> _terms = new();
    private readonly Dictionary<(string, string, DateTimeOffset, DateTimeOffset), IReadOnlyList<decimal>> _stored = new();
    // Read once, when the first row is priced (a report of no rows reads nothing).
    private readonly Lazy<ServiceCatalog> _services;

    public PlanCosts(Subscriptions book, TimeZoneInfo zone)
    {
        _book = book;
        _zone = zone;
        _services = new Lazy<ServiceCatalog>(() => book.Store.GetServices(), LazyThreadSafetyMode.None);
    }

    /// <summary>Loads the terms of many customers over [start, end) at once, before pricing their rows.</summary>
    public void Prepare(IEnumerable<string> customerIds, DateTimeOffset start, DateTimeOffset end)
    {
        var missing = customerIds.Where(c => !_terms.ContainsKey((c, start, end))).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
            // Stryker disable once Statement : equivalent, TermsOver of no customers loads nothing; the return only saves the read
            return;
        foreach (var terms in _book.TermsOver(missing, start, end, _zone))
            _terms[(terms.CustomerId, start, end)] = terms;
    }

    public (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end)
    {
        Prepare(new[] { customerId }, start, end);
        var services = _services.Value;
        var terms = _terms[(customerId, start, end)];
        var quota = InvoiceBuilder.QuotaFor(terms, services, service);
        var (periodStart, periodEnd) = PricingPeriod(terms, start, end);
        var windows = PeriodCharges.Windows(quota.ResetPeriod, periodStart, periodEnd, terms.Zone);
        var priced = PeriodCharges.Whole(quota, service, windows, Spread(customerId, service, windows, start, end, quantity));
        // An unregistered service (stored by nself's own tools) costs 0 in the plan's currency, so it
        // is never counted as another currency's cost; the reader lists it as unpriced.
        var currency = terms.Quotas.ContainsKey(service) || !services.IsRegistered(service) ? terms.Currency : services.Find(service).Currency;
        return (Quantities.Normalize(priced.Amount), currency);
    }

    /// <summary>The billing period containing [start, end), or the interval itself when no one period contains it.</summary>
    private static (DateTimeOffset Start, DateTimeOffset End) PricingPeriod(CustomerTerms terms, DateTimeOffset start, DateTimeOffset end)
    {
        var period = terms.Subscription is { } s
            ? BillingPeriods.Containing(start, s.Anchor.DateTime, s.BillingCycle, terms.Zone)
            : BillingPeriods.Containing(start, new DateTime(2000, 1, 1), BillingCycle.Monthly, terms.Zone);
        return start >= period.Start && end <= period.End ? (period.Start, period.End) : (start, end);
    }

    /// <summary>
    /// A quantity of [start, end) spread over a quota's windows: all of it in a period's one window;
    /// over a daily or weekly quota's windows, the stored usage of each window, filled in time
    /// order. The whole interval's quantity is spread exactly; the running totals of consecutive
    /// buckets (Get-UsageAggregate) fill the earliest windows first.
    /// </summary>
    private decimal[] Spread(string customerId, string service, IReadOnlyList<PeriodCharges.Window> windows, DateTimeOffset start, DateTimeOffset end, decimal quantity)
    {
        // Stryker disable once Statement : equivalent, one window takes the whole quantity either way; this saves reading the stored usage
        if (windows.Count == 1)
            return new[] { quantity };
        var key = (customerId, service, start, end);
        if (!_stored.TryGetValue(key, out var stored))
        {
            // Each window's part of [start, end); a window outside it is an empty span, which holds no usage.
            var spans = windows.Select(w => new Reporting.UsageReports.Span(InvoiceBuilder.Later(w.Start, start), InvoiceBuilder.Later(InvoiceBuilder.Earlier(w.End, end), InvoiceBuilder.Later(w.Start, start)), customerId)).ToList();
            var totals = new Reporting.UsageReports(_book.Store).Collect(new Storage.UsageFilter(customerId, new[] { service }), spans)
                .ToLookup(t => t.Slice, t => t.Quantity);
            stored = windows.Select((_, i) => totals[i].Sum()).ToList();
            // Stryker disable once Statement : equivalent, a cache: without it the same stored usage is read again
            _stored[key] = stored;
        }
        // Stored usage is never negative, so once the quantity is used up each later window takes 0.
        var used = new decimal[windows.Count];
        var left = quantity;
        for (var i = 0; i < windows.Count; i++)
        {
            used[i] = Math.Min(left, stored[i]);
            left -= used[i];
        }
        // More than was stored (events arriving between the reads): the rest falls in the last window used.
        used[Math.Max(0, Array.FindLastIndex(used, u => u > 0))] += left;
        return used;
    }
}
