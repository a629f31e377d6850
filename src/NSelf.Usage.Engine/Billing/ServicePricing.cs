using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>The price of one service's use in one period, before rounding.</summary>
public sealed record PricedUsage(decimal Used, decimal Included, decimal Billable, decimal Amount, decimal? UnitPrice, IReadOnlyList<InvoiceTierAmount> Tiers);

/// <summary>
/// Prices a quantity (in the quota's units) under a quota: the included allowance (the limit)
/// is free, the billable rest is priced per unit, by graduated or volume tiers, or in packages.
/// Exact decimals throughout; rounding belongs to the invoice line.
/// </summary>
public static class ServicePricing
{
    public static PricedUsage Price(BillingQuota quota, decimal used)
    {
        if (used < 0)
            throw new ArgumentOutOfRangeException(nameof(used), used, "Usage cannot be negative.");
        // An unlimited quota includes everything: nothing is billable.
        var included = quota.Limit ?? decimal.MaxValue;
        var billable = used > included ? used - included : 0m;
        var shownIncluded = quota.Limit ?? used;
        return quota.PricingModel switch
        {
            PricingModel.Graduated => Graduated(quota.Tiers, used, shownIncluded, billable),
            PricingModel.Volume => Volume(quota.Tiers, used, shownIncluded, billable),
            PricingModel.Package => Package(quota, used, shownIncluded, billable),
            _ => new PricedUsage(used, shownIncluded, billable, billable * quota.OveragePrice, quota.OveragePrice, Array.Empty<InvoiceTierAmount>()),
        };
    }

    private static PricedUsage Graduated(IReadOnlyList<PriceTier> tiers, decimal used, decimal included, decimal billable)
    {
        var parts = new List<InvoiceTierAmount>();
        var amount = 0m;
        var lower = 0m;
        foreach (var tier in Ordered(tiers))
        {
            var upper = tier.UpTo ?? decimal.MaxValue;
            // Nothing of the tier when the billable usage ends at or below its lower bound.
            var inTier = Math.Max(0m, Math.Min(billable, upper) - lower);
            if (inTier > 0)
            {
                var tierAmount = inTier * tier.UnitPrice + tier.FlatFee;
                parts.Add(new InvoiceTierAmount { UpTo = tier.UpTo, Quantity = inTier, UnitPrice = tier.UnitPrice, FlatFee = tier.FlatFee, Amount = tierAmount });
                amount += tierAmount;
            }
            // The open tier's upper bound is decimal.MaxValue: the last tier always ends the loop.
            if (billable <= upper)
                break;
            lower = upper;
        }
        return new PricedUsage(used, included, billable, amount, null, parts);
    }

    private static PricedUsage Volume(IReadOnlyList<PriceTier> tiers, decimal used, decimal included, decimal billable)
    {
        if (billable == 0)
            return new PricedUsage(used, included, 0m, 0m, null, Array.Empty<InvoiceTierAmount>());
        var tier = Ordered(tiers).First(t => t.UpTo is null || billable <= t.UpTo);
        var amount = billable * tier.UnitPrice + tier.FlatFee;
        var part = new InvoiceTierAmount { UpTo = tier.UpTo, Quantity = billable, UnitPrice = tier.UnitPrice, FlatFee = tier.FlatFee, Amount = amount };
        return new PricedUsage(used, included, billable, amount, tier.UnitPrice, new[] { part });
    }

    private static PricedUsage Package(BillingQuota quota, decimal used, decimal included, decimal billable)
    {
        var size = quota.PackageSize ?? 1m;
        var packages = decimal.Ceiling(billable / size);
        return new PricedUsage(used, included, billable, packages * (quota.PackagePrice ?? 0m), null, Array.Empty<InvoiceTierAmount>());
    }

    /// <summary>Tiers in order of their upper bounds, the open-ended one last.</summary>
    public static IReadOnlyList<PriceTier> Ordered(IReadOnlyList<PriceTier> tiers) =>
        tiers.OrderBy(t => t.UpTo ?? decimal.MaxValue).ToList();

    /// <summary>
    /// Checks a pricing definition: tiers ascending, one open-ended tier last, no negative prices,
    /// positive package sizes. Throws InvalidArgument naming what is wrong.
    /// </summary>
    public static void Validate(PricingModel model, decimal overagePrice, IReadOnlyList<PriceTier> tiers, decimal? packageSize, decimal? packagePrice)
    {
        static UsageException Invalid(string message) => new(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, message, "Pricing");
        if (overagePrice < 0)
            throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The overage price {overagePrice} is negative."));
        // The stores keep these to six decimal places (nself's numeric(10,6) and numeric(20,6)):
        // more would be rounded on PostgreSQL only, and a package size rounded to 0 divides by zero.
        foreach (var (name, value) in new[] { ("overage price", (decimal?)overagePrice), ("package size", packageSize), ("package price", packagePrice) })
            if (value is { } v && decimal.Round(v, Ingestion.Quantities.Scale) != v)
                throw Invalid($"The {name} {v.ToString(System.Globalization.CultureInfo.InvariantCulture)} has more than {Ingestion.Quantities.Scale} decimal places.");
        // And below their columns' maxima: numeric(10,6) for the overage price, numeric(20,6) for packages.
        if (overagePrice >= 10_000m)
            throw Invalid($"The overage price {overagePrice.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not below 10,000 per unit.");
        foreach (var (name, value) in new[] { ("package size", packageSize), ("package price", packagePrice) })
            if (value is { } v && v >= 100_000_000_000_000m)
                throw Invalid($"The {name} {v.ToString(System.Globalization.CultureInfo.InvariantCulture)} is not below 10^14.");
        switch (model)
        {
            case PricingModel.Graduated or PricingModel.Volume:
                if (tiers.Count == 0)
                    throw Invalid($"{model} pricing needs tiers, for example @(@{{ UpTo = 1000; UnitPrice = 0.01 }}, @{{ UnitPrice = 0.008 }}).");
                var ordered = Ordered(tiers);
                if (ordered.Count(t => t.UpTo is null) != 1)
                    throw Invalid("Exactly one tier must have no UpTo: the last, open-ended tier.");
                if (ordered.Any(t => t.UnitPrice < 0 || t.FlatFee < 0 || t.UpTo is <= 0))
                    throw Invalid("Tier prices and fees must be zero or more, and every UpTo more than zero.");
                // The one open tier (checked above) is a group of its own.
                if (ordered.GroupBy(t => t.UpTo).Any(g => g.Count() > 1))
                    throw Invalid("Two tiers have the same UpTo.");
                break;
            case PricingModel.Package:
                if (packageSize is not > 0 || packagePrice is not >= 0)
                    throw Invalid("Package pricing needs a PackageSize above zero and a PackagePrice of zero or more.");
                break;
        }
    }
}
