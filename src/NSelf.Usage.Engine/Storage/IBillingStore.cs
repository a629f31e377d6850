using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Storage;

/// <summary>
/// The billing half of the store contract: plans, quotas, subscriptions, alerts and invoices.
/// Same behaviour on every backend; the contract suite runs against each.
/// </summary>
public interface IBillingStore
{
    /// <summary>The seller's profile; null until Set-BillingProfile first saves one.</summary>
    BillingProfile? GetProfile();

    /// <summary>Creates or updates the seller's profile (one per store), and the SMTP password apart from it.</summary>
    BillingProfile SaveProfile(ProfileChange change);

    /// <summary>The stored SMTP password; null when none is stored. On PostgreSQL only the tables' owner (and roles it grants to) may read it.</summary>
    string? GetSmtpPassword();

    /// <summary>
    /// Claims a sending of a finalized invoice, in one transaction holding the invoice's row: fails
    /// with InvoiceNotFound, InvoiceNotSendable (a draft or void invoice), or unless
    /// <paramref name="force"/>, InvoiceAlreadySent when a sending of it was claimed before
    /// (sent, uncertain, or under way). Returns the claim's id.
    /// </summary>
    long ClaimDelivery(DeliveryClaim claim, bool force);

    /// <summary>Marks a claimed sending as sent (the server took the mail) or uncertain (the connection ended after the whole mail was transmitted).</summary>
    void CompleteDelivery(long deliveryId, DeliveryOutcome outcome, DateTimeOffset? sentAt);

    /// <summary>Removes a claimed sending that sent nothing, so the invoice can be sent again.</summary>
    void AbandonDelivery(long deliveryId);

    /// <summary>Every tax rate, by country and region.</summary>
    IReadOnlyList<BillingTaxRate> GetTaxRates();

    /// <summary>Creates or replaces the tax rate of a country, or of a region within it.</summary>
    BillingTaxRate SaveTaxRate(string country, string? region, string name, decimal rate);

    IReadOnlyList<BillingPlan> GetPlans();

    BillingPlan? GetPlan(string name);

    /// <summary>Creates or updates a plan.</summary>
    BillingPlan SavePlan(BillingPlan plan);

    /// <summary>Plan quotas (all plans when <paramref name="plan"/> is null).</summary>
    IReadOnlyList<BillingQuota> GetPlanQuotas(string? plan = null);

    /// <summary>Per-customer overrides (all customers when <paramref name="customerId"/> is null).</summary>
    IReadOnlyList<BillingQuota> GetCustomerQuotas(string? customerId = null);

    /// <summary>Creates or replaces a plan quota (Plan set) or a customer override (CustomerId set).</summary>
    BillingQuota SaveQuota(BillingQuota quota);

    IReadOnlyList<BillingSubscription> GetSubscriptions(string? customerId = null, bool includeEnded = false);

    /// <summary>Adds a subscription; fails with SubscriptionExists when the customer already has a live one.</summary>
    BillingSubscription AddSubscription(BillingSubscription subscription);

    /// <summary>
    /// Saves a subscription. A new plan is recorded in the plan history, in the same
    /// transaction, as in force from the subscription's current period start.
    /// </summary>
    BillingSubscription UpdateSubscription(BillingSubscription subscription);

    /// <summary>The plan history of a customer's subscriptions, oldest change first.</summary>
    IReadOnlyList<PlanChange> GetPlanChanges(string customerId);

    /// <summary>
    /// Records alerts, each unless its customer, service, level and period already has one, all in
    /// one transaction; for each alert, true when it is new.
    /// </summary>
    IReadOnlyList<bool> RaiseAlerts(IReadOnlyList<UsageAlert> alerts);

    IReadOnlyList<UsageAlert> GetAlerts(string? customerId, DateTimeOffset since, QuotaLevel? level = null, string? service = null);

    /// <summary>
    /// Saves an alert action (and a webhook's secret apart from it); an existing one of the name is
    /// replaced only when <paramref name="replace"/>, else AlertActionExists. Alerts recorded from
    /// then on are queued for it (a trigger on usage_alerts, for every writer).
    /// </summary>
    UsageAlertAction SaveAlertAction(AlertActionRecord action, string? secret, bool replace, DateTimeOffset now, string createdBy);

    IReadOnlyList<UsageAlertAction> GetAlertActions();

    /// <summary>Removes an action; its deliveries not yet made are cancelled. False when there is none of the name.</summary>
    bool RemoveAlertAction(string name);

    /// <summary>A webhook's secret; null when this connection may not read it (on PostgreSQL only the owner may).</summary>
    string? GetAlertActionSecret(long actionId);

    /// <summary>
    /// Claims the next delivery due at <paramref name="now"/> (pending, its time come, no unexpired
    /// lease) for <paramref name="owner"/> until <paramref name="leaseUntil"/>, counting the attempt;
    /// with <paramref name="deliveryId"/>, that one, due or not, a failed one included. Null when none.
    /// </summary>
    AlertDeliveryWork? ClaimAlertDelivery(DateTimeOffset now, string owner, DateTimeOffset leaseUntil, long? deliveryId = null);

    /// <summary>Records an attempt's end, if <paramref name="owner"/> still holds the lease; the delivery as it now stands.</summary>
    UsageAlertDelivery? CompleteAlertDelivery(long deliveryId, string owner, AlertAttemptResult result);

    /// <summary>Whether any delivery is due at <paramref name="now"/> (one indexed read: Test-UsageQuota asks it every run).</summary>
    bool HasDueAlertDeliveries(DateTimeOffset now);

