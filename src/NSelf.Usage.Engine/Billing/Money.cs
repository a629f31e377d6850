namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// Currency amounts. Every amount is computed exactly and rounded once per invoice line to the
/// currency's minor unit, half away from zero; totals are sums of rounded lines.
/// </summary>
public static class Money
{
    /// <summary>The currency's minor unit digits (the table lives in the object model, where the views use it too).</summary>
    public static int MinorUnitDigits(string currency) => Currencies.MinorUnitDigits(currency);

    /// <summary>Rounds half away from zero to the minor unit, and always shows it: 29 USD is 29.00.</summary>
    public static decimal Round(decimal amount, string currency)
    {
        var digits = MinorUnitDigits(currency);
        var rounded = decimal.Round(amount, digits, MidpointRounding.AwayFromZero);
        return digits switch
        {
            0 => decimal.Truncate(rounded),
            // Stryker disable once Arithmetic : equivalent, x - 0.000m is x + 0.000m in value and scale (the zero only widens the scale)
            3 => rounded + 0.000m,
            // Stryker disable once Arithmetic : equivalent, x - 0.00m is x + 0.00m in value and scale
            _ => rounded + 0.00m,
        };
    }

    /// <summary>An invoice read back from a store, its amounts shown in the currency's minor unit again.</summary>
    public static BillingInvoice InCurrency(BillingInvoice i) => i with
    {
        Subtotal = Round(i.Subtotal, i.Currency), TaxRate = Ingestion.Quantities.Normalize(i.TaxRate), Tax = Round(i.Tax, i.Currency), Total = Round(i.Total, i.Currency),
        Lines = i.Lines.Select(l => l with { Amount = Round(l.Amount, i.Currency) }).ToList(),
    };

    public static string Currency(string? code)
    {
        var value = (code ?? "USD").Trim().ToUpperInvariant();
        if (value.Length != 3 || !value.All(char.IsAsciiLetterUpper))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"'{code}' is not an ISO 4217 currency code such as USD or EUR.", code);
        return value;
    }
}
