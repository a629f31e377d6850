namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>A quota as the spec describes it (Set-UsageQuota): limit, reset, pricing model and terms.</summary>
public sealed record QuotaDef(
    string Service,
    decimal? Limit,
    PricingModel Model,
    decimal Overage = 0m,
    IReadOnlyList<(decimal? UpTo, decimal Price, decimal Flat)>? Tiers = null,
    decimal? PackageSize = null,
    decimal? PackagePrice = null,
    QuotaResetPeriod Reset = QuotaResetPeriod.Monthly,
    QuotaEnforcement Enforcement = QuotaEnforcement.Soft)
{
    /// <summary>Storage limits are in GB, compared with the average GB kept over the period.</summary>
    public bool Averaged { get; init; } = Service == "storage";

    public BillingQuota ToQuota(string? plan, string? customer) => new()
    {
        Plan = plan,
        CustomerId = customer,
        Service = Service,
        Limit = Limit,
        LimitType = Averaged ? "gb" : Catalog.Units[Service],
        UsageUnit = Averaged ? "GB (average over the period)" : Catalog.Units[Service],
        Enforcement = Enforcement,
        ResetPeriod = Reset,
        PricingModel = Model,
        OveragePrice = Overage,
        Tiers = (Tiers ?? Array.Empty<(decimal?, decimal, decimal)>()).Select(t => new PriceTier { UpTo = t.UpTo, UnitPrice = t.Price, FlatFee = t.Flat }).ToList(),
        PackageSize = PackageSize,
        PackagePrice = PackagePrice,
    };
}

public sealed record PlanDef(string Name, string Currency, decimal Monthly, IReadOnlyList<QuotaDef> Quotas);

/// <summary>The fixed world every sequence runs in: services, plans, zones and cultures.</summary>
public static class Catalog
{
    public const string CustomService = "difftokens";

    public static readonly string[] Services = { "api", "storage", "compute", "bandwidth", CustomService };

    public static readonly Dictionary<string, string> Units = new()
    {
        ["api"] = "requests", ["storage"] = "GB-hours", ["compute"] = "CPU-hours", ["bandwidth"] = "GB", [CustomService] = "tokens",
    };

    /// <summary>Display prices (Get-UsageService) of the services a customer without a quota pays.</summary>
    public static readonly Dictionary<string, decimal> DisplayPrices = new()
    {
        ["api"] = 0.0001m, ["storage"] = 0.001m, ["compute"] = 0.05m, ["bandwidth"] = 0.01m, [CustomService] = 0.000002m,
    };

    /// <summary>The order invoice lines list services in: built-in ones first, then custom by name.</summary>
    public static readonly string[] BuiltInOrder = { "api", "storage", "bandwidth", "compute", "database", "functions" };

    public static readonly string[] Zones = { "UTC", "Europe/Berlin", "America/New_York" };

    public static readonly string[] Cultures = { "en-US", "de-DE", "fr-FR", "tr-TR" };

    public const decimal TaxRate = 8.25m;

    /// <summary>
    /// Where a customer is and what it is (Set-BillingCustomer -Country -Region -TaxId -TaxExempt),
    /// with the tax its invoices must show, worked out by hand from the seller below: a German
    /// seller set up for reverse charge, with rates for Germany, France, the US and California.
    /// </summary>
    public sealed record PlaceDef(string? Country, string? Region, string? TaxId, bool Exempt, TaxTreatment Treatment, string TaxName, decimal Rate);

    public static readonly IReadOnlyList<PlaceDef> Places = new[]
    {
        new PlaceDef(null, null, null, false, TaxTreatment.Standard, "Tax", TaxRate),             // nowhere: BILLING_TAX_RATE
        new PlaceDef("DE", null, null, false, TaxTreatment.Standard, "VAT", 19m),                 // a German consumer
        new PlaceDef("FR", null, "FR40303265045", false, TaxTreatment.ReverseCharge, "TVA", 0m),  // a French business
        new PlaceDef("FR", null, null, false, TaxTreatment.Standard, "TVA", 20m),                 // a French consumer
        new PlaceDef("US", "CA", null, false, TaxTreatment.Standard, "Sales tax", 7.25m),         // California's rate over the country's
        new PlaceDef("US", "NY", "12-3456789", false, TaxTreatment.Standard, "Sales tax", 0m),    // outside the union: no reverse charge
        new PlaceDef("AT", null, "ATU12345678", false, TaxTreatment.ReverseCharge, "VAT", 0m),    // no Austrian rate: named as the seller's
        new PlaceDef("DE", null, "DE999999999", true, TaxTreatment.Exempt, "VAT", 0m),            // exempt beats everything
        new PlaceDef("JP", null, null, false, TaxTreatment.Standard, "Tax", TaxRate),             // a place without a rate
    };

