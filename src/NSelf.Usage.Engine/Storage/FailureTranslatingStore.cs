using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Storage;

/// <summary>
/// Turns a store failure into a <see cref="UsageException"/> with a stable id, so no driver
/// exception (SqliteException, PostgresException, an InvalidCastException from a damaged row, an
/// IOException) reaches a cmdlet. Every store a session opens is wrapped in one of these
/// (<see cref="UsageStores.Open"/>): a method added to the contract cannot be forgotten, because
/// this class must implement it, and a test calls each method on broken stores.
/// </summary>
/// <remarks>
/// Each backend supplies its one translation function (which errors mean "unavailable" is the
/// driver's business); whether a failure is a read or a write failure is decided here, by the
/// method. Streams translate while they are enumerated, where their queries actually run.
/// Failures the store already turned into UsageExceptions (a domain constraint, a schema
/// mismatch) pass through untouched.
/// </remarks>
internal sealed class FailureTranslatingStore : IUsageStore
{
    /// <summary>Translates a failure of the store at a location; the flag says whether the method writes.</summary>
    public delegate UsageException Translation(Exception failure, string location, bool writing);

    private readonly IUsageStore _inner;
    private readonly Translation _translate;

    public FailureTranslatingStore(IUsageStore inner, Translation translate)
    {
        _inner = inner;
        _translate = translate;
    }

    /// <summary>
    /// A failure after the running command was stopped is the stop (<see cref="StoreCancellation.Stopped"/>):
    /// never StoreUnavailable or a write failure. Cancellation is not a store failure, and a UsageException already has its id. Everything
    /// else is: a driver may throw many types (Npgsql throws InvalidOperationException on a
    /// broken connection, Microsoft.Data.Sqlite InvalidCastException on a value of another type).
    /// </summary>
    internal static bool IsStoreFailure(Exception e) =>
        e is not (UsageException or OperationCanceledException or OutOfMemoryException or ThreadInterruptedException);

