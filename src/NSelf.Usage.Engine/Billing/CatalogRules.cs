using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// What may be written to the catalog (services, subscriptions, customer quotas), decided on the
/// facts a store's write transaction read. The rules are written once here, tested without a
/// database; the shared store code reads the facts, asks, and throws what it is given, so the
/// read and the write stay in one transaction.
/// </summary>
internal static class CatalogRules
{
    /// <summary>
    /// A built-in service never changes; a registered one changes only when replacing (-Force);
    /// a unit under recorded usage never changes (past totals would be relabelled).
    /// </summary>
    /// <param name="registeredBuiltIn">null when the name is not registered; else whether it is built in.</param>
    /// <param name="recordedUnit">the registered unit when usage was recorded under it and the new unit differs; else null.</param>
    public static UsageException? RefuseRegistration(UsageService service, bool? registeredBuiltIn, bool replace, string? recordedUnit) =>
        registeredBuiltIn == true
            ? new UsageException(ErrorIds.ServiceExists, UsageErrorKind.ResourceExists, $"'{service.Name}' is a built-in service and cannot be changed.", service.Name)
        : registeredBuiltIn == false && !replace
            ? new UsageException(ErrorIds.ServiceExists, UsageErrorKind.ResourceExists, $"Service '{service.Name}' is already registered. Use -Force to change its unit or price.", service.Name)
        : recordedUnit is not null
            ? ServiceCatalog.UnitInUse(service, recordedUnit)
        : null;

    /// <summary>A customer has at most one live subscription; an ended one may be added beside it (history).</summary>
    public static UsageException? RefuseSubscription(BillingSubscription subscription, bool customerHasLive) =>
        SubscriptionRules.IsLive(subscription.Status) && customerHasLive
            ? new UsageException(ErrorIds.SubscriptionExists, UsageErrorKind.ResourceExists,
                $"Customer '{subscription.CustomerId}' already has a live subscription; change it with Set-BillingSubscription -Plan, or cancel it first.", subscription.CustomerId)
            : null;

    /// <summary>A removed customer takes no quota, as tracking takes no usage for it.</summary>
    public static UsageException? RefuseCustomerQuota(string customerId, bool customerRemoved) =>
        customerRemoved
            ? new UsageException(ErrorIds.CustomerRemoved, UsageErrorKind.InvalidOperation,
                $"Customer '{customerId}' was removed; it takes no quota, as it takes no usage.", customerId)
            : null;
}