    IReadOnlyList<UsageAlertDelivery> GetAlertDeliveries(AlertDeliveryFilter filter, DateTimeOffset now);

    BillingInvoice? GetInvoice(string invoiceId);

    /// <summary>The invoice (not void) of a customer and period, if any.</summary>
    BillingInvoice? FindInvoice(string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd);

    IReadOnlyList<BillingInvoice> GetInvoices(string? customerId = null);

    /// <summary>
    /// Stores a draft, in one transaction that first looks for the customer's invoice of the
    /// period: a finalized one is returned untouched; a draft is returned untouched unless
    /// <paramref name="replaceDraft"/>, when its lines are replaced. A period that overlaps another
    /// invoice (not void) fails with InvoicePeriodOverlap. So usage is never billed twice, even by
    /// two hosts at once.
    /// </summary>
    SavedInvoice SaveDraft(BillingInvoice draft, IReadOnlyList<SealRange> lineCutoffs, bool replaceDraft);

    /// <summary>
    /// Seals the customer's unsealed events, stored and archived, with a new seal, in one
    /// transaction holding the customer's lock: the usage a finalization may bill.
    /// </summary>
    BillingSeal SealUsage(string customerId);

    /// <summary>
    /// Sets a draft's status to Open (finalized) with its final lines, worked out through
    /// <paramref name="seal"/>, gives it the next number of the seller's series (the profile's
    /// prefix, read in the same transaction), and records the events each usage and adjustment line bills; fails
    /// with InvoiceFinalized unless it is a draft, and with FinalizationConflict when another
    /// invoice of the customer was finalized since the seal (or a line's events are not those it
    /// was worked out from).
    /// In the same transaction its total is entered in the ledger, and the customer's prepaid credit
    /// in its currency is applied to it (Settlement.Apply; written by <paramref name="recordedBy"/>).
    /// </summary>
    BillingInvoice FinalizeInvoice(BillingInvoice finalized, IReadOnlyList<SealRange> lineCutoffs, BillingSeal seal, string recordedBy);

    /// <summary>Every ledger entry of a customer (of every customer when null), oldest first.</summary>
    IReadOnlyList<LedgerRow> GetLedger(string? customerId);

    /// <summary>
    /// Records a payment of a finalized invoice under the customer's lock, as Settlement.CheckPayment
    /// allows; paying what is due marks it paid. Fails with InvoiceNotFound or the rule's error, and then writes nothing.
    /// </summary>
    BillingInvoice RecordPayment(InvoicePayment payment);

    /// <summary>
    /// Voids a finalized unpaid invoice under the customer's lock (Settlement.CheckVoidable): the
    /// credit it used goes back to its grants and what it owed is written off. Its period can then be invoiced again.
    /// </summary>
    BillingInvoice VoidInvoice(InvoiceVoid request);

    /// <summary>Grants prepaid credit to an existing customer (CustomerNotFound otherwise).</summary>
    BillingCreditGrant AddCredit(CreditGrantRequest request);

    /// <summary>
    /// Issues a credit note of a finalized invoice under the customer's lock (CreditNotes.Work):
    /// numbered from the seller's credit note series, entered in the ledger (what the invoice owed
    /// is reduced; the rest becomes the customer's credit). Fails with InvoiceNotFound or the rules' errors, writing nothing.
    /// </summary>
    BillingCreditNote IssueCreditNote(CreditNoteRequest request);

    /// <summary>Credit notes of a customer (every customer when null), of one invoice (by id or number) when given, oldest first.</summary>
    IReadOnlyList<BillingCreditNote> GetCreditNotes(string? customerId, string? invoiceId);

    /// <summary>A credit note by id or number; null when there is none.</summary>
    BillingCreditNote? GetCreditNote(string idOrNumber);

    /// <summary>Removes the unused rest of a grant (CreditGrantNotFound, CreditGrantNotActive).</summary>
    BillingCreditGrant RemoveCredit(long grantId, string? reason, string recordedBy, DateTimeOffset at);

    /// <summary>
    /// The customer's events (stored and archived) recorded in [start, end), each with the lines
    /// that billed it, and the billed events of lines of that time that are no longer stored.
    /// </summary>
    IReadOnlyList<AuditedEvent> ReadBillingAudit(string customerId, DateTimeOffset start, DateTimeOffset end);

    /// <summary>Every event the customer's finalized lines billed, by invoice and line, ordered by event id within a line.</summary>
    IReadOnlyList<BilledEvent> ReadBilledEvents(string customerId);

    /// <summary>The seal each finalized invoice of a customer was finalized with, by invoice id.</summary>
    IReadOnlyDictionary<string, long> GetInvoiceSeals(string customerId);

    /// <summary>What finalized invoices billed for a customer, per service and period (usage and adjustment lines).</summary>
    IReadOnlyList<BilledUsage> GetBilledUsage(string customerId);

    /// <summary>
    /// A customer's events of one service with recorded_at in [start, end) and a seal in
    /// (sealedAfter, sealedThrough], ordered by event id: the usage an invoice line bills.
    /// Archived events count too, from their tombstones: an archive moves events out of the
    /// table, not out of billing.
    /// </summary>
    IEnumerable<LedgerEntry> ReadLedger(string customerId, string service, DateTimeOffset start, DateTimeOffset end, long? sealedAfter, long sealedThrough);

    /// <summary>Services with usage in [start, end) sealed after a seal (or unsealed), for late-usage adjustments.</summary>
    IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter);
}
