using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// The store contract written once, in SQL both databases run, for both stores. A store supplies
/// its connections and transactions (SQLite: one writer connection and busy retries; PostgreSQL:
/// a pool and row locks), its dialect (<see cref="SqlDialect"/>) and its measured bulk-ingest path.
/// </summary>
public abstract partial class SqlStore
{
    private protected SqlStore(SqlDialect dialect, TimeProvider time)
    {
        Dialect = dialect;
        Clock = time;
    }

    private protected SqlDialect Dialect { get; }

    private protected TimeProvider Clock { get; }

    public abstract string Location { get; }

    public abstract string? CustomerScope { get; }

    /// <summary>Runs reads on a connection to the migrated schema.</summary>
    private protected abstract T InReadSession<T>(Func<SqlSession, T> work);

    /// <summary>
    /// Runs work in one write transaction, committed when the work returns and rolled back when it
    /// throws; a store may run the work again when the database refused it for a lock conflict.
    /// </summary>
    private protected abstract T InWriteTransaction<T>(Func<SqlSession, T> work);

    /// <summary>
    /// Streams reads on a connection to the migrated schema, held until the caller stops reading:
    /// for results that need not fit in memory (exports, the events of an invoice line).
    /// </summary>
    private protected abstract IEnumerable<T> InReadStream<T>(Func<SqlSession, IEnumerable<T>> work);

    /// <summary>The store's clock to the microsecond both databases keep.</summary>
    private protected DateTimeOffset Now() => Micros.Truncate(Clock.GetUtcNow());
}
