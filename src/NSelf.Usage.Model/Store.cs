namespace NSelf.Usage;

public enum UsageStoreBackend
{
    Sqlite,
    PostgreSql,
}

/// <summary>Where a store came from: how the current session chose it.</summary>
public enum UsageStoreSource
{
    /// <summary>Connect-UsageStore.</summary>
    Connected,
    /// <summary>$env:NSELF_USAGE_STORE.</summary>
    Environment,
    /// <summary>The BILLING_DB_* variables of the bash library.</summary>
    BillingEnvironment,
    /// <summary>The embedded SQLite file in the user's data folder.</summary>
    Default,
}

/// <summary>The store a session reads and writes. Never carries a secret.</summary>
public sealed class UsageStore
{
    public required UsageStoreBackend Backend { get; init; }
    /// <summary>A SQLite file path, or host:port/database for PostgreSQL (no password).</summary>
    public required string Location { get; init; }
    public required UsageStoreSource Source { get; init; }
    public required int SchemaVersion { get; init; }
    public required int LatestSchemaVersion { get; init; }
    /// <summary>The customer a row-level-security scoped session is limited to, if any.</summary>
    public string? CustomerScope { get; init; }
}

/// <summary>The detailed answer of Test-UsageStore -Detailed.</summary>
public sealed class UsageStoreHealth
{
    public required UsageStoreBackend Backend { get; init; }
    public required string Location { get; init; }
    public required bool Reachable { get; init; }
    public required bool Writable { get; init; }
    public required int SchemaVersion { get; init; }
    public required int PendingMigrations { get; init; }
    public required string ServerVersion { get; init; }
    public required TimeSpan Latency { get; init; }
    /// <summary>Usage events in the store now (visible to a customer-scoped session); archived ones are not among them.</summary>
    public required long StoredEvents { get; init; }
    /// <summary>Events Move-UsageRecord moved out to archive files (their totals stay in the rollups).</summary>
    public required long ArchivedEvents { get; init; }
    public string? Error { get; init; }
}

/// <summary>One applied schema migration.</summary>
public sealed class UsageStoreMigration
{
    public required int Version { get; init; }
    public required string Name { get; init; }
    public required string Checksum { get; init; }
    public required DateTimeOffset AppliedAt { get; init; }
}

/// <summary>The effective settings of the current session, with where each came from.</summary>
public sealed class UsageConfiguration
{
    public string? CustomerId { get; init; }
    public required string CustomerIdSource { get; init; }
    public required string Store { get; init; }
    public required UsageStoreSource StoreSource { get; init; }
    public required string TimeZone { get; init; }
    public required int BatchSize { get; init; }
    public required TimeSpan BatchTimeout { get; init; }
    public required decimal AlertWarning { get; init; }
    public required decimal AlertCritical { get; init; }
    public required decimal AlertExceeded { get; init; }
    public required string CacheDirectory { get; init; }
    public required string ExportDirectory { get; init; }
}

/// <summary>What Update-UsageSummary refreshed.</summary>
public sealed class UsageSummaryRefresh
{
    public required UsageStoreBackend Backend { get; init; }
    public required string Location { get; init; }
    /// <summary>The summary brought up to date (nself's billing_usage_daily_summary on PostgreSQL).</summary>
    public required string Summary { get; init; }
    public required long Rows { get; init; }
    public required TimeSpan Duration { get; init; }
}

/// <summary>What Move-UsageRecord archived: the verified file and the rows moved out of the store.</summary>
public sealed class UsageArchiveResult
{
    public required string Path { get; init; }
    public required long Rows { get; init; }
    public required long Bytes { get; init; }
    /// <summary>SHA-256 of the archive file as written and verified.</summary>
    public required string Checksum { get; init; }
    /// <summary>Events recorded before this instant were archived.</summary>
    public required DateTimeOffset Cutoff { get; init; }
    /// <summary>The customer archived, or null for every customer.</summary>
    public string? CustomerId { get; init; }
    /// <summary>Rows deleted from the store: always equal to Rows.</summary>
    public required long Deleted { get; init; }
}

