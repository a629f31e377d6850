using System.Management.Automation;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Chooses the store this session reads and writes.</summary>
[Cmdlet(VerbsCommunications.Connect, "UsageStore", DefaultParameterSetName = PathSet)]
[OutputType(typeof(UsageStore))]
public sealed class ConnectUsageStoreCommand : UsageCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string ConnectionStringSet = "ConnectionString";
    private const string ServerSet = "Server";

    /// <summary>A SQLite database file; created on first use.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

    /// <summary>A SQLite database file, taken as written (no wildcards).</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet)]
    [Alias("PSPath", "LP")]
    public string LiteralPath { get; set; } = "";

    /// <summary>A PostgreSQL connection string (Host=...;Database=...) or postgres:// URI.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ConnectionStringSet)]
    public string ConnectionString { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ServerSet)]
    [Alias("Host")]
    public string Server { get; set; } = "";

    [Parameter(ParameterSetName = ServerSet)]
    [ValidateRange(1, 65535)]
    [PlainWholeNumber]
    public int Port { get; set; } = 5432;

    [Parameter(ParameterSetName = ServerSet)]
    public string? Database { get; set; }

    [Parameter(ParameterSetName = ServerSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>Limit this session to one customer's rows (PostgreSQL row-level security).</summary>
    [Parameter]
    public string? CustomerScope { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override void Finish()
    {
        var target = ParameterSetName switch
        {
            PathSet => new StoreTarget(UsageStoreBackend.Sqlite, Require(() => OutputFiles.ToFileSystemPath(this, Path, literal: false, "-Path")), UsageStoreSource.Connected),
            LiteralPathSet => new StoreTarget(UsageStoreBackend.Sqlite, Require(() => OutputFiles.ToFileSystemPath(this, LiteralPath, literal: true, "-LiteralPath")), UsageStoreSource.Connected),
            ConnectionStringSet => Require(() => StoreTarget.FromSpecification(ConnectionString, UsageStoreSource.Connected) is { Backend: UsageStoreBackend.PostgreSql } t
                ? t
                : throw new UsageException(ErrorIds.InvalidConnectionString, UsageErrorKind.InvalidArgument,
                    "-ConnectionString takes a PostgreSQL connection string (Host=...;Database=...) or a postgres:// URI; use -Path for a SQLite file.", "-ConnectionString")),
            _ => new StoreTarget(UsageStoreBackend.PostgreSql, PostgresAddress.FromParts(Server, Port, Database, Credential?.UserName, Credential?.GetNetworkCredential().Password), UsageStoreSource.Connected),
        };
        if (CustomerScope is not null)
        {
            if (target.Backend == UsageStoreBackend.Sqlite)
                ThrowTerminatingError(Engine.Storage.TenantIsolation.SqliteRefused(CustomerScope).ToErrorRecord());
            target = target with { CustomerScope = Require(() => Engine.Ingestion.TextRules.CustomerId(CustomerScope)) };
        }
        var enforced = true;
        var store = Require(() => Session.Connect(target, target.CustomerScope is { } scope ? s => enforced = ScopeEnforced(s, scope) : null));
        NameStore(store);
        WriteVerbose($"Connected to the {store.Backend} store at {store.Location}.");
        if (!enforced)
            WriteWarning($"-CustomerScope {target.CustomerScope} is not enforced by the database: tenant isolation is not enabled on {store.Location}, so the scope rests on "
                + "session settings (app.current_customer_id, app.is_admin) that any session of this role can change with SET, and a session without -CustomerScope sees every customer. "
                + "To enforce it, map the role with Grant-UsageCustomerAccess and run Enable-UsageTenantIsolation as the tables' owner.");
        if (Require(Session.MoveBatchToCurrentStore) is { } batch)
            WriteVerbose($"Batch mode now spools for {batch.StoreLocation}; what was spooled before went to the previous store.");
        if (PassThru)
            WriteObject(StoreInfo.Describe(store, UsageStoreSource.Connected));
    }

    /// <summary>
    /// Whether the database enforces the scope: with tenant isolation enabled, the role must be
    /// allowed to act for the customer (AccessDenied otherwise, and the session keeps its store);
    /// without it the scope is only a setting, and the caller warns.
    /// </summary>
    private static bool ScopeEnforced(Engine.Storage.IUsageStore store, string customer)
    {
        var isolation = store.GetTenantIsolation();
        if (!isolation.Enabled)
            return false;
        if (!store.MayActFor(customer))
            throw new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                $"Role '{isolation.CurrentRole}' may not act for customer '{customer}': tenant isolation is enabled on {isolation.Location} and the role is not mapped to that customer "
                + $"(an admin maps it with: Grant-UsageCustomerAccess -Role {isolation.CurrentRole} -CustomerId {customer}).", customer);
        return true;
    }
}
