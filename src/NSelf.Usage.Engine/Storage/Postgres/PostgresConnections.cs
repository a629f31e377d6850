using System.Collections.Concurrent;
using System.Net.Sockets;
using Npgsql;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>
/// Connection settings and pools for PostgreSQL stores. One NpgsqlDataSource (one pool) per
/// distinct connection string and customer scope, shared by every runspace of the process, so a
/// tracking call borrows a warm connection and a prepared statement instead of opening either.
/// </summary>
internal static class PostgresConnections
{
    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> Sources = new(StringComparer.Ordinal);

    /// <summary>
    /// The effective connection string: the caller's, plus a connect timeout (so an unreachable
    /// host fails in seconds, not a hang), statement auto-preparation, and the row-level-security
    /// settings as startup options. Startup options are the session's defaults, so they survive
    /// the reset a pooled connection gets between uses; a scoped pool can never lose its scope.
    /// </summary>
    public static NpgsqlConnectionStringBuilder Settings(string connectionString, string? customerScope)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(ErrorIds.InvalidConnectionString, UsageErrorKind.InvalidArgument,
                $"The PostgreSQL connection string is not valid: {e.Message}", "ConnectionString", e);
        }
        if (string.IsNullOrEmpty(builder.Host))
            throw new UsageException(ErrorIds.InvalidConnectionString, UsageErrorKind.InvalidArgument,
                "The PostgreSQL connection string names no Host.", "ConnectionString");
        // The caller's own connect timeout wins; otherwise fail after 10 s, not Npgsql's 15.
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!given.ContainsKey("Timeout") && !given.ContainsKey("Connect Timeout") && !given.ContainsKey("Connection Timeout"))
            builder.Timeout = 10;
        if (builder.MaxAutoPrepare == 0)
            builder.MaxAutoPrepare = 32;
        builder.NoResetOnClose = true;
        builder.ApplicationName ??= "NSelf.Usage";
        var scope = customerScope is null
            ? "-c app.is_admin=true"
            : $"-c app.is_admin=false -c app.current_customer_id={customerScope}";
        // No JIT compilation unless the caller's Options ask for it (later settings win; the scope
        // comes last so nothing overrides it). The planner's row estimates for a join to unnest'd
        // slices run a hundred times high, so Export-UsageReport's hourly peaks read was compiled
        // by LLVM: 0.66 s of a 2.9 s read, during which a cancel is not heard (Ctrl+C waited up to
        // 317 ms); without it the read took 2.1 s (decision 248).
        builder.Options = string.Join(' ', new[] { "-c jit=off", builder.Options, scope }.Where(o => !string.IsNullOrWhiteSpace(o)));
        return builder;
    }

    public static NpgsqlDataSource Source(NpgsqlConnectionStringBuilder settings) =>
        Sources.GetOrAdd(settings.ConnectionString, cs => NpgsqlDataSource.Create(cs));

    /// <summary>Forgets (and closes) the pools of a database, for tests that drop it.</summary>
    internal static void Forget(Func<NpgsqlConnectionStringBuilder, bool> match)
    {
        foreach (var (key, source) in Sources)
            if (match(new NpgsqlConnectionStringBuilder(key)) && Sources.TryRemove(key, out _))
                source.Dispose();
    }

    /// <summary>host:port/database, the only form of a PostgreSQL address ever shown.</summary>
    public static string Describe(NpgsqlConnectionStringBuilder settings) =>
        $"{settings.Host}:{settings.Port}/{settings.Database ?? settings.Username ?? "postgres"}";

    /// <summary>
    /// Turns a driver failure into a UsageException with a stable id. Messages name host, port and
    /// database, never the password; Npgsql's messages do not carry it either.
    /// </summary>
    public static UsageException Translate(Exception e, string location, bool writing)
    {
        if (e is UsageException usage)
            return usage;
        if (e is PostgresException pg)
        {
            return pg.SqlState switch
            {
                "28P01" or "28000" => Unavailable(location, "the server refused the user name or password", e),
                "3D000" => Unavailable(location, "the database does not exist", e),
                "57P03" or "53300" or "08006" or "08001" or "57P01" => Unavailable(location, pg.MessageText, e),
                "42501" => new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                    $"PostgreSQL at {location} refused: {pg.MessageText.TrimEnd('.')}. The user lacks a privilege, or a customer-scoped session touched another customer's rows.", location, e),
                _ => new UsageException(writing ? ErrorIds.StoreWriteFailed : ErrorIds.StoreReadFailed,
                    writing ? UsageErrorKind.WriteError : UsageErrorKind.ReadError,
                    $"PostgreSQL at {location} failed ({pg.SqlState}): {pg.MessageText}{(writing ? "; nothing was written" : "")}.", location, e),
            };
        }
        if (e is NpgsqlException or SocketException or TimeoutException or IOException
            || e.InnerException is SocketException or TimeoutException or IOException)
            return Unavailable(location, (e.InnerException ?? e).Message, e);
        return new UsageException(writing ? ErrorIds.StoreWriteFailed : ErrorIds.StoreReadFailed,
            writing ? UsageErrorKind.WriteError : UsageErrorKind.ReadError, $"PostgreSQL at {location}: {e.Message}", location, e);
    }

    private static UsageException Unavailable(string location, string reason, Exception e) =>
        new(ErrorIds.StoreUnavailable, UsageErrorKind.ResourceUnavailable, $"PostgreSQL at {location} is not available: {reason.TrimEnd('.')}.", location, e);
}
