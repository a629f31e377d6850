using System.Globalization;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// The one rule for numbers written as text (issue 14): a plain invariant number, an optional
/// leading '-', digits, and optionally a '.' and more digits. A comma, a space inside the number,
/// a currency sign, a '+' or a thousands separator is refused rather than guessed, because
/// '0,75' is 0.75 to a German and 75 to .NET's invariant culture, and a wrong guess is a wrong bill.
/// Quantities may also carry an exponent ('1e3', '1E-05'), which machine-written files contain
/// and which no culture reads differently; prices may not (decision in docs/decisions-pending).
/// </summary>
public static class PlainNumbers
{
    /// <summary>Digits an exact decimal can hold; longer text would be rounded silently by decimal.Parse.</summary>
    private const int MaximumDigits = 28;

    /// <summary>Parses plain invariant text; never depends on the current culture.</summary>
    public static bool TryParse(string? text, bool allowExponent, out decimal value)
    {
        value = 0m;
        if (text is null)
            return false;
        var s = text.Trim();
        var i = 0;
        if (i < s.Length && s[i] == '-')
            i++;
        if (CountDigits(s, ref i) == 0)
            return false;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            if (CountDigits(s, ref i) == 0)
                return false;
        }
        var mantissaEnd = i;
        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            if (!allowExponent)
                return false;
            i++;
            if (i < s.Length && (s[i] == '+' || s[i] == '-'))
                i++;
            if (CountDigits(s, ref i) == 0)
                return false;
        }
        if (i != s.Length || SignificantDigits(s[..mantissaEnd]) > MaximumDigits)
            return false;
        // The grammar above has already refused an exponent where none is allowed, so the parse may
        // always allow one; TryParse reports a value beyond decimal (1e29) by returning false.
        return decimal.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out value);
    }

    /// <summary>
    /// A double as the decimal of its 15 significant digits, as PowerShell's own [decimal] cast
    /// reads it: 0.1 is 0.1, and 24 * 2.1 (50.400000000000006, the binary noise of a product) is
    /// 50.4, not refused as over-precise. Null for NaN, infinities and values beyond decimal.
    /// </summary>
    public static decimal? FromDouble(double value)
    {
        if (!double.IsFinite(value) || Math.Abs(value) >= 7.9e28)
            return null;
        return new decimal(value);
    }

    /// <summary>The same for a float, to its 7 significant digits (0.1f is 0.1).</summary>
    public static decimal? FromSingle(float value)
    {
        if (!float.IsFinite(value) || Math.Abs(value) >= 7.9e28f)
            return null;
        return new decimal(value);
    }

    /// <summary>
    /// What to type instead, for the message: '0,75' becomes "0.75"; '1,000' could be either
    /// reading, so both are offered; anything else gets the general example.
    /// </summary>
    public static string Suggest(string text, string example)
    {
        var trimmed = text.Trim();
        var comma = trimmed.IndexOf(',');
        // Stryker disable once Equality : equivalent at 0, a leading comma reads as '.5', which the rule refuses below anyway
        if (comma < 0)
            return example;
        if (comma != trimmed.LastIndexOf(',') || trimmed.Contains('.')
            || !TryParse(trimmed.Replace(',', '.'), false, out var asDecimal))
            return example;
        var decimalText = asDecimal.ToString(CultureInfo.InvariantCulture);
        if (trimmed.Length - comma - 1 != 3)
            return decimalText;
        // Three digits after the comma: read without it, the same digits are a whole number too.
        var asWhole = decimal.Parse(trimmed.Remove(comma, 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return $"{decimalText} (if the comma is a decimal comma) or {asWhole.ToString(CultureInfo.InvariantCulture)} (if it separates thousands)";
    }

    private static int CountDigits(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
            i++;
        return i - start;
    }

    private static int SignificantDigits(string mantissa)
    {
        var digits = mantissa.Where(char.IsAsciiDigit).SkipWhile(c => c == '0').ToList();
        return digits.Count;
    }
}
