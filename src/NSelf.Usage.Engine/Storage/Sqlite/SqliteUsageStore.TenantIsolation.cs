namespace NSelf.Usage.Engine.Storage.Sqlite;

// A SQLite file has no roles and no row-level security: whoever can open the file can read all
// of it. Every tenant-isolation call is refused, before the file is touched, as -CustomerScope is.
public sealed partial class SqliteUsageStore
{
    public UsageTenantIsolation GetTenantIsolation() => throw TenantIsolation.SqliteRefused(Location);

    public IReadOnlyList<UsageTenantIsolationChange> EnableTenantIsolation(bool apply) => throw TenantIsolation.SqliteRefused(Location);

    public UsageTenantIsolation DisableTenantIsolation() => throw TenantIsolation.SqliteRefused(Location);

    public UsageCustomerAccess GrantCustomerAccess(string role, string customerId) => throw TenantIsolation.SqliteRefused(role);

    public bool RevokeCustomerAccess(string role, string customerId) => throw TenantIsolation.SqliteRefused(role);

    public IReadOnlyList<UsageCustomerAccess> GetCustomerAccess(string? role, string? customerId) => throw TenantIsolation.SqliteRefused((object?)role ?? customerId ?? Location);

    public bool MayActFor(string customerId) => throw TenantIsolation.SqliteRefused(customerId);
}
