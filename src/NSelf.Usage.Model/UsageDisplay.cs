using System.Globalization;

namespace NSelf.Usage;

/// <summary>ISO 4217 knowledge the engine bills with and the views show amounts with.</summary>
public static class Currencies
{
    // Currencies whose minor unit is not the cent. A switch rather than a static table: a mutation
    // tester cannot tell which tests use a static initializer, so it would run every test against
    // each of these entries; here only the tests that ask.
    /// <summary>Digits after the decimal point of the currency's minor unit: USD 2, JPY 0, KWD 3.</summary>
    public static int MinorUnitDigits(string currency) => currency.ToUpperInvariant() switch
    {
        "BIF" or "CLP" or "DJF" or "GNF" or "ISK" or "JPY" or "KMF" or "KRW" or
        "PYG" or "RWF" or "UGX" or "VND" or "VUV" or "XAF" or "XOF" or "XPF" => 0,
        "BHD" or "IQD" or "JOD" or "KWD" or "LYD" or "OMR" or "TND" => 3,
        _ => 2,
    };
}

/// <summary>
/// How the default views (module/NSelf.Usage.Format.ps1xml) show money and quantities. A view is
/// for people, so digits are grouped in the current culture (1,234,567.89; 1.234.567,89 under
/// de-DE); the objects keep their exact decimals, and nothing here changes a property.
/// </summary>
public static class UsageDisplay
{
    /// <summary>An amount of money to the currency's minor unit (half away from zero, as invoices round): 29 USD is 29.00, 1500 JPY is 1,500.</summary>
    public static string Money(decimal? amount, string? currency)
    {
        if (amount is not { } value)
            return "";
        var digits = Digits(currency);
        return decimal.Round(value, digits, MidpointRounding.AwayFromZero).ToString("N" + digits, CultureInfo.CurrentCulture);
    }

    /// <summary>
    /// A price per unit: at least the currency's minor unit, and every digit it has beyond it, so
    /// 0.000125 USD stays 0.000125 and 0.5 USD reads 0.50.
    /// </summary>
    public static string Price(decimal? price, string? currency)
    {
        if (price is not { } value)
            return "";
        return UnitPrice(value, Digits(currency));
    }

    /// <summary>
    /// An amount already rounded to its currency's minor unit, shown with the digits it carries:
    /// invoice lines, whose currency is on the invoice (the engine rounds them, 29 USD as 29.00).
    /// </summary>
    public static string Amount(decimal? amount) =>
        amount is { } value ? value.ToString("N" + value.Scale, CultureInfo.CurrentCulture) : "";

    /// <summary>A unit price with at least <paramref name="minorUnitDigits"/> decimals and every digit beyond (an invoice line's: its amount's digits).</summary>
    public static string UnitPrice(decimal? price, int minorUnitDigits)
    {
        if (price is not { } value)
            return "";
        var exact = Normalize(value);
        return exact.ToString("N" + Math.Max(minorUnitDigits, exact.Scale), CultureInfo.CurrentCulture);
    }

    /// <summary>A percentage with the digits it has (85.5, 100), grouped.</summary>
    public static string Percent(decimal? percent) => Quantity(percent);

    /// <summary>A quantity with every digit of its exact value (120.046875), grouped; trailing zeros dropped.</summary>
    public static string Quantity(decimal? quantity)
    {
        if (quantity is not { } value)
            return "";
        var exact = Normalize(value);
        return exact.ToString("N" + exact.Scale, CultureInfo.CurrentCulture);
    }

    /// <summary>A whole count (events, rows, bytes), grouped.</summary>
    public static string Count(long? count) =>
        count is { } value ? value.ToString("N0", CultureInfo.CurrentCulture) : "";

    // Unknown or missing currency codes show cents: the views never refuse to show a value.
    private static int Digits(string? currency) =>
        string.IsNullOrWhiteSpace(currency) ? 2 : Currencies.MinorUnitDigits(currency.Trim());

    // Dividing by 1 with 28 zeros drops trailing zeros (1.500 becomes 1.5) without changing the value.
    private static decimal Normalize(decimal value) => value / 1.0000000000000000000000000000m;
}
