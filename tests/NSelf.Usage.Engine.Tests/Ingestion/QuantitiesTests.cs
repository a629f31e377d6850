using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class QuantitiesTests
{
    [Theory]
    [InlineData("0", "0")]
    [InlineData("1", "1")]
    [InlineData("0.000001", "0.000001")]
    [InlineData("12.500000", "12.5")]
    [InlineData("1000000000", "1000000000")]
    public void Validate_AcceptsQuantitiesWithinTheRules(string input, string expected)
    {
        var value = Quantities.Validate(decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(expected, Quantities.Format(value));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.000001")]
    [InlineData("1000000000.000001")]
    [InlineData("0.0000001")]
    [InlineData("1.1234567")]
    public void Validate_RefusesNegativeAbsurdOrOverPreciseQuantities(string input)
    {
        var e = Assert.Throws<UsageException>(() => Quantities.Validate(decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(ErrorIds.InvalidQuantity, e.ErrorId);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("1,5")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("")]
    [InlineData("0x10")]
    public void Parse_RefusesTextThatIsNotAnInvariantNumber(string text)
    {
        var e = Assert.Throws<UsageException>(() => Quantities.Parse(text));
        Assert.Equal(ErrorIds.InvalidQuantity, e.ErrorId);
        Assert.Equal(text, e.Target);
    }

    [Fact]
    public void Parse_ReadsInvariantNotationWhateverTheCurrentCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal(12.5m, Quantities.Parse("12.5"));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("0.0000005", "0.000001")]
    [InlineData("0.0000004999", "0")]
    [InlineData("0.48828125", "0.488281")]
    [InlineData("2.0000025", "2.000003")]
    public void RoundDerived_RoundsHalfAwayFromZeroToSixPlaces(string input, string expected)
    {
        Assert.Equal(expected, Quantities.Format(Quantities.RoundDerived(decimal.Parse(input, System.Globalization.CultureInfo.InvariantCulture))));
    }

    [Fact]
    public void Scaled_RoundTripsExactly()
    {
        foreach (var value in new[] { 0m, 0.000001m, 1m, 123456.789012m, 1_000_000_000m })
            Assert.Equal(value, Quantities.FromScaled(Quantities.ToScaled(value)));
    }
}
