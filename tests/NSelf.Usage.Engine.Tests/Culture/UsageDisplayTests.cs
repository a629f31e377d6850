namespace NSelf.Usage.Engine.Tests.Culture;

/// <summary>
/// Issue 17 item 3: how the default views show money, prices and quantities (UsageDisplay, which
/// the format file calls): the currency's minor unit, every digit of a price or quantity, digit
/// groups in the session culture, and never a changed value.
/// </summary>
public sealed class UsageDisplayTests
{
    [Theory]
    [InlineData("en-US", "1234567.891", "USD", "1,234,567.89")]
    [InlineData("de-DE", "1234567.891", "USD", "1.234.567,89")]
    [InlineData("en-US", "1500", "JPY", "1,500")]
    [InlineData("en-US", "1499.5", "JPY", "1,500")]
    [InlineData("en-US", "12.3456", "KWD", "12.346")]
    [InlineData("en-US", "0.028", "USD", "0.03")]
    [InlineData("en-US", "0.005", "USD", "0.01")]
    [InlineData("en-US", "-0.005", "usd", "-0.01")]
    [InlineData("en-US", "29", "EUR", "29.00")]
    [InlineData("en-US", "29", null, "29.00")]
    public void Money_IsShownToTheCurrencysMinorUnit_HalfAwayFromZero_Grouped(string culture, string amount, string? currency, string expected) =>
        Assert.Equal(expected, CultureTests.InCulture(culture, () => UsageDisplay.Money(D(amount), currency)));

    [Theory]
    [InlineData("en-US", "0.000125", "USD", "0.000125")]
    [InlineData("de-DE", "0.000125", "USD", "0,000125")]
    [InlineData("en-US", "0.5", "USD", "0.50")]
    [InlineData("en-US", "0.50000", "USD", "0.50")]
    [InlineData("en-US", "3", "JPY", "3")]
    [InlineData("en-US", "0.0015", "KWD", "0.0015")]
    [InlineData("en-US", "1234.5", null, "1,234.50")]
    public void Price_KeepsEveryDigit_AndAtLeastTheMinorUnit(string culture, string price, string? currency, string expected) =>
        Assert.Equal(expected, CultureTests.InCulture(culture, () => UsageDisplay.Price(D(price), currency)));

    [Theory]
    [InlineData("en-US", "120.046875", "120.046875")]
    [InlineData("de-DE", "120.046875", "120,046875")]
    [InlineData("en-US", "1234567.891234", "1,234,567.891234")]
    [InlineData("de-DE", "1234567.891234", "1.234.567,891234")]
    [InlineData("en-US", "5.000", "5")]
    [InlineData("en-US", "0.000001", "0.000001")]
    [InlineData("en-US", "-20", "-20")]
    public void Quantity_ShowsEveryDigitOfTheExactValue_Grouped(string culture, string quantity, string expected) =>
        Assert.Equal(expected, CultureTests.InCulture(culture, () => UsageDisplay.Quantity(D(quantity))));

    [Theory]
    [InlineData("29.00", 2, "0.0001", "29.00", "0.0001")]
    [InlineData("1500", 0, "3", "1,500", "3")]
    [InlineData("12.345", 3, "0.5", "12.345", "0.500")]
    public void InvoiceLine_AmountShowsItsOwnDigits_AndItsPriceAtLeastThose(string amount, int digits, string price, string expectedAmount, string expectedPrice)
    {
        var value = D(amount);
        Assert.Equal(digits, value.Scale);
        Assert.Equal(expectedAmount, CultureTests.InCulture("en-US", () => UsageDisplay.Amount(value)));
        Assert.Equal(expectedPrice, CultureTests.InCulture("en-US", () => UsageDisplay.UnitPrice(D(price), value.Scale)));
    }

    [Fact]
    public void Nothing_IsShownAsNothing()
    {
        Assert.Equal("", UsageDisplay.Money(null, "USD"));
        Assert.Equal("", UsageDisplay.Price(null, "USD"));
        Assert.Equal("", UsageDisplay.Quantity(null));
        Assert.Equal("", UsageDisplay.Amount(null));
        Assert.Equal("", UsageDisplay.Count(null));
    }

    [Fact]
    public void Count_IsGroupedWithoutDecimals() =>
        Assert.Equal("1.234.567", CultureTests.InCulture("de-DE", () => UsageDisplay.Count(1234567)));

    [Fact]
    public void Engine_BillsWithTheSameMinorUnits() =>
        Assert.All(new[] { "USD", "JPY", "KWD", "CLP", "OMR" }, c => Assert.Equal(Currencies.MinorUnitDigits(c), global::NSelf.Usage.Engine.Billing.Money.MinorUnitDigits(c)));

    private static decimal D(string text) => decimal.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
}
