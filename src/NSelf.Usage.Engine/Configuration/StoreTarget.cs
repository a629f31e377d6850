namespace NSelf.Usage.Engine.Configuration;

/// <summary>
/// Which store to open: a SQLite file or a PostgreSQL connection string, and how it was chosen.
/// <see cref="Address"/> may hold a secret (a connection string password): never show it;
/// show the opened store's Location instead.
/// </summary>
public sealed record StoreTarget(UsageStoreBackend Backend, string Address, UsageStoreSource Source, string? CustomerScope = null)
{
    public const string DefaultFileName = "usage.db";

    /// <summary>
    /// The store a session uses when nothing was connected: $env:NSELF_USAGE_STORE, else
    /// PostgreSQL from the bash library's BILLING_DB_* variables, else the embedded file.
    /// </summary>
    public static StoreTarget Default(EnvironmentSettings environment)
    {
        if (environment.Get("NSELF_USAGE_STORE") is { } spec)
            return FromSpecification(spec, UsageStoreSource.Environment);
        if (environment.Get("BILLING_DB_HOST") is { } host)
            return new StoreTarget(UsageStoreBackend.PostgreSql, PostgresAddress.FromBillingVariables(host, environment), UsageStoreSource.BillingEnvironment);
        return new StoreTarget(UsageStoreBackend.Sqlite, Path.Combine(environment.DataDirectory, DefaultFileName), UsageStoreSource.Default);
    }

    /// <summary>A SQLite path, or a PostgreSQL connection string (key=value pairs or a postgres:// URI).</summary>
    public static StoreTarget FromSpecification(string spec, UsageStoreSource source)
    {
        var text = spec.Trim();
        if (PostgresAddress.LooksLikePostgres(text))
            return new StoreTarget(UsageStoreBackend.PostgreSql, PostgresAddress.Normalize(text), source);
        return new StoreTarget(UsageStoreBackend.Sqlite, text, source);
    }
}
