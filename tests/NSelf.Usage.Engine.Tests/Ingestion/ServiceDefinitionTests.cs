using System.Globalization;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

/// <summary>Issue 16: Register-UsageService's rules, out of the cmdlet: the price column's bounds, the unit, and what -Force keeps.</summary>
public sealed class ServiceDefinitionTests
{
    private static decimal D(string text) => decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("0", "0")]
    [InlineData("0.7500", "0.75")]                        // trailing zeros dropped, as stored
    [InlineData("0.0000000001", "0.0000000001")]          // ten places
    [InlineData("9999999999.9999999999", "9999999999.9999999999")]
    public void Price_InTheColumn_IsKeptNormalized(string price, string expected)
    {
        var kept = ServiceDefinition.Price(D(price), price);
        Assert.Equal(expected, kept.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("-0.0000000001")]
    [InlineData("10000000000")]          // 10^10: numeric(20,10) holds less
    [InlineData("0.00000000001")]        // an eleventh place
    [InlineData("79228162514264337593543950335")]
    public void Price_OutsideTheColumn_IsInvalidArgument_WithTheValueAsGiven(string price)
    {
        var e = Assert.Throws<UsageException>(() => ServiceDefinition.Price(D(price), price));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)price), (e.ErrorId, e.Target));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(null)]
    public void Unit_Blank_IsInvalidUnit(string? unit) =>
        Assert.Equal(ErrorIds.InvalidUnit, Assert.Throws<UsageException>(() => ServiceDefinition.Unit(unit)).ErrorId);

    [Fact]
    public void Unit_IsTrimmed_50CharactersAreKept_51Refused()
    {
        Assert.Equal("tokens", ServiceDefinition.Unit("  tokens "));
        Assert.Equal(50, ServiceDefinition.Unit(new string('t', 50)).Length);
        Assert.Equal(ErrorIds.InvalidUnit, Assert.Throws<UsageException>(() => ServiceDefinition.Unit(new string('t', 51))).ErrorId);
    }

    [Fact]
    public void New_TakesTheDefaults_PriceZeroUsdNoDescription()
    {
        var service = ServiceDefinition.Apply("tokens", "tokens", null, new ServiceChange());
        Assert.Equal(("tokens", 0m, "USD", false, (string?)null), (service.Unit, service.DisplayPrice, service.Currency, service.BuiltIn, service.Description));
    }

    [Fact]
    public void Force_ChangesOnlyWhatIsGiven()
    {
        var stored = new UsageService { Name = "tokens", Unit = "tokens", DisplayPrice = 0.5m, Currency = "EUR", BuiltIn = false, Description = "LLM tokens" };
        var unitOnly = ServiceDefinition.Apply("tokens", "k-tokens", stored, new ServiceChange());
        Assert.Equal(("k-tokens", 0.5m, "EUR", (string?)"LLM tokens"), (unitOnly.Unit, unitOnly.DisplayPrice, unitOnly.Currency, unitOnly.Description));
        var all = ServiceDefinition.Apply("tokens", "tokens", stored, new ServiceChange
        {
            Price = new Given<decimal>(0m), Currency = new Given<string>("usd"), Description = new Given<string?>(null),
        });
        Assert.Equal((0m, "USD", (string?)null), (all.DisplayPrice, all.Currency, all.Description));
    }

    [Fact]
    public void Description_Of500CharactersIsKept_501IsRefused()
    {
        Assert.Equal(500, ServiceDefinition.Apply("t", "t", null, new ServiceChange { Description = new Given<string?>(new string('d', 500)) }).Description!.Length);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() =>
            ServiceDefinition.Apply("t", "t", null, new ServiceChange { Description = new Given<string?>(new string('d', 501)) })).ErrorId);
    }
}
