namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// The quantity rules of the product. Quantities are exact decimals with at most six decimal
/// places: nself's column is numeric(20,6), and SQLite stores them as integers scaled by 10^6
/// so that SQL sums are exact integer sums.
/// </summary>
public static class Quantities
{
    public const int Scale = 6;
    public const long ScaleFactor = 1_000_000;

    /// <summary>The largest quantity one event may carry. Larger values are almost always unit mistakes.</summary>
    public const decimal MaximumPerEvent = 1_000_000_000m;

    /// <summary>
    /// Checks a caller-supplied quantity: not negative, not absurd, at most six decimal places.
    /// Over-precise values are refused rather than rounded, because silently changing a
    /// billable quantity is worse than asking the caller to round it.
    /// </summary>
    public static decimal Validate(decimal quantity, object? target = null)
    {
        if (quantity < 0)
            throw Invalid($"Quantity {Format(quantity)} is negative; usage quantities must be zero or more.", target ?? quantity);
        if (quantity > MaximumPerEvent)
            throw Invalid($"Quantity {Format(quantity)} is larger than the maximum of {Format(MaximumPerEvent)} per event.", target ?? quantity);
        if (decimal.Round(quantity, Scale) != quantity)
            throw Invalid($"Quantity {Format(quantity)} has more than {Scale} decimal places; round it first (usage is stored to 6 decimal places).", target ?? quantity);
        return Normalize(quantity);
    }

    /// <summary>
    /// Rounds a derived quantity (bytes to GB, seconds to hours) to six places, half away from
    /// zero. This is the one rounding the product applies to usage; it is documented in help.
    /// </summary>
    public static decimal RoundDerived(decimal quantity) =>
        Normalize(decimal.Round(quantity, Scale, MidpointRounding.AwayFromZero));

    /// <summary>
    /// Parses a quantity written as text by the one rule of <see cref="PlainNumbers"/> (an
    /// exponent is allowed), whatever the current culture; a decimal comma is refused, never
    /// read as a thousands separator.
    /// </summary>
    public static decimal Parse(string text, object? target = null) => Validate(ParseNumber(text, "Quantity", target), target ?? text);

    /// <summary>
    /// A quantity-like number written as text (-Hours, -Seconds, -Limit, a tier's UpTo), by the
    /// same rule, without the per-event bounds: the caller checks its own range.
    /// </summary>
    public static decimal ParseNumber(string text, string what, object? target = null)
    {
        if (PlainNumbers.TryParse(text, allowExponent: true, out var value))
            return value;
        throw Invalid($"{what} '{text}' is not a plain number: use {PlainNumbers.Suggest(text, "a plain number such as 12.5")}. "
            + "Write digits with a '.' decimal point, and no thousands separators, spaces or other signs.", target ?? text);
    }

    public static long ToScaled(decimal quantity) => decimal.ToInt64(quantity * ScaleFactor);

    public static decimal FromScaled(long scaled) => Normalize(scaled / (decimal)ScaleFactor);

    /// <summary>Removes trailing zeros so 1.000000 prints as 1.</summary>
    public static decimal Normalize(decimal value) => value / 1.000000000000000000000000000000000m;

    public static string Format(decimal value) => Normalize(value).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static UsageException Invalid(string message, object target) =>
        new(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, message, target);
}