/// <summary>
/// A file an Export-* command wrote (Export-Usage, Export-UsageReport, Export-BillingInvoice):
/// where it is, how big, and what it holds. Its Path binds -Path of Import-UsageRecord,
/// Invoke-Item and Remove-Item; FullName, Name, DirectoryName and Length are there too (the type
/// data), as on the FileInfo these commands emitted before.
/// </summary>
public sealed class UsageExportResult
{
    /// <summary>The full path of the file written.</summary>
    public required string Path { get; init; }
    public required long Bytes { get; init; }
    /// <summary>Csv, Json or Html.</summary>
    public required string Format { get; init; }
    /// <summary>Whether the file is gzip-compressed (Export-Usage -Compress, or a .gz name).</summary>
    public bool Compressed { get; init; }
    /// <summary>What the file holds: UsageEvents, UsageReport or Invoice.</summary>
    public required string Content { get; init; }
    /// <summary>Usage events written (Export-Usage) or invoice lines (Export-BillingInvoice); null for a report.</summary>
    public long? Rows { get; init; }
    /// <summary>The customer whose data it holds; null for every customer.</summary>
    public string? CustomerId { get; init; }
    /// <summary>The period it covers (start inclusive, end exclusive); null when unbounded.</summary>
    public DateTimeOffset? Start { get; init; }
    public DateTimeOffset? End { get; init; }
    /// <summary>The invoice written (Export-BillingInvoice).</summary>
    public string? InvoiceId { get; init; }

    /// <summary>The path, as FileInfo gives it: "$file" and a file argument of Remove-Item or Invoke-Item name the file.</summary>
    public override string ToString() => Path;
}

/// <summary>What Import-UsageRecord loaded from a file.</summary>
public sealed class UsageImportResult
{
    public required string Path { get; init; }
    public required long Rows { get; init; }
    public required long Inserted { get; init; }
    /// <summary>Rows whose event was already stored (same customer and event id): not counted again.</summary>
    public required long Duplicates { get; init; }
    /// <summary>Rows refused (each reported as an error record with its line number).</summary>
    public required long Rejected { get; init; }
}

/// <summary>The state of batch mode and of the spool of the store it delivers to (Start-UsageBatch, Get-UsageBatch).</summary>
public sealed class UsageBatchStatus
{
    /// <summary>Whether this session is in batch mode (tracking commands append to the spool).</summary>
    public required bool Active { get; init; }
    /// <summary>The store the spool delivers to (never a password).</summary>
    public required string Store { get; init; }
    public required string SpoolDirectory { get; init; }
    /// <summary>Events that make a flush start (USAGE_BATCH_SIZE, -Size).</summary>
    public required int Size { get; init; }
    /// <summary>The longest an event waits before a flush starts (USAGE_BATCH_TIMEOUT, -FlushInterval).</summary>
    public required TimeSpan FlushInterval { get; init; }
    /// <summary>Events in the spool not yet delivered, from every session and process on this machine.</summary>
    public required long Pending { get; init; }
    public required int SpoolFiles { get; init; }
    /// <summary>When the oldest pending event was spooled (UTC); null when nothing is pending.</summary>
    public DateTimeOffset? OldestPending { get; init; }
    /// <summary>Events this session appended, and delivered, since Start-UsageBatch.</summary>
    public required long Spooled { get; init; }
    public required long Delivered { get; init; }
    public DateTimeOffset? LastFlush { get; init; }
    /// <summary>Why the last flush failed (the store unreachable, say); null once one succeeds.</summary>
    public string? LastError { get; init; }
    /// <summary>Files of damaged spool bytes set aside, and of events the store refused.</summary>
    public required int Quarantined { get; init; }
}

/// <summary>What one flush delivered (Submit-UsageBatch, Stop-UsageBatch, Clear-UsageBatch).</summary>
public sealed class UsageBatchResult
{
    /// <summary>Events stored by this flush.</summary>
    public required long Submitted { get; init; }
    /// <summary>Events already stored (same customer and event id): a spool delivered again after a crash.</summary>
    public required long Duplicates { get; init; }
    /// <summary>Events the store refused (a removed customer, say), set aside in the quarantine folder with the reason.</summary>
    public required long Failed { get; init; }
    /// <summary>Events still in the spool afterwards (another process's, or all of them while the store is unreachable).</summary>
    public required long Pending { get; init; }
    public required int SpoolFiles { get; init; }
    public required TimeSpan Duration { get; init; }
    public string? Error { get; init; }
}

