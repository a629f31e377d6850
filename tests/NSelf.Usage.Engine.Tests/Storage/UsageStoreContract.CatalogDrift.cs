using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 16: where the two stores wrote subscriptions differently before they shared one
/// statement (PostgreSQL filtered an update by customer, SQLite did not; PostgreSQL stamped
/// plan changes and new rows with the server's clock, SQLite with the store's).
/// </summary>
public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void UpdateSubscription_GivenAnotherCustomersId_IsNotFound_AndChangesNothing()
    {
        var mine = Book.Subscribe("cus_owner", "starter", BillingCycle.Monthly, null, null);
        Book.Subscribe("cus_other", "starter", BillingCycle.Monthly, null, null);
        var foreign = new BillingSubscription
        {
            SubscriptionId = mine.SubscriptionId, CustomerId = "cus_other", Plan = "pro", Status = mine.Status, BillingCycle = mine.BillingCycle,
            CurrentPeriodStart = mine.CurrentPeriodStart, CurrentPeriodEnd = mine.CurrentPeriodEnd, Anchor = mine.Anchor, TimeZone = mine.TimeZone,
            CancelAtPeriodEnd = true, CanceledAt = null, CreatedAt = mine.CreatedAt,
        };
        var refused = Assert.Throws<UsageException>(() => Store.UpdateSubscription(foreign));
        Assert.Equal(ErrorIds.SubscriptionNotFound, refused.ErrorId);
        var kept = Store.GetSubscriptions("cus_owner").Single();
        Assert.Equal(("starter", "cus_owner", false), (kept.Plan, kept.CustomerId, kept.CancelAtPeriodEnd));
        Assert.Empty(Store.GetPlanChanges("cus_owner"));
        Assert.Empty(Store.GetPlanChanges("cus_other"));
    }

    [SkippableFact]
    public void Subscriptions_AndPlanChanges_AreStampedWithTheStoresClock()
    {
        // The contract's clock is days away from the database server's.
        var created = Book.Subscribe("cus_clock", "starter", BillingCycle.Monthly, null, null);
        Assert.Equal(Time.GetUtcNow(), created.CreatedAt);
        Time.SetUtcNow(Time.GetUtcNow().AddHours(1));
        Book.ChangePlan("cus_clock", "pro");
        var change = Store.GetPlanChanges("cus_clock").Single();
        Assert.Equal((Time.GetUtcNow(), "starter", "pro"), (change.ChangedAt, change.FromPlan, change.ToPlan));
    }
}
