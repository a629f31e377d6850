using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 24: the pricing rules of ServicePricing, each held by a test named after it.</summary>
public sealed class ServicePricingRulesTests
{
    private static BillingQuota Quota(PricingModel model, decimal? limit, decimal overage = 0m, IReadOnlyList<PriceTier>? tiers = null, decimal? size = null, decimal? packagePrice = null) => new()
    {
        Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
        ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(),
        PackageSize = size, PackagePrice = packagePrice,
    };

    // Up to 1,000 at 0.01; up to 10,000 at 0.008 plus a 5.00 flat fee; beyond at 0.005.
    private static readonly PriceTier[] Tiers =
    {
        new() { UpTo = 1_000, UnitPrice = 0.01m },
        new() { UpTo = 10_000, UnitPrice = 0.008m, FlatFee = 5m },
        new() { UnitPrice = 0.005m },
    };

    private static readonly PriceTier[] Shuffled = { Tiers[2], Tiers[1], Tiers[0] };

    [Theory]
    [InlineData(0)]
    [InlineData(800)]
    [InlineData(1_000)]
    public void Graduated_FirstTierFlatFee_IsNotChargedWhileUsageIsWithinTheAllowance(int used)
    {
        // The first tier carries a 2.50 flat fee; a limit of 1,000 leaves nothing billable up to
        // 1,000 used, so no tier is entered and no fee is due.
        var tiers = new[] { new PriceTier { UpTo = 500, UnitPrice = 0.01m, FlatFee = 2.5m }, new PriceTier { UnitPrice = 0.005m } };
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 1_000, tiers: tiers), used);
        Assert.Equal((0m, 0m), (priced.Billable, priced.Amount));
        Assert.Empty(priced.Tiers);
        // One unit past the allowance enters the first tier: 1 x 0.01 + 2.50 = 2.51.
        Assert.Equal(2.51m, ServicePricing.Price(Quota(PricingModel.Graduated, 1_000, tiers: tiers), 1_001).Amount);
    }

    [Fact]
    public void Graduated_TiersGivenOutOfOrder_AreSortedByUpTo()
    {
        // 12,000 billable: 1,000 x 0.01 = 10.00; 9,000 x 0.008 + 5 = 77.00; 2,000 x 0.005 = 10.00; 97.00.
        // Unsorted, the open tier would come first and price all 12,000 at 0.005 = 60.00.
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: Shuffled), 12_000);
        Assert.Equal(97m, priced.Amount);
        Assert.Equal(new (decimal?, decimal, decimal)[] { (1_000m, 1_000m, 10m), (10_000m, 9_000m, 77m), (null, 2_000m, 10m) },
            priced.Tiers.Select(t => (t.UpTo, t.Quantity, t.Amount)));
        Assert.Equal(new decimal?[] { 1_000m, 10_000m, null }, ServicePricing.Ordered(Shuffled).Select(t => t.UpTo));
    }

    [Fact]
    public void Volume_TiersGivenOutOfOrder_PriceEverythingAtTheTierTheTotalFallsIn()
    {
        // 5,000 billable falls in the 10,000 tier: 5,000 x 0.008 + 5 = 45.00 (unsorted: the open tier, 25.00).
        var priced = ServicePricing.Price(Quota(PricingModel.Volume, 0, tiers: Shuffled), 5_000);
        Assert.Equal((45m, 0.008m), (priced.Amount, priced.UnitPrice));
    }

    [Fact]
    public void Volume_UsageExactlyAtAnUpTo_IsInThatTier()
    {
        // 1,000 billable is "up to 1,000": 1,000 x 0.01 = 10.00, not 1,000 x 0.008 + 5 = 13.00.
        Assert.Equal(10m, ServicePricing.Price(Quota(PricingModel.Volume, 0, tiers: Tiers), 1_000).Amount);
        // 1,000.000001 is in the next: 1000.000001 x 0.008 + 5 = 13.000000008.
        Assert.Equal(13.000000008m, ServicePricing.Price(Quota(PricingModel.Volume, 0, tiers: Tiers), 1_000.000001m).Amount);
    }

    [Fact]
    public void Graduated_UsageExactlyAtAnUpTo_DoesNotEnterTheNextTierOrItsFlatFee()
    {
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: Tiers), 1_000);
        Assert.Equal((10m, 1), (priced.Amount, priced.Tiers.Count));
    }

    [Fact]
    public void Package_BillsWholePackagesOfTheUsageBeyondTheAllowance()
    {
        // 2,501 used, 100 included: 2,401 billable is 3 packages of 1,000 at 7.50 = 22.50.
        var quota = Quota(PricingModel.Package, 100, size: 1_000, packagePrice: 7.5m);
        Assert.Equal((2_401m, 22.5m), (ServicePricing.Price(quota, 2_501).Billable, ServicePricing.Price(quota, 2_501).Amount));
        // Exactly one package's worth beyond the allowance is one package.
        Assert.Equal(7.5m, ServicePricing.Price(quota, 1_100).Amount);
    }

    [Fact]
    public void PerUnit_BillsTheOverageAtItsPrice_AndShowsIncludedAsTheLimit()
    {
        // 1,500 used, 1,000 included: 500 x 0.02 = 10.00.
        var priced = ServicePricing.Price(Quota(PricingModel.PerUnit, 1_000, overage: 0.02m), 1_500);
        Assert.Equal((1_500m, 1_000m, 500m, 10m, (decimal?)0.02m), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        // Unlimited: everything used is shown as included, nothing billable.
        var unlimited = ServicePricing.Price(Quota(PricingModel.PerUnit, null, overage: 0.02m), 1_500);
        Assert.Equal((1_500m, 0m, 0m), (unlimited.Included, unlimited.Billable, unlimited.Amount));
    }

    [Fact]
    public void Price_OfNegativeUsage_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ServicePricing.Price(Quota(PricingModel.PerUnit, 0), -0.000001m));

    public static TheoryData<string, PricingModel, decimal, PriceTier[], decimal?, decimal?> GoodDefinitions => new()
    {
        { "per unit", PricingModel.PerUnit, 0.0001m, Array.Empty<PriceTier>(), null, null },
        { "free per unit", PricingModel.PerUnit, 0m, Array.Empty<PriceTier>(), null, null },
        { "largest overage price", PricingModel.PerUnit, 9_999.999999m, Array.Empty<PriceTier>(), null, null },
        { "graduated", PricingModel.Graduated, 0m, Tiers, null, null },
        { "graduated out of order", PricingModel.Graduated, 0m, Shuffled, null, null },
        { "one open tier", PricingModel.Volume, 0m, new[] { new PriceTier { UnitPrice = 0m } }, null, null },
        { "volume", PricingModel.Volume, 0m, Tiers, null, null },
        { "package", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 1_000m, 7.5m },
        { "free package", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 0.000001m, 0m },
        { "largest package", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 99_999_999_999_999.999999m, 99_999_999_999_999.999999m },
    };

    [Theory]
    [MemberData(nameof(GoodDefinitions))]
    public void Validate_AcceptsAGoodDefinition(string what, PricingModel model, decimal overage, PriceTier[] tiers, decimal? size, decimal? packagePrice)
    {
        Assert.NotNull(what);
        ServicePricing.Validate(model, overage, tiers, size, packagePrice);
    }

    public static TheoryData<string, PricingModel, decimal, PriceTier[], decimal?, decimal?> BadDefinitions => new()
    {
        { "negative overage price", PricingModel.PerUnit, -0.000001m, Array.Empty<PriceTier>(), null, null },
        { "overage price of 10,000", PricingModel.PerUnit, 10_000m, Array.Empty<PriceTier>(), null, null },
        { "overage price with 7 places", PricingModel.PerUnit, 0.0000001m, Array.Empty<PriceTier>(), null, null },
        { "no tiers", PricingModel.Graduated, 0m, Array.Empty<PriceTier>(), null, null },
        { "no tiers, volume", PricingModel.Volume, 0m, Array.Empty<PriceTier>(), null, null },
        { "no open tier", PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 10, UnitPrice = 1 } }, null, null },
        { "two open tiers", PricingModel.Volume, 0m, new[] { new PriceTier { UnitPrice = 1 }, new PriceTier { UnitPrice = 2 } }, null, null },
        { "negative tier price", PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 10, UnitPrice = -0.01m }, new PriceTier { UnitPrice = 1 } }, null, null },
        { "negative open tier price", PricingModel.Volume, 0m, new[] { new PriceTier { UpTo = 10, UnitPrice = 1 }, new PriceTier { UnitPrice = -1 } }, null, null },
        { "negative flat fee", PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 10, UnitPrice = 1, FlatFee = -0.01m }, new PriceTier { UnitPrice = 1 } }, null, null },
        { "UpTo of zero", PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 0, UnitPrice = 1 }, new PriceTier { UnitPrice = 1 } }, null, null },
        { "negative UpTo", PricingModel.Volume, 0m, new[] { new PriceTier { UpTo = -5, UnitPrice = 1 }, new PriceTier { UnitPrice = 1 } }, null, null },
        { "two tiers with one UpTo", PricingModel.Graduated, 0m, new[] { new PriceTier { UpTo = 10, UnitPrice = 1 }, new PriceTier { UpTo = 10, UnitPrice = 2 }, new PriceTier { UnitPrice = 1 } }, null, null },
        { "package size of zero", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 0m, 1m },
        { "negative package size", PricingModel.Package, 0m, Array.Empty<PriceTier>(), -1m, 1m },
        { "no package size", PricingModel.Package, 0m, Array.Empty<PriceTier>(), null, 1m },
        { "negative package price", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 10m, -0.01m },
        { "no package price", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 10m, null },
        { "package size with 7 places (0 on the store)", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 0.0000001m, 1m },
        { "package price with 7 places", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 1m, 0.0000001m },
        { "package size of 10^14", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 100_000_000_000_000m, 1m },
        { "package price of 10^14", PricingModel.Package, 0m, Array.Empty<PriceTier>(), 1m, 100_000_000_000_000m },
    };

    [Theory]
    [MemberData(nameof(BadDefinitions))]
    public void Validate_RefusesNegativePricesPackageSizesOfZeroOrLessAndBadTiers(string what, PricingModel model, decimal overage, PriceTier[] tiers, decimal? size, decimal? packagePrice)
    {
        var error = Assert.Throws<UsageException>(() => ServicePricing.Validate(model, overage, tiers, size, packagePrice));
        Assert.True(error.ErrorId == ErrorIds.InvalidArgument && Equals(error.Target, "Pricing"), what);
    }
}
