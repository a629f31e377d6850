using System.Globalization;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 16: the rules Set-BillingPlan, Set-UsageQuota and Test-UsageQuota -Quiet held in their
/// cmdlets, now engine functions: bounds at their edges, and what a change keeps of the stored value.
/// </summary>
public sealed class DefinitionRuleTests
{
    private static decimal D(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

    private static readonly UsageService Api = new() { Name = "api", Unit = "requests", DisplayPrice = 0m, Currency = "USD", BuiltIn = true };
    private static readonly UsageService Storage = new() { Name = "storage", Unit = "GB-hours", DisplayPrice = 0m, Currency = "USD", BuiltIn = true };

    [Theory]
    [InlineData("0")]
    [InlineData("0.01")]
    [InlineData("29.90")]
    [InlineData("99999999.99")]
    public void PlanFee_FromZeroToBelowAHundredMillion_InCents_IsKept(string fee) =>
        Assert.Equal(D(fee), PlanDefinition.Fee(D(fee), "PriceMonthly", fee));

    [Theory]
    [InlineData("-0.01")]
    [InlineData("100000000")]      // the ceiling itself: numeric(10,2) holds less
    [InlineData("0.001")]          // a third decimal place PostgreSQL would round away
    [InlineData("79228162514264337593543950335")] // decimal.MaxValue
    [InlineData("-79228162514264337593543950335")]
    public void PlanFee_OutsideTheColumn_IsInvalidArgument_NamingTheParameterAndValueAsGiven(string fee)
    {
        var e = Assert.Throws<UsageException>(() => PlanDefinition.Fee(D(fee), "PriceYearly", "as typed"));
        Assert.Equal(ErrorIds.InvalidArgument, e.ErrorId);
        Assert.Equal("as typed", e.Target);
        Assert.StartsWith("-PriceYearly ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_New_TakesTheDefaults_NoFeesUsdActiveFirst()
    {
        var plan = PlanDefinition.Apply("pro", null, new PlanEdit());
        Assert.Equal(("pro", 0m, 0m, "USD", true, 0, (string?)null, (string?)null),
            (plan.Name, plan.PriceMonthly, plan.PriceYearly, plan.Currency, plan.IsActive, plan.SortOrder, plan.DisplayName, plan.Description));
    }

    [Fact]
    public void Plan_Change_KeepsWhatIsNotGiven_AndReplacesWhatIs_NullIncluded()
    {
        var stored = new BillingPlan { Name = "pro", DisplayName = "Pro", Description = "For teams", PriceMonthly = 29.90m, PriceYearly = 299m, Currency = "EUR", IsActive = false, SortOrder = 3 };
        var kept = PlanDefinition.Apply("pro", stored, new PlanEdit());
        Assert.Equal(("Pro", "For teams", 29.90m, 299m, "EUR", false, 3), (kept.DisplayName, kept.Description, kept.PriceMonthly, kept.PriceYearly, kept.Currency, kept.IsActive, kept.SortOrder));
        var changed = PlanDefinition.Apply("pro", stored, new PlanEdit
        {
            Description = new Given<string?>(null),
            PriceMonthly = new Given<decimal>(0m),
            Currency = new Given<string?>("gbp"),
            Active = new Given<bool>(true),
            SortOrder = new Given<int>(-1),
        });
        Assert.Equal(("Pro", (string?)null, 0m, 299m, "GBP", true, -1), (changed.DisplayName, changed.Description, changed.PriceMonthly, changed.PriceYearly, changed.Currency, changed.IsActive, changed.SortOrder));
    }

    [Fact]
    public void Plan_DisplayName_Of255CharactersIsKept_256IsRefused()
    {
        Assert.Equal(255, PlanDefinition.Apply("p", null, new PlanEdit { DisplayName = new Given<string?>(new string('x', 255)) }).DisplayName!.Length);
        var e = Assert.Throws<UsageException>(() => PlanDefinition.Apply("p", null, new PlanEdit { DisplayName = new Given<string?>(new string('x', 256)) }));
        Assert.Equal(ErrorIds.InvalidArgument, e.ErrorId);
    }

    [Fact]
    public void Plan_FeeOfAChange_IsCheckedInApply_WithTheValueAsGiven()
    {
        var e = Assert.Throws<UsageException>(() => PlanDefinition.Apply("p", null, new PlanEdit { PriceMonthly = new Given<decimal>(-1m, "-1") }));
        Assert.Equal(("-1", ErrorIds.InvalidArgument), (e.Target, e.ErrorId));
    }

    private static BillingQuota Basis(string? plan = "pro") => new()
    {
        Plan = plan, Service = "api", Limit = 1000, LimitType = "requests", UsageUnit = "requests",
        Enforcement = QuotaEnforcement.Hard, ResetPeriod = QuotaResetPeriod.Daily, PricingModel = PricingModel.PerUnit, OveragePrice = 0.01m,
    };

    [Fact]
    public void Quota_WithoutOneToStartFrom_NeedsALimit()
    {
        var e = Assert.Throws<UsageException>(() => QuotaDefinition.Apply("pro", null, Api, null, new QuotaChange(), "API"));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)"API"), (e.ErrorId, e.Target));
    }

