namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// Currency amounts. Every amount is computed exactly and rounded once per invoice line to the
/// currency's minor unit, half away from zero; totals are sums of rounded lines.
/// </summary>
public static class Money
{
    // ISO 4217 currencies whose minor unit is not the cent.
    private static readonly Dictionary<string, int> Exponents = new(StringComparer.OrdinalIgnoreCase)
    {
        ["BIF"] = 0, ["CLP"] = 0, ["DJF"] = 0, ["GNF"] = 0, ["ISK"] = 0, ["JPY"] = 0, ["KMF"] = 0, ["KRW"] = 0,
        ["PYG"] = 0, ["RWF"] = 0, ["UGX"] = 0, ["VND"] = 0, ["VUV"] = 0, ["XAF"] = 0, ["XOF"] = 0, ["XPF"] = 0,
        ["BHD"] = 3, ["IQD"] = 3, ["JOD"] = 3, ["KWD"] = 3, ["LYD"] = 3, ["OMR"] = 3, ["TND"] = 3,
    };

    public static int MinorUnitDigits(string currency) => Exponents.TryGetValue(currency, out var digits) ? digits : 2;

    public static decimal Round(decimal amount, string currency) =>
        decimal.Round(amount, MinorUnitDigits(currency), MidpointRounding.AwayFromZero);

    public static string Currency(string? code)
    {
        var value = (code ?? "USD").Trim().ToUpperInvariant();
        if (value.Length != 3 || !value.All(char.IsAsciiLetterUpper))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"'{code}' is not an ISO 4217 currency code such as USD or EUR.", code);
        return value;
    }
}