/// <summary>
/// One rollup bucket (customer, service, quarter hour or UTC day) whose stored totals differ from
/// the totals recomputed from the stored events plus the tombstones of archived ones: what
/// Test-UsageStore -Verify reports and -Repair rebuilds. Quantities are in the service's units,
/// exactly as stored; a side that has no bucket reads null.
/// </summary>
public sealed class UsageStoreDifference
{
    /// <summary>QuarterHour or Day; null for <see cref="Kind"/> NoTime, which is in no bucket.</summary>
    public string? Rollup { get; init; }
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    /// <summary>The bucket's start (UTC); null for NoTime.</summary>
    public DateTimeOffset? BucketStart { get; init; }
    /// <summary>Missing (events, no bucket), Extra (bucket, no events), Different, or NoTime (stored events without a time: in no bucket, never repaired).</summary>
    public required string Kind { get; init; }
    public long? ExpectedEvents { get; init; }
    public long? StoredEvents { get; init; }
    /// <summary>Null where the events are unknown: no events, or a bucket holding tombstones written before the tombstones kept quantities.</summary>
    public decimal? ExpectedQuantity { get; init; }
    public decimal? StoredQuantity { get; init; }
    public decimal? ExpectedMinimum { get; init; }
    public decimal? StoredMinimum { get; init; }
    public decimal? ExpectedMaximum { get; init; }
    public decimal? StoredMaximum { get; init; }
    /// <summary>True when -Repair rebuilt this bucket.</summary>
    public bool Repaired { get; init; }
}

/// <summary>
/// One mapping of a PostgreSQL role to a customer it may act for (Grant-UsageCustomerAccess).
/// With tenant isolation enabled, a role sees and writes only its mapped customers' rows.
/// </summary>
public sealed class UsageCustomerAccess
{
    /// <summary>The PostgreSQL role (and every role that is a member of it).</summary>
    public required string Role { get; init; }
    public required string CustomerId { get; init; }
    /// <summary>When the mapping was made (UTC).</summary>
    public required DateTimeOffset GrantedAt { get; init; }
    /// <summary>The role that made it.</summary>
    public required string GrantedBy { get; init; }
}

/// <summary>Whether the database enforces tenant isolation, and who the current role is to it.</summary>
public sealed class UsageTenantIsolation
{
    /// <summary>Whether the role-keyed policies are on (Enable-UsageTenantIsolation).</summary>
    public required bool Enabled { get; init; }
    /// <summary>The role whose members see every customer: usage_admin.</summary>
    public required string AdminRole { get; init; }
    public required bool AdminRoleExists { get; init; }
    public required string CurrentRole { get; init; }
    /// <summary>Whether the current role sees every customer: the tables' owner, a superuser, a BYPASSRLS role or a member of the admin role.</summary>
    public required bool CurrentRoleIsAdmin { get; init; }
    /// <summary>How many customer tables the isolation covers.</summary>
    public required int CustomerTables { get; init; }
    /// <summary>
    /// Roles granted SELECT on nself's materialized view billing_usage_daily_summary (PUBLIC for a
    /// grant to every role), other than its owner, superusers and usage_admin. A materialized view
    /// cannot carry row-level security, so they read every customer's daily totals whether
    /// isolation is on or not: REVOKE SELECT from tenant roles. Empty without that view.
    /// </summary>
    public string[] SummaryReaders { get; init; } = System.Array.Empty<string>();
    /// <summary>host:port/database (never a password).</summary>
    public required string Location { get; init; }
}

/// <summary>A role that loses access when tenant isolation is enabled (Enable-UsageTenantIsolation -WhatIf).</summary>
public sealed class UsageTenantIsolationChange
{
    /// <summary>The role, or PUBLIC for grants every role has.</summary>
    public required string Role { get; init; }
    /// <summary>The customers it is mapped to and keeps; empty when it keeps none.</summary>
    public required string[] MappedCustomers { get; init; }
    /// <summary>"every customer's rows", or "all but N customers' rows".</summary>
    public required string LosesAccess { get; init; }
}
