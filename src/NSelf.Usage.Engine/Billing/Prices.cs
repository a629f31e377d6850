using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// Prices and fees written as text: the plain-number rule of <see cref="PlainNumbers"/>
/// without an exponent. Money is typed by people, who never mean '1e3' as a price, and the
/// cost of a misread price is every bill that uses it.
/// </summary>
public static class Prices
{
    /// <summary>Parses a price in the invariant culture; anything else is <c>InvalidPrice</c> naming the text.</summary>
    public static decimal Parse(string text, string what, object? target = null)
    {
        if (PlainNumbers.TryParse(text, allowExponent: false, out var value))
            return value;
        throw Invalid($"{what} '{text}' is not a plain number: use {PlainNumbers.Suggest(text, "a plain number such as 0.75")}. "
            + "Write digits with a '.' decimal point, and no thousands separators, currency signs, spaces or exponent.", target ?? text);
    }

    public static UsageException Invalid(string message, object? target) =>
        new(ErrorIds.InvalidPrice, UsageErrorKind.InvalidArgument, message, target);
}