    /// <summary>The seller's rates: (country, region, name, rate).</summary>
    public static readonly IReadOnlyList<(string Country, string? Region, string Name, decimal Rate)> TaxRates = new[]
    {
        ("DE", (string?)null, "VAT", 19m), ("FR", null, "TVA", 20m), ("US", null, "Sales tax", 0m), ("US", "CA", "Sales tax", 7.25m),
    };

    public static readonly IReadOnlyList<PlanDef> Plans = new[]
    {
        new PlanDef("diff-basic", "USD", 29.90m, new[]
        {
            new QuotaDef("api", 100, PricingModel.PerUnit, 0.0013m),
            new QuotaDef("storage", 10, PricingModel.PerUnit, 0.25m),
            new QuotaDef("compute", 1, PricingModel.Volume, Tiers: new (decimal?, decimal, decimal)[] { (5, 0.5m, 0), (20, 0.4m, 1m), (null, 0.3m, 2m) }),
        }),
        new PlanDef("diff-pro", "USD", 99.99m, new[]
        {
            new QuotaDef("api", 1000, PricingModel.Graduated, Tiers: new (decimal?, decimal, decimal)[] { (50, 0.01m, 0), (500, 0.005m, 0.5m), (null, 0.001m, 0) }),
            new QuotaDef("storage", 2, PricingModel.Package, PackageSize: 2, PackagePrice: 1.5m),
            new QuotaDef("bandwidth", 0, PricingModel.PerUnit, 0.085m),
            new QuotaDef(CustomService, null, PricingModel.PerUnit, 0.5m),
        }),
        // No quota for the custom service, priced in USD: invoicing its usage is CurrencyMismatch.
        new PlanDef("diff-yen", "JPY", 3000m, new[]
        {
            new QuotaDef("api", 50, PricingModel.PerUnit, 0.013m),
            new QuotaDef("storage", 1, PricingModel.PerUnit, 25m),
            new QuotaDef("compute", 0, PricingModel.Package, PackageSize: 0.5m, PackagePrice: 7m),
            new QuotaDef("bandwidth", 3, PricingModel.Graduated, Tiers: new (decimal?, decimal, decimal)[] { (10, 9m, 0), (null, 8.5m, 100m) }),
        }),
        new PlanDef("diff-daily", "USD", 10m, new[]
        {
            new QuotaDef("api", 10, PricingModel.PerUnit, 0.01m, Reset: QuotaResetPeriod.Daily, Enforcement: QuotaEnforcement.Hard),
            new QuotaDef("storage", 5, PricingModel.PerUnit, 0.1m, Reset: QuotaResetPeriod.Weekly),
            new QuotaDef("compute", 3, PricingModel.PerUnit, 0.2m),
        }),
    };

    public static readonly IReadOnlyList<QuotaDef> Overrides = new[]
    {
        new QuotaDef("api", 5, PricingModel.PerUnit, 0.02m, Enforcement: QuotaEnforcement.Hard),
        new QuotaDef("storage", 1, PricingModel.Package, PackageSize: 0.5m, PackagePrice: 0.3m),
        new QuotaDef(CustomService, null, PricingModel.PerUnit),
        new QuotaDef("compute", 2, PricingModel.Graduated, Tiers: new (decimal?, decimal, decimal)[] { (1, 0.2m, 0.05m), (null, 0.1m, 0) }),
    };

    /// <summary>Every sequence starts at this instant: Berlin and New York change to summer time within the next weeks.</summary>
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
}
