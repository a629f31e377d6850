using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// A customer's commercial terms at a moment: the live subscription (rolled forward to the
/// period containing now), its plan, the effective quotas (customer overrides win over the
/// plan's), and the billing period. Every billing command starts from one of these.
/// </summary>
public sealed record CustomerTerms(
    string CustomerId,
    BillingSubscription? Subscription,
    BillingPlan? Plan,
    IReadOnlyDictionary<string, BillingQuota> Quotas,
    BillingPeriods.Period BillingPeriod,
    TimeZoneInfo Zone)
{
    public string Currency => Plan?.Currency ?? ServiceCatalog.DefaultCurrency;

    public decimal BaseFee => Plan is null || Subscription is null ? 0m
        : Subscription.BillingCycle == BillingCycle.Yearly ? Plan.PriceYearly : Plan.PriceMonthly;
}