    private T Read<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (StoreCancellation.Stopped(e) is { } stopped)
        {
            throw stopped;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw _translate(e, _inner.Location, writing: false);
        }
    }

    private T Write<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception e) when (StoreCancellation.Stopped(e) is { } stopped)
        {
            throw stopped;
        }
        catch (UsageException e) when (e.ErrorId == ErrorIds.StoreReadFailed)
        {
            // A write that failed while reading what it needed (prices, the existing row) wrote
            // nothing: to a script it is a failed write, whatever statement broke.
            throw new UsageException(ErrorIds.StoreWriteFailed, UsageErrorKind.WriteError, e.Message.TrimEnd('.') + "; nothing was written.", e.Target, e);
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            throw _translate(e, _inner.Location, writing: true);
        }
    }

    // C# allows no yield inside a try with a catch, so the enumerator is driven by hand: each
    // step (where an iterator's query runs and its rows are read) is translated, each item yielded outside.
    private IEnumerable<T> Stream<T>(Func<IEnumerable<T>> open)
    {
        var enumerator = Read(() => open().GetEnumerator());
        try
        {
            while (true)
            {
                T item;
                try
                {
                    if (!enumerator.MoveNext())
                        yield break;
                    item = enumerator.Current;
                }
                catch (Exception e) when (StoreCancellation.Stopped(e) is { } stopped)
                {
                    throw stopped;
                }
                catch (Exception e) when (IsStoreFailure(e))
                {
                    throw _translate(e, _inner.Location, writing: false);
                }
                yield return item;
            }
        }
        finally
        {
            try
            {
                enumerator.Dispose();
            }
            catch (Exception e) when (StoreCancellation.Stopped(e) is { } stopped)
            {
                throw stopped;
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                // Disposing closes the reader and its connection; a failure there is a read failure too.
                throw _translate(e, _inner.Location, writing: false);
            }
        }
    }

    public UsageStoreBackend Backend => _inner.Backend;

    public string Location => _inner.Location;

    public string? CustomerScope => _inner.CustomerScope;

    public int LatestSchemaVersion => _inner.LatestSchemaVersion;

    public int GetSchemaVersion() => Read(_inner.GetSchemaVersion);

    public IReadOnlyList<UsageStoreMigration> Migrate() => Write(_inner.Migrate);

    public IReadOnlyList<UsageStoreMigration> GetMigrations() => Read(_inner.GetMigrations);

    /// <summary>A health check reports a failure instead of throwing it: Test-UsageStore fits in an if.</summary>
    public UsageStoreHealth CheckHealth()
    {
        try
        {
            return Read(_inner.CheckHealth);
        }
        catch (UsageException e)
        {
            return StoreHealth.Unreachable(Backend, Location, LatestSchemaVersion, TimeSpan.Zero, e.Message);
        }
    }

    public ServiceCatalog GetServices(bool refresh = false) => Read(() => _inner.GetServices(refresh));

    public UsageService RegisterService(UsageService service, bool replace) => Write(() => _inner.RegisterService(service, replace));

    public IngestResult Ingest(IReadOnlyList<UsageEvent> events) => Write(() => _inner.Ingest(events));

    public IReadOnlyList<UsageRecord> FindRecords(string customerId, IReadOnlyCollection<string> eventIds) => Read(() => _inner.FindRecords(customerId, eventIds));

    public IEnumerable<UsageRecord> ReadRecords(RecordQuery query) => Stream(() => _inner.ReadRecords(query));

    public long CountRecords(RecordQuery query) => Read(() => _inner.CountRecords(query));

    public IEnumerable<(string Service, decimal Quantity)> ReadQuantities(UsageFilter filter, DateTimeOffset start, DateTimeOffset end) =>
        Stream(() => _inner.ReadQuantities(filter, start, end));

    public IReadOnlyList<UsageTotal> SumRollups(UsageFilter filter, IReadOnlyList<TimeSlice> slices, RollupGrain grain) => Read(() => _inner.SumRollups(filter, slices, grain));

    public IReadOnlyList<UsageTotal> SumEvents(UsageFilter filter, IReadOnlyList<TimeSlice> slices, string? groupKey) => Read(() => _inner.SumEvents(filter, slices, groupKey));

    public long ArchiveRecords(IReadOnlyList<(string CustomerId, string EventId)> keys, string path, string checksum, DateTimeOffset cutoff, string? customerId) =>
        Write(() => _inner.ArchiveRecords(keys, path, checksum, cutoff, customerId));

    public UsageSummaryRefresh RefreshSummaries() => Write(_inner.RefreshSummaries);

    public IReadOnlyList<UsageStoreDifference> VerifyRollups(RollupScope scope) => Read(() => _inner.VerifyRollups(scope));

    public void RepairRollups(string customerId, DateTimeOffset day) => Write(() =>
    {
        _inner.RepairRollups(customerId, day);
        return true;
    });

    public BillingCustomer? GetCustomer(string customerId, bool includeRemoved = false) => Read(() => _inner.GetCustomer(customerId, includeRemoved));

    public IReadOnlyList<BillingCustomer> GetCustomers(bool includeRemoved = false) => Read(() => _inner.GetCustomers(includeRemoved));

    public IReadOnlyList<string> FindCustomerIds(string prefix, int maximum) => Read(() => _inner.FindCustomerIds(prefix, maximum));

    public IReadOnlyList<string> FindMetadataKeys(string? customerId, string prefix, int recentRecords, int maximum) =>
        Read(() => _inner.FindMetadataKeys(customerId, prefix, recentRecords, maximum));

    public IReadOnlyList<string> FindInvoiceIds(string? customerId, string prefix, int maximum) => Read(() => _inner.FindInvoiceIds(customerId, prefix, maximum));

    public BillingProfile? GetProfile() => Read(_inner.GetProfile);

    public BillingProfile SaveProfile(ProfileChange change) => Write(() => _inner.SaveProfile(change));

    public string? GetSmtpPassword() => Read(_inner.GetSmtpPassword);

    public long ClaimDelivery(DeliveryClaim claim, bool force) => Write(() => _inner.ClaimDelivery(claim, force));

    public void CompleteDelivery(long deliveryId, DeliveryOutcome outcome, DateTimeOffset? sentAt) => Write(() => { _inner.CompleteDelivery(deliveryId, outcome, sentAt); return 0; });

    public void AbandonDelivery(long deliveryId) => Write(() => { _inner.AbandonDelivery(deliveryId); return 0; });

    public IReadOnlyList<BillingTaxRate> GetTaxRates() => Read(_inner.GetTaxRates);

    public BillingTaxRate SaveTaxRate(string country, string? region, string name, decimal rate) => Write(() => _inner.SaveTaxRate(country, region, name, rate));

    public BillingCustomer AddCustomer(string customerId, CustomerChange fields) => Write(() => _inner.AddCustomer(customerId, fields));

    public BillingCustomer UpdateCustomer(string customerId, CustomerChange fields) => Write(() => _inner.UpdateCustomer(customerId, fields));

    public BillingCustomer RemoveCustomer(string customerId) => Write(() => _inner.RemoveCustomer(customerId));

    // ---------------------------------------------------------------- billing

    public IReadOnlyList<BillingPlan> GetPlans() => Read(_inner.GetPlans);

    public BillingPlan? GetPlan(string name) => Read(() => _inner.GetPlan(name));

    public BillingPlan SavePlan(BillingPlan plan) => Write(() => _inner.SavePlan(plan));

    public IReadOnlyList<BillingQuota> GetPlanQuotas(string? plan = null) => Read(() => _inner.GetPlanQuotas(plan));

    public IReadOnlyList<BillingQuota> GetCustomerQuotas(string? customerId = null) => Read(() => _inner.GetCustomerQuotas(customerId));

    public BillingQuota SaveQuota(BillingQuota quota) => Write(() => _inner.SaveQuota(quota));

    public IReadOnlyList<BillingSubscription> GetSubscriptions(string? customerId = null, bool includeEnded = false) => Read(() => _inner.GetSubscriptions(customerId, includeEnded));

    public BillingSubscription AddSubscription(BillingSubscription subscription) => Write(() => _inner.AddSubscription(subscription));

    public BillingSubscription UpdateSubscription(BillingSubscription subscription) => Write(() => _inner.UpdateSubscription(subscription));

    public IReadOnlyList<PlanChange> GetPlanChanges(string customerId) => Read(() => _inner.GetPlanChanges(customerId));

    public IReadOnlyList<bool> RaiseAlerts(IReadOnlyList<UsageAlert> alerts) => Write(() => _inner.RaiseAlerts(alerts));

    public IReadOnlyList<UsageAlert> GetAlerts(string? customerId, DateTimeOffset since, QuotaLevel? level = null, string? service = null) =>
        Read(() => _inner.GetAlerts(customerId, since, level, service));

    public UsageAlertAction SaveAlertAction(AlertActionRecord action, string? secret, bool replace, DateTimeOffset now, string createdBy) =>
        Write(() => _inner.SaveAlertAction(action, secret, replace, now, createdBy));

    public IReadOnlyList<UsageAlertAction> GetAlertActions() => Read(_inner.GetAlertActions);

    public bool RemoveAlertAction(string name) => Write(() => _inner.RemoveAlertAction(name));

    public string? GetAlertActionSecret(long actionId) => Read(() => _inner.GetAlertActionSecret(actionId));

    public AlertDeliveryWork? ClaimAlertDelivery(DateTimeOffset now, string owner, DateTimeOffset leaseUntil, long? deliveryId = null) =>
        Write(() => _inner.ClaimAlertDelivery(now, owner, leaseUntil, deliveryId));

    public UsageAlertDelivery? CompleteAlertDelivery(long deliveryId, string owner, AlertAttemptResult result) =>
        Write(() => _inner.CompleteAlertDelivery(deliveryId, owner, result));

    public bool HasDueAlertDeliveries(DateTimeOffset now) => Read(() => _inner.HasDueAlertDeliveries(now));

    public IReadOnlyList<UsageAlertDelivery> GetAlertDeliveries(AlertDeliveryFilter filter, DateTimeOffset now) => Read(() => _inner.GetAlertDeliveries(filter, now));

    public BillingInvoice? GetInvoice(string invoiceId) => Read(() => _inner.GetInvoice(invoiceId));

    public BillingInvoice? FindInvoice(string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd) => Read(() => _inner.FindInvoice(customerId, periodStart, periodEnd));

    public IReadOnlyList<BillingInvoice> GetInvoices(string? customerId = null) => Read(() => _inner.GetInvoices(customerId));

    public SavedInvoice SaveDraft(BillingInvoice draft, IReadOnlyList<SealRange> lineCutoffs, bool replaceDraft) =>
        Write(() => _inner.SaveDraft(draft, lineCutoffs, replaceDraft));

    public BillingSeal SealUsage(string customerId) => Write(() => _inner.SealUsage(customerId));

    public BillingInvoice FinalizeInvoice(BillingInvoice finalized, IReadOnlyList<SealRange> lineCutoffs, BillingSeal seal, string recordedBy) =>
        Write(() => _inner.FinalizeInvoice(finalized, lineCutoffs, seal, recordedBy));

    public IReadOnlyList<LedgerRow> GetLedger(string? customerId) => Read(() => _inner.GetLedger(customerId));

    public BillingInvoice RecordPayment(InvoicePayment payment) => Write(() => _inner.RecordPayment(payment));

    public BillingInvoice VoidInvoice(InvoiceVoid request) => Write(() => _inner.VoidInvoice(request));

    public BillingCreditGrant AddCredit(CreditGrantRequest request) => Write(() => _inner.AddCredit(request));

    public BillingCreditNote IssueCreditNote(CreditNoteRequest request) => Write(() => _inner.IssueCreditNote(request));

    public IReadOnlyList<BillingCreditNote> GetCreditNotes(string? customerId, string? invoiceId) => Read(() => _inner.GetCreditNotes(customerId, invoiceId));

    public BillingCreditNote? GetCreditNote(string idOrNumber) => Read(() => _inner.GetCreditNote(idOrNumber));

    public BillingCreditGrant RemoveCredit(long grantId, string? reason, string recordedBy, DateTimeOffset at) => Write(() => _inner.RemoveCredit(grantId, reason, recordedBy, at));

    public IReadOnlyDictionary<string, long> GetInvoiceSeals(string customerId) => Read(() => _inner.GetInvoiceSeals(customerId));

    public IReadOnlyList<AuditedEvent> ReadBillingAudit(string customerId, DateTimeOffset start, DateTimeOffset end) => Read(() => _inner.ReadBillingAudit(customerId, start, end));

    public IReadOnlyList<BilledEvent> ReadBilledEvents(string customerId) => Read(() => _inner.ReadBilledEvents(customerId));

    public IReadOnlyList<BilledUsage> GetBilledUsage(string customerId) => Read(() => _inner.GetBilledUsage(customerId));

    public IEnumerable<LedgerEntry> ReadLedger(string customerId, string service, DateTimeOffset start, DateTimeOffset end, long? sealedAfter, long sealedThrough) =>
        Stream(() => _inner.ReadLedger(customerId, service, start, end, sealedAfter, sealedThrough));

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) =>
        Read(() => _inner.ServicesSealedAfter(customerId, start, end, sealedAfter));

    // ---------------------------------------------------------------- tenant isolation

    public UsageTenantIsolation GetTenantIsolation() => Read(_inner.GetTenantIsolation);

    /// <summary>A preview only reads; applying writes policies.</summary>
    public IReadOnlyList<UsageTenantIsolationChange> EnableTenantIsolation(bool apply) =>
        apply ? Write(() => _inner.EnableTenantIsolation(apply)) : Read(() => _inner.EnableTenantIsolation(apply));

    public UsageTenantIsolation DisableTenantIsolation() => Write(_inner.DisableTenantIsolation);

    public UsageCustomerAccess GrantCustomerAccess(string role, string customerId) => Write(() => _inner.GrantCustomerAccess(role, customerId));

    public bool RevokeCustomerAccess(string role, string customerId) => Write(() => _inner.RevokeCustomerAccess(role, customerId));

    public IReadOnlyList<UsageCustomerAccess> GetCustomerAccess(string? role, string? customerId) => Read(() => _inner.GetCustomerAccess(role, customerId));

    public bool MayActFor(string customerId) => Read(() => _inner.MayActFor(customerId));

    public void Dispose() => _inner.Dispose();
}
