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
    private const string ConnectionStringSet = "ConnectionString";
    private const string ServerSet = "Server";

    /// <summary>A SQLite database file; created on first use.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [Alias("FullName")]
    public string Path { get; set; } = "";

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

    protected override void EndProcessing()
    {
        var target = ParameterSetName switch
        {
            PathSet => new StoreTarget(UsageStoreBackend.Sqlite, SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path), UsageStoreSource.Connected),
            ConnectionStringSet => Require(() => StoreTarget.FromSpecification(ConnectionString, UsageStoreSource.Connected) is { Backend: UsageStoreBackend.PostgreSql } t
                ? t
                : throw new UsageException(ErrorIds.InvalidConnectionString, UsageErrorKind.InvalidArgument,
                    "-ConnectionString takes a PostgreSQL connection string (Host=...;Database=...) or a postgres:// URI; use -Path for a SQLite file.", "-ConnectionString")),
            _ => new StoreTarget(UsageStoreBackend.PostgreSql, PostgresAddress.FromParts(Server, Port, Database, Credential?.UserName, Credential?.GetNetworkCredential().Password), UsageStoreSource.Connected),
        };
        if (CustomerScope is not null)
        {
            if (target.Backend == UsageStoreBackend.Sqlite)
                ThrowTerminatingError(new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    "-CustomerScope uses PostgreSQL row-level security; a SQLite file has none (whoever can open the file can read all of it).", CustomerScope).ToErrorRecord());
            target = target with { CustomerScope = Require(() => Engine.Ingestion.TextRules.CustomerId(CustomerScope)) };
        }
        var store = Require(() => Session.Connect(target));
        WriteVerbose($"Connected to the {store.Backend} store at {store.Location}.");
        if (Require(Session.MoveBatchToCurrentStore) is { } batch)
            WriteVerbose($"Batch mode now spools for {batch.StoreLocation}; what was spooled before went to the previous store.");
        if (PassThru)
            WriteObject(StoreInfo.Describe(store, UsageStoreSource.Connected));
    }
}
