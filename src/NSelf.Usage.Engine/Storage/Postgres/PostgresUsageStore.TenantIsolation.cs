namespace NSelf.Usage.Engine.Storage.Postgres;

public sealed partial class PostgresUsageStore
{
    public UsageTenantIsolation GetTenantIsolation() => throw new NotImplementedException();

    public IReadOnlyList<UsageTenantIsolationChange> EnableTenantIsolation(bool apply) => throw new NotImplementedException();

    public UsageTenantIsolation DisableTenantIsolation() => throw new NotImplementedException();

    public UsageCustomerAccess GrantCustomerAccess(string role, string customerId) => throw new NotImplementedException();

    public bool RevokeCustomerAccess(string role, string customerId) => throw new NotImplementedException();

    public IReadOnlyList<UsageCustomerAccess> GetCustomerAccess(string? role, string? customerId) => throw new NotImplementedException();

    public bool MayActFor(string customerId) => throw new NotImplementedException();
}
