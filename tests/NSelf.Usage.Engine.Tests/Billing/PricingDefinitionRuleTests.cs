using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 24: a refused pricing definition or price says what is wrong, naming the input and what
/// to type instead (ServicePricing.Validate, Prices.Parse): the user reads these, not the id.
/// </summary>
public sealed class PricingDefinitionRuleTests
{
    public static TheoryData<PricingModel, decimal, PriceTier[], decimal?, decimal?, string> Refusals => new()
    {
        { PricingModel.PerUnit, -0.5m, Array.Empty<PriceTier>(), null, null, "The overage price -0.5 is negative." },
        { PricingModel.PerUnit, 0.1234567m, Array.Empty<PriceTier>(), null, null, "The overage price 0.1234567 has more than 6 decimal places." },
        { PricingModel.Package, 0m, Array.Empty<PriceTier>(), 2.0000001m, 1m, "The package size 2.0000001 has more than 6 decimal places." },
        { PricingModel.Package, 0m, Array.Empty<PriceTier>(), 2m, 1.0000001m, "The package price 1.0000001 has more than 6 decimal places." },
        { PricingModel.PerUnit, 10_000.5m, Array.Empty<PriceTier>(), null, null, "The overage price 10000.5 is not below 10,000 per unit." },
        { PricingModel.Package, 0m, Array.Empty<PriceTier>(), 100_000_000_000_000m, 1m, "The package size 100000000000000 is not below 10^14." },
        { PricingModel.Package, 0m, Array.Empty<PriceTier>(), 1m, 100_000_000_000_000.5m, "The package price 100000000000000.5 is not below 10^14." },
        { PricingModel.Volume, 0m, Array.Empty<PriceTier>(), null, null, "Volume pricing needs tiers, for example @(@{ UpTo = 1000; UnitPrice = 0.01 }, @{ UnitPrice = 0.008 })." },
        { PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 5, UnitPrice = 1 } }, null, null, "Exactly one tier must have no UpTo: the last, open-ended tier." },
        { PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 5, UnitPrice = 1 }, new PriceTier { UnitPrice = -1 } }, null, null, "Tier prices and fees must be zero or more, and every UpTo more than zero." },
        { PricingModel.Volume, 0m, new[] { new PriceTier { UpTo = 5, UnitPrice = 1 }, new PriceTier { UpTo = 5, UnitPrice = 2 }, new PriceTier { UnitPrice = 1 } }, null, null, "Two tiers have the same UpTo." },
        { PricingModel.Package, 0m, Array.Empty<PriceTier>(), 0m, 1m, "Package pricing needs a PackageSize above zero and a PackagePrice of zero or more." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Validate_RefusalMessage_NamesTheValueAndWhatIsWrong(PricingModel model, decimal overage, PriceTier[] tiers, decimal? size, decimal? packagePrice, string message)
    {
        var error = Assert.Throws<UsageException>(() => ServicePricing.Validate(model, overage, tiers, size, packagePrice));
        Assert.Equal((ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, (object?)"Pricing", message), (error.ErrorId, error.Kind, error.Target, error.Message));
    }

    [Fact]
    public void Validate_IgnoresTiersAndPackagesOfAnotherModel()
    {
        // Per-unit pricing carries no tiers or packages that matter: bad ones left over from an edit are not its concern,
        // and package pricing does not read tiers.
        var badTiers = new[] { new PriceTier { UpTo = 0, UnitPrice = -1 } };
        ServicePricing.Validate(PricingModel.PerUnit, 0.01m, badTiers, null, null);
        ServicePricing.Validate(PricingModel.Package, 0m, badTiers, 10m, 1m);
    }

    [Fact]
    public void PriceParse_RefusalSaysWhatToWrite_AndTargetsTheGivenObject()
    {
        var target = new object();
        var error = Assert.Throws<UsageException>(() => Prices.Parse("1 000", "OveragePrice", target));
        Assert.Equal((ErrorIds.InvalidPrice, UsageErrorKind.InvalidArgument), (error.ErrorId, error.Kind));
        Assert.Same(target, error.Target);
        Assert.Equal("OveragePrice '1 000' is not a plain number: use a plain number such as 0.75. "
            + "Write digits with a '.' decimal point, and no thousands separators, currency signs, spaces or exponent.", error.Message);
    }
}
