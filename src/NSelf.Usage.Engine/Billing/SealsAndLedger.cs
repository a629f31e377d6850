// The records of what was billed and sealed: the billing domain's own facts, which the store
// contract (Storage/IBillingStore.cs) reads and writes.
namespace NSelf.Usage.Engine.Billing;

/// <summary>An event's id and quantity, for the usage an invoice line bills.</summary>
public readonly record struct LedgerEntry(string EventId, decimal Quantity);

/// <summary>What finalized invoices billed for one customer, period and service, and up to which seal.</summary>
public sealed record BilledUsage(string Service, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, decimal Quantity, long SealedThrough);

/// <summary>
/// Which events an invoice line bills is decided by seals the store gives out, never by a
/// writer's clock: finalizing seals every unsealed event of the customer (stored or archived)
/// with a number greater than any given before. A line bills the events of its period sealed in
/// (After, Through]; an unsealed event counts as newer than every seal.
/// </summary>
public readonly record struct SealRange(long? After, long? Through)
{
    /// <summary>The Through of a draft: every event stored now, sealed or not.</summary>
    public const long Open = long.MaxValue;
}

/// <summary>
/// One stored or archived event of a customer with its seal, and one line that billed it (none:
/// InvoiceId null); an event billed by several lines comes once per line. A billed event no longer
/// stored has no RecordedAt and no Quantity.
/// </summary>
public sealed record AuditedEvent(string EventId, string Service, DateTimeOffset? RecordedAt, decimal? Quantity, long? Seal,
    string? InvoiceId, int? LineNumber, decimal? BilledQuantity);

/// <summary>One event a finalized line billed, as the ledger written when it was finalized says.</summary>
public sealed record BilledEvent(string InvoiceId, int LineNumber, string EventId, decimal Quantity);

/// <summary>
/// A seal given to a finalization, with the seal of the customer's last finalized invoice when it
/// was given (null: none): the finalization is saved only if that is still the last, so two
/// finalizations of one customer never both bill the same late usage.
/// </summary>
public sealed record BillingSeal(string CustomerId, long Seal, long? LastFinalized);

/// <summary>
/// A plan change of a subscription: <paramref name="FromPlan"/> was in force before
/// <paramref name="EffectiveFrom"/> (the start of the billing period the change was made in).
/// </summary>
public sealed record PlanChange(string SubscriptionId, DateTimeOffset EffectiveFrom, DateTimeOffset ChangedAt, string FromPlan, string ToPlan);

/// <summary>The result of saving a draft: the stored invoice, and whether this call created or replaced it.</summary>
public sealed record SavedInvoice(BillingInvoice Invoice, bool Written);
