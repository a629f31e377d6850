using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Properties of every pricing model, over generated usage, allowances and tiers.</summary>
public sealed class PricingProperties
{
    // Quantities with up to six decimal places, from zero to a trillion.
    private static Arbitrary<decimal> Quantity() =>
        Gen.Choose(0, 1_000_000).SelectMany(whole => Gen.Choose(0, 999_999).SelectMany(fraction => Gen.Elements(1m, 1_000m, 1_000_000m)
            .Select(scale => whole * scale + fraction / 1_000_000m))).ToArbitrary();

    private static Arbitrary<decimal> Price() =>
        Gen.Choose(0, 100_000).Select(p => p / 10_000m).ToArbitrary();

    private static BillingQuota Quota(PricingModel model, decimal? limit, decimal overage = 0.01m, IReadOnlyList<PriceTier>? tiers = null, decimal? size = null, decimal? packagePrice = null) => new()
    {
        Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
        ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(),
        PackageSize = size, PackagePrice = packagePrice,
    };

    private static readonly PriceTier[] Tiers =
    {
        new() { UpTo = 1_000, UnitPrice = 0.01m },
        new() { UpTo = 10_000, UnitPrice = 0.008m, FlatFee = 5m },
        new() { UnitPrice = 0.005m },
    };

    private static IEnumerable<BillingQuota> EveryModel(decimal? limit) => new[]
    {
        Quota(PricingModel.PerUnit, limit),
        Quota(PricingModel.Graduated, limit, tiers: Tiers),
        Quota(PricingModel.Volume, limit, tiers: Tiers),
        Quota(PricingModel.Package, limit, size: 1000, packagePrice: 7.5m),
    };

    [Property]
    public Property ZeroUsage_CostsNothing() =>
        Prop.ForAll(Quantity(), limit => EveryModel(limit).All(q => ServicePricing.Price(q, 0m).Amount == 0m));

    [Property]
    public Property UsageWithinTheAllowance_CostsNothing() =>
        Prop.ForAll(Quantity(), Quantity(), (a, b) =>
        {
            var (used, limit) = a <= b ? (a, b) : (b, a);
            return EveryModel(limit).All(q => ServicePricing.Price(q, used) is { Amount: 0m, Billable: 0m });
        });

    [Property]
    public Property UnlimitedQuotas_NeverBill() =>
        Prop.ForAll(Quantity(), used => EveryModel(null).All(q => ServicePricing.Price(q, used).Amount == 0m));

    [Property]
    public Property Billable_IsUsageBeyondTheAllowance() =>
        Prop.ForAll(Quantity(), Quantity(), (used, limit) => ServicePricing.Price(Quota(PricingModel.PerUnit, limit), used).Billable == Math.Max(0m, used - limit));

    [Property]
    public Property PerUnit_IsBillableTimesPrice() =>
        Prop.ForAll(Quantity(), Price(), (used, price) => ServicePricing.Price(Quota(PricingModel.PerUnit, 0, price), used).Amount == used * price);

    [Property]
    public Property MoreUsage_NeverCostsLess() =>
        Prop.ForAll(Quantity(), Quantity(), Quantity(), (a, b, limit) =>
        {
            var (low, high) = a <= b ? (a, b) : (b, a);
            // Volume pricing may drop at a tier boundary by design; every other model is monotonic.
            return EveryModel(limit).Where(q => q.PricingModel != PricingModel.Volume)
                .All(q => ServicePricing.Price(q, low).Amount <= ServicePricing.Price(q, high).Amount);
        });

