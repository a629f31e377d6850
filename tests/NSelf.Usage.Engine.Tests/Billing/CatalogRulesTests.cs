using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 16: the catalog's write rules, decided without a store on the facts a store read.</summary>
public sealed class CatalogRulesTests
{
    private static readonly UsageService Tokens = new() { Name = "tokens", Unit = "tokens", DisplayPrice = 0.001m, Currency = "USD", BuiltIn = false };

    [Fact]
    public void Registration_OfANewName_IsAllowed()
    {
        Assert.Null(CatalogRules.RefuseRegistration(Tokens, registeredBuiltIn: null, replace: false, recordedUnit: null));
        Assert.Null(CatalogRules.RefuseRegistration(Tokens, registeredBuiltIn: false, replace: true, recordedUnit: null));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Registration_OverABuiltIn_IsRefused_EvenWhenReplacing(bool replace)
    {
        var refused = CatalogRules.RefuseRegistration(Tokens, registeredBuiltIn: true, replace, recordedUnit: null)!;
        Assert.Equal((ErrorIds.ServiceExists, UsageErrorKind.ResourceExists, (object?)"tokens"), (refused.ErrorId, refused.Kind, refused.Target));
        Assert.Equal("'tokens' is a built-in service and cannot be changed.", refused.Message);
    }

    [Fact]
    public void Registration_OverARegisteredName_NeedsReplace()
    {
        var refused = CatalogRules.RefuseRegistration(Tokens, registeredBuiltIn: false, replace: false, recordedUnit: "tokens")!;
        Assert.Equal(ErrorIds.ServiceExists, refused.ErrorId);
        Assert.Equal("Service 'tokens' is already registered. Use -Force to change its unit or price.", refused.Message);
    }

    [Fact]
    public void Registration_ChangingAUnitUnderRecordedUsage_IsRefused()
    {
        var refused = CatalogRules.RefuseRegistration(Tokens, registeredBuiltIn: false, replace: true, recordedUnit: "calls")!;
        Assert.Equal((ErrorIds.InvalidUnit, UsageErrorKind.InvalidOperation), (refused.ErrorId, refused.Kind));
    }

    [Theory]
    [InlineData(SubscriptionStatus.Active, true, true)]
    [InlineData(SubscriptionStatus.Trialing, true, true)]
    [InlineData(SubscriptionStatus.PastDue, true, true)]
    [InlineData(SubscriptionStatus.Canceled, true, false)]
    [InlineData(SubscriptionStatus.Unpaid, true, false)]
    [InlineData(SubscriptionStatus.Active, false, false)]
    public void Subscription_IsOneLivePerCustomer_AndEndedOnesMayBeAddedBesideIt(SubscriptionStatus status, bool customerHasLive, bool refused)
    {
        var subscription = new BillingSubscription
        {
            SubscriptionId = "sub_1", CustomerId = "cus_1", Plan = "starter", Status = status, BillingCycle = BillingCycle.Monthly,
            CurrentPeriodStart = Clock.Utc(2026, 11, 1), CurrentPeriodEnd = Clock.Utc(2026, 12, 1), Anchor = Clock.Utc(2026, 11, 1), TimeZone = "UTC",
            CancelAtPeriodEnd = false, CreatedAt = Clock.Utc(2026, 11, 1),
        };
        var refusal = CatalogRules.RefuseSubscription(subscription, customerHasLive);
        Assert.Equal(refused, refusal is not null);
        if (refusal is not null)
            Assert.Equal((ErrorIds.SubscriptionExists, UsageErrorKind.ResourceExists, (object?)"cus_1"), (refusal.ErrorId, refusal.Kind, refusal.Target));
    }

    [Fact]
    public void CustomerQuota_ForARemovedCustomer_IsRefused()
    {
        Assert.Null(CatalogRules.RefuseCustomerQuota("cus_1", customerRemoved: false));
        var refused = CatalogRules.RefuseCustomerQuota("cus_1", customerRemoved: true)!;
        Assert.Equal((ErrorIds.CustomerRemoved, UsageErrorKind.InvalidOperation, (object?)"cus_1"), (refused.ErrorId, refused.Kind, refused.Target));
    }
}
