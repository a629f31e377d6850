using System.Globalization;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

/// <summary>
/// The plain-number rule for money and quantities typed as text (issue 14): every case runs
/// under cultures whose decimal separator is a comma (de-DE, fr-FR) or whose casing rules differ
/// (tr-TR, where 'e'/'E' and 'i'/'I' do not map as in English), so nothing depends on the culture.
/// </summary>
public sealed class PlainNumbersTests
{
    public static readonly string[] Cultures = { "en-US", "de-DE", "fr-FR", "tr-TR", "" };

    private static void InEveryCulture(Action check)
    {
        var saved = CultureInfo.CurrentCulture;
        var savedUi = CultureInfo.CurrentUICulture;
        try
        {
            foreach (var name in Cultures)
            {
                CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(name);
                check();
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            CultureInfo.CurrentUICulture = savedUi;
        }
    }

    public static TheoryData<string, string> Accepted => new()
    {
        { "0", "0" },
        { "0.75", "0.75" },
        { "29.90", "29.90" },
        { "0.0001", "0.0001" },
        { "-1", "-1" },
        { "-0.5", "-0.5" },
        { "007", "7" },
        { "1000000", "1000000" },
        { " 0.75 ", "0.75" },            // surrounding white space (a CSV cell, a here-string) is not part of the number
        { "99999999.99", "99999999.99" },
        { "0.0000000001", "0.0000000001" },
    };

    [Theory]
    [MemberData(nameof(Accepted))]
    public void PlainInvariantTextIsReadExactly_AsPriceAndAsQuantity(string text, string expected) => InEveryCulture(() =>
    {
        Assert.Equal(expected, Prices.Parse(text, "Price").ToString(CultureInfo.InvariantCulture));
        Assert.Equal(expected, Quantities.ParseNumber(text, "Hours").ToString(CultureInfo.InvariantCulture));
    });

    public static TheoryData<string> RefusedEverywhere => new()
    {
        "0,75",          // a decimal comma: .NET's invariant culture would read 75
        "29,90",
        "0,0001",        // would be 1
        "1,000",         // thousands separator, or a decimal comma: ambiguous, so refused
        "1,000.50",
        "1.000,50",
        "1 000",         // a space inside the number
        "1\u00a0000",    // a no-break space (fr-FR's group separator)
        "1\u202f000",    // a narrow no-break space (fr-FR since .NET 5)
        "1'000",
        "$0.75",         // currency signs
        "0.75$",
        "€29.90",
        "29.90 EUR",
        "USD 1",
        "+1",            // no leading '+': one spelling per number
        ".5",            // digits before the point, so '.5' and '5.' are not guessed at
        "5.",
        "-",
        ".",
        "",
        "   ",
        "abc",
        "NaN",
        "Infinity",
        "-Infinity",
        "∞",
        "0x10",
        "1_000",
        "(5)",           // accounting negative
        "5-",
        "--5",
        "1.2.3",
        "١٢",            // Arabic-Indic digits: not ASCII digits
        "１２",           // full-width digits
        "1e",
        "e3",
        "1.5e",
        "12345678901234567890123456789.5",   // more digits than an exact decimal holds: would be rounded
    };

    [Theory]
    [MemberData(nameof(RefusedEverywhere))]
    public void TextThatIsNotAPlainInvariantNumberIsRefused_AsInvalidPriceOrInvalidQuantity(string text) => InEveryCulture(() =>
    {
        var price = Assert.Throws<UsageException>(() => Prices.Parse(text, "Price"));
        Assert.Equal(ErrorIds.InvalidPrice, price.ErrorId);
        Assert.Equal(UsageErrorKind.InvalidArgument, price.Kind);
        Assert.Equal(text, price.Target);
        Assert.Contains($"'{text}'", price.Message, StringComparison.Ordinal);
        var quantity = Assert.Throws<UsageException>(() => Quantities.ParseNumber(text, "Hours"));
        Assert.Equal(ErrorIds.InvalidQuantity, quantity.ErrorId);
        Assert.Equal(text, quantity.Target);
        Assert.Contains($"'{text}'", quantity.Message, StringComparison.Ordinal);
    });

    [Theory]
    [InlineData("1e3", "1000")]
    [InlineData("1E3", "1000")]
    [InlineData("1E-05", "0.00001")]   // how .NET writes the double 0.00001: machine-written files carry it
    [InlineData("2.5e+2", "250")]
    public void AQuantityMayCarryAnExponent_APriceMayNot(string text, string expected) => InEveryCulture(() =>
    {
        Assert.Equal(expected, Quantities.ParseNumber(text, "Hours").ToString(CultureInfo.InvariantCulture));
        Assert.Equal(ErrorIds.InvalidPrice, Assert.Throws<UsageException>(() => Prices.Parse(text, "Price")).ErrorId);
    });

    [Fact]
    public void AnExponentBeyondDecimalIsRefusedNotThrownRaw() => InEveryCulture(() =>
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Quantities.ParseNumber("1e400", "Hours")).ErrorId));

    [Theory]
    [InlineData("0,75", "use 0.75.")]
    [InlineData("29,90", "use 29.90.")]
    [InlineData("0,0001", "use 0.0001.")]
    [InlineData("1,000", "use 1.000 (if the comma is a decimal comma) or 1000 (if it separates thousands).")]
    [InlineData("$5", "use a plain number such as 0.75.")]
    public void TheMessageSaysWhatToTypeInstead(string text, string expected) => InEveryCulture(() =>
        Assert.Contains(expected, Assert.Throws<UsageException>(() => Prices.Parse(text, "Price")).Message, StringComparison.Ordinal));

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(0.75, "0.75")]
    [InlineData(29.9, "29.9")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "0.00001")]
    [InlineData(5368709120.0, "5368709120")]
    [InlineData(-1.0, "-1")]
    [InlineData(0.30000000000000004, "0.3")]                // 0.1 + 0.2: binary noise past 15 significant digits
    [InlineData(50.400000000000006, "50.4")]                // 24 * 2.1, as PowerShell's [decimal] cast reads it
    [InlineData(0.1234567, "0.1234567")]                    // real digits are kept (and refused later if over-precise)
    [InlineData(1e20, "100000000000000000000")]
    public void ADoubleIsTheDecimalOfItsFifteenSignificantDigits(double value, string expected) => InEveryCulture(() =>
        Assert.Equal(expected, PlainNumbers.FromDouble(value)!.Value.ToString(CultureInfo.InvariantCulture)));

    [Fact]
    public void NaNInfinitiesAndDoublesBeyondDecimalHaveNoDecimal()
    {
        Assert.Null(PlainNumbers.FromDouble(double.NaN));
        Assert.Null(PlainNumbers.FromDouble(double.PositiveInfinity));
        Assert.Null(PlainNumbers.FromDouble(double.NegativeInfinity));
        Assert.Null(PlainNumbers.FromDouble(1e29));
        Assert.Null(PlainNumbers.FromSingle(float.NaN));
        Assert.Equal(0.1m, PlainNumbers.FromSingle(0.1f));
    }

    [Fact]
    public void QuantitiesParseKeepsThePerEventRulesOnTopOfTheTextRule() => InEveryCulture(() =>
    {
        Assert.Equal(12.5m, Quantities.Parse("12.5"));
        Assert.Equal(1000m, Quantities.Parse("1e3"));
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Quantities.Parse("0,5")).ErrorId);
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Quantities.Parse("-1")).ErrorId);
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Quantities.Parse("0.0000001")).ErrorId);
    });
}
