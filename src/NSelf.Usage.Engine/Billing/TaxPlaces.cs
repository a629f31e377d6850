namespace NSelf.Usage.Engine.Billing;

/// <summary>How an invoice is taxed: its treatment, the tax's name and the rate in percent.</summary>
public sealed record TaxDecision(TaxTreatment Treatment, string Name, decimal Rate);

/// <summary>
/// The tax of an invoice follows the buyer: where it is (country, then region) and what it is (a
/// business with a tax id, an exempt body). One rate per invoice: every line is the same kind of
/// supply (metered digital services) to the same buyer, so they are taxed alike.
/// </summary>
public static class TaxPlaces
{
    /// <summary>The name of a tax that comes from BILLING_TAX_RATE rather than a rate of a place.</summary>
    public const string FallbackName = "Tax";

    public static TaxDecision Decide(BillingProfile? seller, BillingCustomer? buyer, IReadOnlyList<BillingTaxRate> rates, decimal fallbackRate)
    {
        var place = RateOf(rates, buyer?.Country, buyer?.Region);
        var name = place?.Name ?? RateOf(rates, seller?.Country, null)?.Name ?? FallbackName;
        if (buyer is { TaxExempt: true })
            return new TaxDecision(TaxTreatment.Exempt, name, 0m);
        if (IsReverseCharged(seller, buyer))
            return new TaxDecision(TaxTreatment.ReverseCharge, name, 0m);
        return place is null ? new TaxDecision(TaxTreatment.Standard, FallbackName, fallbackRate) : new TaxDecision(TaxTreatment.Standard, place.Name, place.Rate);
    }

    /// <summary>
    /// A business buyer (it has a tax id) in another country of the seller's tax union accounts
    /// for the tax itself, when the seller is set up for it (Set-BillingProfile -ReverseCharge).
    /// </summary>
    public static bool IsReverseCharged(BillingProfile? seller, BillingCustomer? buyer) =>
        seller is { ReverseCharge: true, Country: { } from }
        && buyer is { Country: { } to, TaxId: { Length: > 0 } }
        && !string.Equals(from, to, StringComparison.Ordinal)
        && Countries.TaxUnion(from) is { } union
        && string.Equals(union, Countries.TaxUnion(to), StringComparison.Ordinal);

    /// <summary>The rate of a region when there is one, else the country's; null when neither is set.</summary>
    public static BillingTaxRate? RateOf(IReadOnlyList<BillingTaxRate> rates, string? country, string? region)
    {
        if (country is null)
            return null;
        // Without a region the first look-up finds the country's own rate (its region is null too).
        return rates.FirstOrDefault(r => r.Country == country && r.Region == region)
            ?? rates.FirstOrDefault(r => r.Country == country && r.Region is null);
    }

    /// <summary>The tax of an invoice's net amount: the rounded subtotal taxed, rounded once (decisions 30 and 102).</summary>
    public static decimal Tax(decimal subtotal, decimal rate, string currency) => Money.Round(subtotal * rate / 100m, currency);
}
