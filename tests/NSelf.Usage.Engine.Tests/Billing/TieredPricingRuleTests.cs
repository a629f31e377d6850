using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 24: what ServicePricing.Price hands an invoice line besides the amount (used, included,
/// billable, unit price, tier parts), model by model. Amounts worked out by hand beside each.
/// </summary>
public sealed class TieredPricingRuleTests
{
    private static BillingQuota Quota(PricingModel model, decimal? limit, decimal overage = 0m, IReadOnlyList<PriceTier>? tiers = null, decimal? size = null, decimal? packagePrice = null) => new()
    {
        Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
        ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(),
        PackageSize = size, PackagePrice = packagePrice,
    };

    // Up to 100 at 0.10 with a 1.00 flat fee; up to 1,000 at 0.05 with a 2.00 flat fee; beyond at 0.01 with 3.00.
    private static readonly PriceTier[] Fees =
    {
        new() { UpTo = 100, UnitPrice = 0.1m, FlatFee = 1m },
        new() { UpTo = 1_000, UnitPrice = 0.05m, FlatFee = 2m },
        new() { UnitPrice = 0.01m, FlatFee = 3m },
    };

    private static (decimal?, decimal, decimal, decimal, decimal)[] Parts(PricedUsage p) =>
        p.Tiers.Select(t => (t.UpTo, t.Quantity, t.UnitPrice, t.FlatFee, t.Amount)).ToArray();

    [Fact]
    public void Graduated_BillsOnlyUsageBeyondTheAllowance_TierByTier_WithEachEnteredTiersFlatFee()
    {
        // 1,550 used, 500 included: 1,050 billable. Tier 1: 100 x 0.10 + 1.00 = 11.00; tier 2: 900 x 0.05 + 2.00 = 47.00;
        // open tier: 50 x 0.01 + 3.00 = 3.50. 61.50 in all; a graduated line has no single unit price.
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 500, tiers: Fees), 1_550);
        Assert.Equal((1_550m, 500m, 1_050m, 61.5m, (decimal?)null), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        Assert.Equal(new (decimal?, decimal, decimal, decimal, decimal)[]
        {
            (100m, 100m, 0.1m, 1m, 11m), (1_000m, 900m, 0.05m, 2m, 47m), (null, 50m, 0.01m, 3m, 3.5m),
        }, Parts(priced));
    }

    [Fact]
    public void Graduated_UsageEndingInTheMiddleTier_StopsThere_WithoutTheOpenTiersFee()
    {
        // 150 billable: 100 x 0.10 + 1.00 = 11.00; 50 x 0.05 + 2.00 = 4.50; 15.50. The open tier's 3.00 is not due.
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: Fees), 150);
        Assert.Equal(15.5m, priced.Amount);
        Assert.Equal(new (decimal?, decimal, decimal, decimal, decimal)[] { (100m, 100m, 0.1m, 1m, 11m), (1_000m, 50m, 0.05m, 2m, 4.5m) }, Parts(priced));
    }

    [Fact]
    public void Graduated_Unlimited_ShowsEverythingUsedAsIncluded_AndBillsNoTier()
    {
        var priced = ServicePricing.Price(Quota(PricingModel.Graduated, null, tiers: Fees), 5_000);
        Assert.Equal((5_000m, 5_000m, 0m, 0m), (priced.Used, priced.Included, priced.Billable, priced.Amount));
        Assert.Empty(priced.Tiers);
    }

    [Fact]
    public void Volume_WithinTheAllowance_ChargesNoTierAndNoFlatFee()
    {
        // The first tier's 1.00 flat fee is due only once a unit is billable: 300 used of 300 included bills nothing,
        // has no unit price and no tier part.
        var priced = ServicePricing.Price(Quota(PricingModel.Volume, 300, tiers: Fees), 300);
        Assert.Equal((300m, 300m, 0m, 0m, (decimal?)null), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        Assert.Empty(priced.Tiers);
    }

    [Fact]
    public void Volume_PricesAllBillableUsageAtTheTierItReaches_WithThatTiersFlatFee()
    {
        // 450 used, 300 included: 150 billable reaches the 1,000 tier: 150 x 0.05 + 2.00 = 9.50, unit price 0.05.
        var priced = ServicePricing.Price(Quota(PricingModel.Volume, 300, tiers: Fees), 450);
        Assert.Equal((450m, 300m, 150m, 9.5m, (decimal?)0.05m), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        Assert.Equal(new (decimal?, decimal, decimal, decimal, decimal)[] { (1_000m, 150m, 0.05m, 2m, 9.5m) }, Parts(priced));
        // Beyond every UpTo: the open tier. 2,000 billable x 0.01 + 3.00 = 23.00.
        Assert.Equal(new (decimal?, decimal, decimal, decimal, decimal)[] { (null, 2_000m, 0.01m, 3m, 23m) },
            Parts(ServicePricing.Price(Quota(PricingModel.Volume, 0, tiers: Fees), 2_000)));
    }

    [Fact]
    public void Package_ShowsTheAllowance_AndNoUnitPriceOrTiers()
    {
        // 250 used, 100 included: 150 billable in packages of 100 at 4.00: 2 packages, 8.00.
        var priced = ServicePricing.Price(Quota(PricingModel.Package, 100, size: 100, packagePrice: 4m), 250);
        Assert.Equal((250m, 100m, 150m, 8m, (decimal?)null), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        Assert.Empty(priced.Tiers);
    }

    [Fact]
    public void PerUnit_UsageExactlyAtTheLimit_BillsNothing_AndHasNoTierParts()
    {
        var priced = ServicePricing.Price(Quota(PricingModel.PerUnit, 1_000, overage: 0.02m), 1_000);
        Assert.Equal((1_000m, 1_000m, 0m, 0m, (decimal?)0.02m), (priced.Used, priced.Included, priced.Billable, priced.Amount, priced.UnitPrice));
        Assert.Empty(priced.Tiers);
    }

    [Fact]
    public void Price_OfNegativeUsage_IsRefusedNamingTheUsage()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => ServicePricing.Price(Quota(PricingModel.PerUnit, 0), -2m));
        Assert.Equal(("used", (object?)(-2m)), (error.ParamName, error.ActualValue));
        Assert.StartsWith("Usage cannot be negative.", error.Message, StringComparison.Ordinal);
    }
}