    [Theory]
    [InlineData(-1L, null)]            // nself's "unlimited"
    [InlineData(0L, 0L)]
    [InlineData(long.MaxValue, long.MaxValue)]
    public void Quota_Limit_MinusOneIsUnlimited_ZeroAndUpAreKept(long limit, long? expected) =>
        Assert.Equal(expected, (long?)QuotaDefinition.Apply("pro", null, Api, null, new QuotaChange { Limit = new Given<long>(limit) }).Limit);

    [Theory]
    [InlineData(-2L)]
    [InlineData(long.MinValue)]
    public void Quota_Limit_BelowMinusOne_IsInvalidArgument(long limit)
    {
        var e = Assert.Throws<UsageException>(() => QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { Limit = new Given<long>(limit) }));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)limit), (e.ErrorId, e.Target));
    }

    [Fact]
    public void Quota_Change_KeepsTheBasis_ForWhatIsNotGiven_AndIsForTheCustomerItNames()
    {
        var quota = QuotaDefinition.Apply(null, "cus_1", Api, Basis(), new QuotaChange { OveragePrice = new Given<decimal>(0m) });
        Assert.Equal(((string?)null, (string?)"cus_1", 1000m, QuotaEnforcement.Hard, QuotaResetPeriod.Daily, 0m, "requests"),
            (quota.Plan, quota.CustomerId, quota.Limit, quota.Enforcement, quota.ResetPeriod, quota.OveragePrice, quota.LimitType));
        var fresh = QuotaDefinition.Apply("pro", null, Api, null, new QuotaChange { Limit = new Given<long>(5) });
        Assert.Equal((QuotaEnforcement.Soft, QuotaResetPeriod.Monthly, PricingModel.PerUnit, 0m, "requests"),
            (fresh.Enforcement, fresh.ResetPeriod, fresh.PricingModel, fresh.OveragePrice, fresh.LimitType)); // limit type: the service's unit
    }

    private static readonly PriceTier[] BasisTiers = [new() { UpTo = 100m, UnitPrice = 0.02m }, new() { UnitPrice = 0.01m }];

    private static BillingQuota FullBasis() => new()
    {
        Plan = "pro", Service = "api", Limit = 1000, LimitType = "calls", UsageUnit = "calls",
        Enforcement = QuotaEnforcement.Hard, ResetPeriod = QuotaResetPeriod.Daily, PricingModel = PricingModel.Graduated,
        OveragePrice = 0.01m, Tiers = BasisTiers, PackageSize = 10m, PackagePrice = 2m,
    };

    [Fact]
    public void Quota_Change_GivenNothing_KeepsEveryFieldOfTheBasis()
    {
        var quota = QuotaDefinition.Apply("pro", null, Api, FullBasis(), new QuotaChange());
        Assert.Equal(((long?)1000, "calls", QuotaEnforcement.Hard, QuotaResetPeriod.Daily, PricingModel.Graduated, 0.01m, (decimal?)10m, (decimal?)2m),
            (quota.Limit, quota.LimitType, quota.Enforcement, quota.ResetPeriod, quota.PricingModel, quota.OveragePrice, quota.PackageSize, quota.PackagePrice));
        Assert.Equal(BasisTiers, quota.Tiers);
    }

    [Fact]
    public void Quota_Change_EveryFieldGiven_WinsOverTheBasis()
    {
        PriceTier[] tiers = [new() { UnitPrice = 0.5m }];
        var quota = QuotaDefinition.Apply("pro", null, Api, FullBasis(), new QuotaChange
        {
            Limit = new Given<long>(5), LimitType = new Given<string>("requests"), Enforcement = new Given<QuotaEnforcement>(QuotaEnforcement.Soft),
            ResetPeriod = new Given<QuotaResetPeriod>(QuotaResetPeriod.Weekly), PricingModel = new Given<PricingModel>(PricingModel.Package),
            OveragePrice = new Given<decimal>(0.03m), Tiers = new Given<IReadOnlyList<PriceTier>>(tiers),
            PackageSize = new Given<decimal>(20m), PackagePrice = new Given<decimal>(3m),
        });
        Assert.Equal(((long?)5, "requests", QuotaEnforcement.Soft, QuotaResetPeriod.Weekly, PricingModel.Package, 0.03m, (decimal?)20m, (decimal?)3m),
            (quota.Limit, quota.LimitType, quota.Enforcement, quota.ResetPeriod, quota.PricingModel, quota.OveragePrice, quota.PackageSize, quota.PackagePrice));
        Assert.Equal(tiers, quota.Tiers);
    }

    [Fact]
    public void Quota_New_WithoutPricingGiven_IsPerUnit_WithNoTiersAndNoPackage()
    {
        var quota = QuotaDefinition.Apply(null, "cus_1", Api, null, new QuotaChange { Limit = new Given<long>(1) });
        Assert.Equal((PricingModel.PerUnit, 0, (decimal?)null, (decimal?)null), (quota.PricingModel, quota.Tiers.Count, quota.PackageSize, quota.PackagePrice));
    }

    [Fact]
    public void Quota_Refusals_SayWhatToDo()
    {
        Assert.Equal("There is no quota for 'api' yet: give -Limit.",
            Assert.Throws<UsageException>(() => QuotaDefinition.Apply("pro", null, Api, null, new QuotaChange())).Message);
        Assert.Equal("-Limit -2 must be -1 (unlimited) or zero or more.",
            Assert.Throws<UsageException>(() => QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { Limit = new Given<long>(-2) })).Message);
        Assert.StartsWith("A quota belongs to a plan or to one customer.",
            Assert.Throws<ArgumentException>(() => QuotaDefinition.Apply(null, null, Api, Basis(), new QuotaChange())).Message, StringComparison.Ordinal);
        Assert.Contains("The limit type", Assert.Throws<UsageException>(() =>
            QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { LimitType = new Given<string>(new string('u', 51)) })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Quota_BelongsToAPlanOrACustomer_NeverBothOrNeither()
    {
        Assert.Throws<ArgumentException>(() => QuotaDefinition.Apply("pro", "cus_1", Api, Basis(), new QuotaChange()));
        Assert.Throws<ArgumentException>(() => QuotaDefinition.Apply(null, null, Api, Basis(), new QuotaChange()));
    }

    [Fact]
    public void Quota_LimitType_Of50CharactersIsKept_51IsRefused_AndGbMakesStorageAnAverage()
    {
        Assert.Equal(50, QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { LimitType = new Given<string>(new string('u', 50)) }).LimitType.Length);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() =>
            QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { LimitType = new Given<string>(new string('u', 51)) })).ErrorId);
        Assert.Equal(QuotaUnits.AverageGb, QuotaDefinition.Apply("pro", null, Storage, null, new QuotaChange { Limit = new Given<long>(10), LimitType = new Given<string>("gb") }).UsageUnit);
    }

    [Fact]
    public void Quota_PricingOfTheChange_IsValidatedWithTheBasisFilledIn()
    {
        // Volume pricing without tiers, from a basis that had none: refused as the pricing rules refuse it.
        var e = Assert.Throws<UsageException>(() => QuotaDefinition.Apply("pro", null, Api, Basis(), new QuotaChange { PricingModel = new Given<PricingModel>(PricingModel.Volume) }));
        Assert.Equal(ErrorIds.InvalidArgument, e.ErrorId);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("79228162514264337593543950335")]
    public void RequestedQuantity_ZeroOrMore_IsKept(string quantity) => Assert.Equal(D(quantity), QuotaChecker.Requested(D(quantity), quantity));

    [Theory]
    [InlineData("-0.000001")]
    [InlineData("-79228162514264337593543950335")]
    public void RequestedQuantity_Negative_IsInvalidQuantity(string quantity)
    {
        var e = Assert.Throws<UsageException>(() => QuotaChecker.Requested(D(quantity), quantity));
        Assert.Equal((ErrorIds.InvalidQuantity, (object?)quantity), (e.ErrorId, e.Target));
    }

    private static readonly DateTimeOffset Start = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static QuotaCheck Check(string service, decimal used, decimal? limit, QuotaEnforcement enforcement) => new(new QuotaStatus
    {
        CustomerId = "cus_1", Service = service, Used = used, Limit = limit, Level = QuotaLevel.Ok, Enforcement = enforcement,
        Unit = "u", PeriodStart = Start, PeriodEnd = Start.AddDays(30),
    }, null);

    [Theory]
    [InlineData("999", "1", true)]       // reaches the limit exactly
    [InlineData("999", "1.000001", false)]
    [InlineData("1000", "0", true)]      // asking for nothing more at the limit
    [InlineData("1000.5", "0", false)]   // already past it
    public void Quiet_HardLimit_AllowsUpToTheLimitInclusive(string used, string more, bool fits) =>
        Assert.Equal(fits, QuotaChecker.Fits(new[] { Check("api", D(used), 1000, QuotaEnforcement.Hard) }, new Dictionary<string, BillingQuota>(), D(more)));

    [Fact]
    public void Quiet_SoftLimitUnlimitedOrNoQuota_AlwaysFits()
    {
        var none = new Dictionary<string, BillingQuota>();
        Assert.True(QuotaChecker.Fits(new[] { Check("api", 5000, 1000, QuotaEnforcement.Soft) }, none, 1));
        Assert.True(QuotaChecker.Fits(new[] { Check("api", 5000, null, QuotaEnforcement.Hard) }, none, decimal.MaxValue / 2));
        Assert.True(QuotaChecker.Fits(Array.Empty<QuotaCheck>(), none, decimal.MaxValue));
    }

    [Fact]
    public void Quiet_StorageUnderAGbQuota_CountsTheQuantityAsItsAverageOverThePeriod()
    {
        // A 30-day period is 720 hours: 720 GB-hours more is 1 GB more on average.
        var quota = new BillingQuota
        {
            Plan = "pro", Service = "storage", Limit = 10, LimitType = "gb", UsageUnit = QuotaUnits.AverageGb,
            Enforcement = QuotaEnforcement.Hard, ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0m,
        };
        var quotas = new Dictionary<string, BillingQuota> { ["storage"] = quota };
        var checks = new[] { Check("storage", 9, 10, QuotaEnforcement.Hard) };
        Assert.True(QuotaChecker.Fits(checks, quotas, 720));
        Assert.False(QuotaChecker.Fits(checks, quotas, 721));
    }
}
