using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Storage;

/// <summary>Which customers and services a read covers. A null customer means every customer.</summary>
public sealed record UsageFilter(string? CustomerId, IReadOnlyList<string>? Services = null)
{
    public static UsageFilter AllCustomers(IReadOnlyList<string>? services = null) => new(null, services);
}

/// <summary>
/// One half-open UTC interval of a read, identified by its position in the request. A slice
/// with a customer counts only that customer (one read can then cover each customer's own
/// billing period); without one it counts every customer the filter admits.
/// </summary>
public readonly record struct TimeSlice(int Index, DateTimeOffset Start, DateTimeOffset End, string? CustomerId = null);

/// <summary>The bucket width of a rollup table: both are kept on every write.</summary>
public enum RollupGrain
{
    QuarterHour,
    Day,
}

public static class RollupTables
{
    public static string Name(RollupGrain grain) => grain == RollupGrain.Day ? "usage_rollups_daily" : "usage_rollups";
}

public static class TimeSlices
{
    /// <summary>Slices either all name a customer (each customer's own period) or none do.</summary>
    public static bool PerCustomer(IReadOnlyList<TimeSlice> slices)
    {
        var named = slices.Count(s => s.CustomerId is not null);
        if (named != 0 && named != slices.Count)
            throw new ArgumentException("Slices must all name a customer or none.", nameof(slices));
        return named > 0;
    }
}

/// <summary>Totals of one slice, customer, service (and metadata group, when grouping).</summary>
public sealed record UsageTotal(int Slice, string CustomerId, string Service, string? Group, long Events, decimal Quantity, decimal Minimum, decimal Maximum);

/// <summary>
/// A raw-event read: oldest first, with paging. <paramref name="Bulk"/> reads (exports,
/// archives) may come in the order the store keeps them instead, which lets a store read a large
/// share of its events sequentially rather than one random page per event.
/// </summary>
public sealed record RecordQuery(UsageFilter Filter, DateTimeOffset? Start, DateTimeOffset? End, long Skip = 0, long? First = null, bool Bulk = false);

/// <summary>
/// Fields of a customer to set; null leaves a field as it is. <see cref="Cleared"/> names the
/// buyer's fields to empty (Set-BillingCustomer -Clear): a tax id entered by mistake, a region.
/// </summary>
public sealed record CustomerChange(
    string? ProjectName = null,
    string? Name = null,
    string? Email = null,
    string? Company = null,
    string? StripeCustomerId = null,
    string? Metadata = null,
    string? Address = null,
    string? Country = null,
    string? Region = null,
    string? TaxId = null,
    bool? TaxExempt = null,
    string? Locale = null,
    string? InvoiceEmail = null)
{
    /// <summary>The buyer's fields that can be emptied, by their parameter names.</summary>
    public static readonly IReadOnlyList<string> Clearable = ["Address", "Country", "Region", "TaxId", "Locale", "InvoiceEmail"];

    public IReadOnlySet<string> Cleared { get; init; } = new HashSet<string>();
}

/// <summary>
/// The one store contract. SQLite and PostgreSQL implement it, and one contract test suite runs
/// against both. Reads that summarise come from rollups kept current in the same transaction
/// as the events (<see cref="SumRollups"/>); raw events are read only for what rollups cannot
/// answer (interval edges that are not whole quarter hours, metadata grouping, record listings).
/// </summary>
public interface IUsageStore : IBillingStore, IDisposable
{
    UsageStoreBackend Backend { get; }

    /// <summary>A file path, or host:port/database. Never contains a secret.</summary>
    string Location { get; }

    /// <summary>The customer a row-level-security scoped session is limited to, if any.</summary>
    string? CustomerScope { get; }

    int LatestSchemaVersion { get; }

    int GetSchemaVersion();

    /// <summary>Applies pending migrations, each in its own transaction; returns those applied now.</summary>
    IReadOnlyList<UsageStoreMigration> Migrate();

    IReadOnlyList<UsageStoreMigration> GetMigrations();

    UsageStoreHealth CheckHealth();

    /// <summary>The known services. Cached; <paramref name="refresh"/> re-reads them.</summary>
    ServiceCatalog GetServices(bool refresh = false);

    UsageService RegisterService(UsageService service, bool replace);

    /// <summary>
    /// Stores events exactly once by (customer, event id) and updates rollups in the same
    /// transaction. Unknown customers are registered; events of removed customers are rejected.
    /// </summary>
    IngestResult Ingest(IReadOnlyList<UsageEvent> events);

    IReadOnlyList<UsageRecord> FindRecords(string customerId, IReadOnlyCollection<string> eventIds);

    /// <summary>Streams raw events; the caller must enumerate to the end or dispose.</summary>
    IEnumerable<UsageRecord> ReadRecords(RecordQuery query);

    /// <summary>How many raw events match a query's filter and interval (paging ignored).</summary>
    long CountRecords(RecordQuery query);

    /// <summary>
    /// The per-event quantities of [start, end), ordered by service then quantity (for exact
    /// medians and percentiles). A null customer reads every customer.
    /// </summary>
    IEnumerable<(string Service, decimal Quantity)> ReadQuantities(UsageFilter filter, DateTimeOffset start, DateTimeOffset end);

