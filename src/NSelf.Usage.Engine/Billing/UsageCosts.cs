using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>What a quantity of a service costs a customer over an interval, and in which currency.</summary>
public interface IUsageCosts
{
    (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end);
}

/// <summary>
/// Costs from each customer's plan: the interval is priced as one period (the included allowance
/// counted once, tiers applied, storage averaged over the interval's hours). Customers without a
/// plan, and services a plan does not price, cost the service's flat display price per unit.
/// Exact: no rounding, which belongs to invoice lines.
/// </summary>
public sealed class PlanCosts : IUsageCosts
{
    private readonly BillingBook _book;
    private readonly TimeZoneInfo _zone;
    private readonly Dictionary<string, CustomerTerms> _terms = new(StringComparer.Ordinal);
    private ServiceCatalog? _services;

    public PlanCosts(BillingBook book, TimeZoneInfo zone)
    {
        _book = book;
        _zone = zone;
    }

    /// <summary>Loads the terms of many customers at once, before pricing their rows.</summary>
    public void Prepare(IEnumerable<string> customerIds)
    {
        var missing = customerIds.Where(c => !_terms.ContainsKey(c)).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count == 0)
            return;
        foreach (var terms in _book.TermsFor(missing, _zone))
            _terms[terms.CustomerId] = terms;
    }

    public (decimal Cost, string Currency) Price(string customerId, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end)
    {
        Prepare(new[] { customerId });
        _services ??= _book.Store.GetServices();
        var terms = _terms[customerId];
        var quota = InvoiceBuilder.QuotaFor(terms, _services, service);
        var priced = ServicePricing.Price(quota, QuotaUnits.ToQuotaUnits(service, quota.LimitType, quantity, start, end));
        var currency = terms.Quotas.ContainsKey(service) ? terms.Currency : _services.Find(service).Currency;
        return (Quantities.Normalize(priced.Amount), currency);
    }
}
