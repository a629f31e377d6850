namespace NSelf.Usage.Engine.Billing;

/// <summary>Which subscriptions count: the one-per-customer rule, billing and quotas use this one test.</summary>
public static class SubscriptionRules
{
    /// <summary>A live subscription counts toward the one-per-customer rule and is billed.</summary>
    public static bool IsLive(SubscriptionStatus status) => status is SubscriptionStatus.Active or SubscriptionStatus.Trialing or SubscriptionStatus.PastDue;
}