    [Property]
    public Property Graduated_TierParts_AddUpToTheAmountAndTheBillableQuantity() =>
        Prop.ForAll(Quantity(), used =>
        {
            var priced = ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: Tiers), used);
            return priced.Tiers.Sum(t => t.Amount) == priced.Amount && priced.Tiers.Sum(t => t.Quantity) == priced.Billable;
        });

    [Property]
    public Property Graduated_WithOneTier_IsPerUnit() =>
        Prop.ForAll(Quantity(), Price(), (used, price) =>
            ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: new[] { new PriceTier { UnitPrice = price } }), used).Amount
            == ServicePricing.Price(Quota(PricingModel.PerUnit, 0, price), used).Amount);

    [Property]
    public Property Package_ChargesWholePackages() =>
        Prop.ForAll(Quantity(), used =>
        {
            var amount = ServicePricing.Price(Quota(PricingModel.Package, 0, size: 1000, packagePrice: 7.5m), used).Amount;
            return amount == decimal.Ceiling(used / 1000m) * 7.5m;
        });

    [Property]
    public Property Rounding_IsToTheCentHalfAwayFromZero_AndOnlyOnce() =>
        Prop.ForAll(Gen.Choose(0, 10_000_000).Select(n => n / 10_000m).ToArbitrary(), amount =>
        {
            var rounded = Money.Round(amount, "USD");
            return Math.Abs(rounded - amount) <= 0.005m && decimal.Round(rounded, 2) == rounded && Money.Round(rounded, "USD") == rounded;
        });

    [Theory]
    [InlineData(1000, 10)]      // exactly at the first boundary: all in tier 1
    [InlineData(1001, 15.008)]  // one unit into tier 2: its price and flat fee
    [InlineData(10000, 87)]     // exactly at the second boundary
    [InlineData(10001, 87.005)]
    public void Graduated_TierBoundaries_AreInclusiveUpperBounds(decimal used, decimal expected) =>
        Assert.Equal(expected, ServicePricing.Price(Quota(PricingModel.Graduated, 0, tiers: Tiers), used).Amount);

    [Theory]
    [InlineData(1000, 10)]      // volume: the whole quantity at the tier it reaches
    [InlineData(1001, 13.008)]
    [InlineData(20000, 100)]
    public void Volume_PricesTheWholeQuantityAtTheTierItReaches(decimal used, decimal expected) =>
        Assert.Equal(expected, ServicePricing.Price(Quota(PricingModel.Volume, 0, tiers: Tiers), used).Amount);

    [Fact]
    public void HugeUsage_DoesNotOverflow()
    {
        foreach (var quota in EveryModel(0))
            Assert.True(ServicePricing.Price(quota, 1_000_000_000_000m).Amount > 0);
    }

    [Theory]
    [InlineData("USD", 2.345, 2.35)]
    [InlineData("USD", -2.345, -2.35)]
    [InlineData("JPY", 2.5, 3)]
    [InlineData("KWD", 1.2345, 1.235)]
    public void Money_RoundsToTheCurrencysMinorUnit(string currency, decimal amount, decimal expected) =>
        Assert.Equal(expected, Money.Round(amount, currency));

    [Fact]
    public void InvalidTiers_AreRefused()
    {
        Assert.Throws<UsageException>(() => ServicePricing.Validate(PricingModel.Graduated, 0, Array.Empty<PriceTier>(), null, null));
        Assert.Throws<UsageException>(() => ServicePricing.Validate(PricingModel.Graduated, 0, new[] { new PriceTier { UpTo = 10, UnitPrice = 1 } }, null, null));
        Assert.Throws<UsageException>(() => ServicePricing.Validate(PricingModel.Volume, 0, new[] { new PriceTier { UnitPrice = -1 } }, null, null));
        Assert.Throws<UsageException>(() => ServicePricing.Validate(PricingModel.Package, 0, Array.Empty<PriceTier>(), 0, 1));
    }

    private static readonly PeriodCharges.Window[] ThreeDays =
    {
        new(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero)),
        new(new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero)),
        new(new DateTimeOffset(2026, 11, 3, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 4, 0, 0, 0, TimeSpan.Zero)),
    };

    /// <summary>
    /// A period in three adjoining parts, each priced at the margin of the usage before it, bills
    /// exactly what the whole period bills, in every model: one window or three (a daily quota).
    /// </summary>
    [Property]
    public Property PartsOfAPeriod_AddUpToTheWholePeriod_ToTheCent() =>
        Prop.ForAll(Quantity(), Quantity(), Quantity(), (a, b, c) =>
        {
            // Allowances that end before, inside and after the parts.
            // The parts' usage spread over the windows differently, so each part reaches every window.
            decimal[] Spread(decimal q, int windows) => windows == 1 ? new[] { q } : new[] { q / 2, q / 4, q - q / 2 - q / 4 };
            return new decimal?[] { 0m, a + b / 2, a + b + c + 1 }.SelectMany(EveryModel).All(q => new[] { 1, 3 }.All(n =>
            {
                var windows = ThreeDays.Take(n).ToList();
                var parts = new[] { Spread(a, n), Spread(b, n), Spread(c, n) };
                var before = new decimal[n];
                var billed = 0m;
                foreach (var part in parts)
                {
                    billed += PeriodCharges.Margin(q, "api", "USD", windows, before, part).Amount;
                    before = before.Zip(part, (x, y) => x + y).ToArray();
                }
                return billed == Money.Round(PeriodCharges.Whole(q, "api", windows, before).Amount, "USD");
            }));
        });
}