    /// <summary>
    /// Totals from the rollups of one grain. Slice bounds must be whole quarter hours, or whole
    /// UTC days for <see cref="RollupGrain.Day"/>.
    /// </summary>
    IReadOnlyList<UsageTotal> SumRollups(UsageFilter filter, IReadOnlyList<TimeSlice> slices, RollupGrain grain);

    /// <summary>
    /// Totals from raw events, optionally grouped by the value of a metadata key. Without a key,
    /// archived events count too (from their tombstones, which keep service, time and quantity),
    /// so the ragged edges of a read agree with the rollups between them; tombstones keep no
    /// metadata, so a grouped read counts stored events only.
    /// </summary>
    IReadOnlyList<UsageTotal> SumEvents(UsageFilter filter, IReadOnlyList<TimeSlice> slices, string? groupKey);

    /// <summary>
    /// Deletes exactly the given events, in one transaction, leaving a tombstone for each (so an
    /// archived event sent again is restored, not counted twice) and a record of the archive.
    /// Fails, deleting nothing, unless every key names a stored event.
    /// </summary>
    long ArchiveRecords(IReadOnlyList<(string CustomerId, string EventId)> keys, string path, string checksum, DateTimeOffset cutoff, string? customerId);

    /// <summary>
    /// Brings the summaries other tools read up to date: nself's daily summary view on PostgreSQL.
    /// Our own reads never depend on it; they use the rollups, which are current on every write.
    /// </summary>
    UsageSummaryRefresh RefreshSummaries();

    /// <summary>
    /// The rollup buckets of a scope whose stored totals differ from the stored events plus the
    /// tombstones of archived ones (see <see cref="RollupCheck"/>), ordered by rollup, customer,
    /// bucket and service; then, when the scope has no period, stored events without a time
    /// (legacy PostgreSQL rows: in no bucket) as differences of kind NoTime. One snapshot per rollup table.
    /// </summary>
    IReadOnlyList<UsageStoreDifference> VerifyRollups(RollupScope scope);

    /// <summary>
    /// Rebuilds one customer's rollups of one UTC day (its quarter hours and the day) from the
    /// stored events and tombstones, in one short transaction that is safe beside writers: it
    /// takes the buckets' locks in the order the rollup triggers take them before it reads.
    /// </summary>
    void RepairRollups(string customerId, DateTimeOffset day);

    BillingCustomer? GetCustomer(string customerId, bool includeRemoved = false);

    IReadOnlyList<BillingCustomer> GetCustomers(bool includeRemoved = false);

    /// <summary>Customer ids starting with a prefix, for tab completion.</summary>
    IReadOnlyList<string> FindCustomerIds(string prefix, int maximum);

    /// <summary>
    /// The metadata keys (starting with a prefix, ignoring ASCII case, as tab completion matches) of the <paramref name="recentRecords"/>
    /// most recently stored events, of one customer or all, for tab completion of -GroupBy: a
    /// bounded read, so it stays quick however many events the store holds.
    /// </summary>
    IReadOnlyList<string> FindMetadataKeys(string? customerId, string prefix, int recentRecords, int maximum);

    /// <summary>Invoice ids (newest period first) starting with a prefix (ignoring ASCII case), of one customer or all, for tab completion.</summary>
    IReadOnlyList<string> FindInvoiceIds(string? customerId, string prefix, int maximum);

    BillingCustomer AddCustomer(string customerId, CustomerChange fields);

    BillingCustomer UpdateCustomer(string customerId, CustomerChange fields);

    /// <summary>Soft-deletes a customer (nself's deleted_at): usage is kept for billing history.</summary>
    BillingCustomer RemoveCustomer(string customerId);

    // ---------------------------------------------------------------- tenant isolation (PostgreSQL)

    /// <summary>Whether the role-keyed isolation policies are on, and who the current role is to them.</summary>
    UsageTenantIsolation GetTenantIsolation();

    /// <summary>
    /// The roles that lose access when isolation is enabled; with <paramref name="apply"/> also
    /// enables it (one transaction, idempotent). Only the tables' owner or a superuser can.
    /// </summary>
    IReadOnlyList<UsageTenantIsolationChange> EnableTenantIsolation(bool apply);

    /// <summary>Drops the isolation policies; the role-to-customer mappings stay for a later Enable.</summary>
    UsageTenantIsolation DisableTenantIsolation();

    /// <summary>Maps a role to a customer it may act for (admins only); granting twice returns the existing mapping.</summary>
    UsageCustomerAccess GrantCustomerAccess(string role, string customerId);

    /// <summary>Removes a mapping (admins only); false when there was no such mapping.</summary>
    bool RevokeCustomerAccess(string role, string customerId);

    /// <summary>The mappings, filtered by role and/or customer (admins only).</summary>
    IReadOnlyList<UsageCustomerAccess> GetCustomerAccess(string? role, string? customerId);

    /// <summary>Whether the session's role may act for a customer under tenant isolation (ignoring the session's own scope).</summary>
    bool MayActFor(string customerId);
}
