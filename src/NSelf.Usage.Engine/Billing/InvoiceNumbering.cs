using System.Globalization;
using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// Invoice numbers: the seller's prefix and a counter of at least six digits (ACME-000042). Each
/// prefix is its own gapless series, so a new prefix (ACME-2027-) starts again at 1 and a return
/// to an old one continues it. The store takes the next number in the transaction that
/// finalizes, so a finalization that fails gives its number back.
/// </summary>
public static partial class InvoiceNumbering
{
    public const string DefaultPrefix = "INV-";

    public const int MaximumPrefixLength = 20;

    // Not ending in a digit: ACME-1 with number 1 and ACME- with number 1,000,001 would both be ACME-1000001.
    [GeneratedRegex(@"^(?:[A-Za-z]|[A-Za-z0-9][A-Za-z0-9._/-]*[A-Za-z._/-])$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    /// <summary>The series an invoice number of a prefix is counted in (credit notes get their own kind).</summary>
    public static string Series(string kind, string prefix) => kind + ":" + prefix;

    public static string Format(string prefix, long number) =>
        prefix + number.ToString("D6", CultureInfo.InvariantCulture);

    /// <summary>A prefix as typed, checked: 1 to 20 letters, digits and . _ / -, starting with a letter or digit and not ending with a digit.</summary>
    public static string Prefix(string? value)
    {
        if (value is null || value.Length is 0 or > MaximumPrefixLength || !PrefixPattern().IsMatch(value))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"The invoice prefix '{value}' is not usable: give 1 to {MaximumPrefixLength} letters, digits and . _ / -, starting with a letter or digit and not ending with a digit (the number follows it), such as ACME- or 2026/.", value);
        return value;
    }
}
