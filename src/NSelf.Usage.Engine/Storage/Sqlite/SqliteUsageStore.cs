using System.Data;
using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage.Sql;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode, shared safely by several processes.
/// Writes go through one long-lived connection with prepared statements, each batch in one
/// IMMEDIATE transaction (so writers queue on the busy timeout instead of deadlocking);
/// reads use pooled connections, which WAL lets run beside a writer.
/// </summary>
public sealed partial class SqliteUsageStore : SqlStore, IUsageStore
{
    private const long QuarterHourMicros = 15L * 60 * 1_000_000;
    private const long DayMicros = 24L * 60 * 60 * 1_000_000;
    private const int BusyTimeoutMs = 30_000;
    private const int BusyRetries = 5;

    private readonly string _connectionString;
    private SqliteConnection? _writer;
    private IngestStatements? _statements;
    private readonly bool _createFolder;

    /// <param name="createFolder">Whether a missing folder of the file is created (the default data
    /// folder only); otherwise a missing folder is StoreUnavailable. A missing file in an existing
    /// folder is always created: that is how a new store starts.</param>
    public SqliteUsageStore(string path, TimeProvider time, bool createFolder = false) : base(SqliteDialect.Instance, time)
    {
        Location = Path.GetFullPath(path);
        _createFolder = createFolder;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Location,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
    }

    public override UsageStoreBackend Backend => UsageStoreBackend.Sqlite;

    public override string Location { get; }

    public override string? CustomerScope => null;

    // ---------------------------------------------------------------- connections and schema

    private SqliteConnection Open()
    {
        var directory = Path.GetDirectoryName(Location);
        if (!string.IsNullOrEmpty(directory) && !Directory.Exists(directory) && !_createFolder)
            throw new UsageException(ErrorIds.StoreUnavailable, UsageErrorKind.ResourceUnavailable,
                $"The SQLite store {Location} cannot be opened: its folder {directory} does not exist. Check the path, or create the folder first; only the default store's folder is created for you.", directory);
        try
        {
            if (!string.IsNullOrEmpty(directory))
                Directory.CreateDirectory(directory);
            var connection = new SqliteConnection(_connectionString);
            connection.Open();
            // WAL lets readers run beside one writer and several processes share the file;
            // synchronous=NORMAL in WAL mode never loses a committed transaction to a process
            // crash (only, at worst, the last commits to a power cut). A checkpoint (two fsyncs in
            // that mode) every 10,000 WAL pages rather than 1,000: an unbatched tracking call
            // commits a few pages, and the checkpoints were a large share of its time (decision 48);
            // the WAL file is cut back to 64 MB after each.
            Execute(connection, $"PRAGMA busy_timeout = {BusyTimeoutMs}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; "
                + "PRAGMA wal_autocheckpoint = 10000; PRAGMA journal_size_limit = 67108864;");
            SqliteDialect.EndStatementsWhenStopped(connection);
            return connection;
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            throw Unavailable(e);
        }
    }

    private UsageException Unavailable(Exception e) =>
        new(ErrorIds.StoreUnavailable, UsageErrorKind.ResourceUnavailable,
            $"The SQLite store {Location} cannot be opened for writing: {e.Message}", Location, e);

    // Guards the writer connection: a session may write a chunk on a worker thread while its
    // pipeline thread reads through pooled connections.
    private readonly object _writeGate = new();

    private SqliteConnection Writer()
    {
        lock (_writeGate)
        {
            if (_writer is { State: ConnectionState.Open })
                return _writer;
            _statements?.Dispose();
            _writer?.Dispose();
            _writer = Open();
            EnsureMigrated(_writer);
            _statements = new IngestStatements(_writer);
            return _writer;
        }
    }

    private SqliteConnection Reader()
    {
        Writer(); // the first use of a store creates and migrates it
        return Open();
    }

    private static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    private protected override DbConnection OpenUnmigrated() => Open();

    private protected override (bool Writable, string ServerVersion) ProbeServer(SqlSession session, bool hasTables)
    {
        // Taking the write lock and releasing it proves the file is writable by us now.
        bool writable;
        try { session.Execute("BEGIN IMMEDIATE; ROLLBACK;"); writable = true; }
        catch (SqliteException) { writable = false; }
        return (writable, "SQLite " + session.Connection.ServerVersion);
    }

    // ---------------------------------------------------------------- ingestion

    public IngestResult Ingest(IReadOnlyList<UsageEvent> events)
    {
        var now = Now();
        if (events.Count == 0)
            return IngestResult.Empty(now);
        return WriteTransaction(rawTransaction: true, work: (_, _) =>
        {
            var statements = _statements!;
            var nowMicros = Micros.From(now);
            var removed = new HashSet<string>(StringComparer.Ordinal);
            foreach (var customer in events.Select(e => e.CustomerId).Distinct(StringComparer.Ordinal))
                if (!statements.EnsureCustomer(customer, nowMicros))
                    removed.Add(customer);

            var rejected = new List<RejectedEvent>();
            var accepted = new List<UsageEvent>(events.Count);
            foreach (var e in events)
            {
                if (removed.Contains(e.CustomerId))
                    rejected.Add(new RejectedEvent(e, new UsageException(ErrorIds.CustomerRemoved, UsageErrorKind.InvalidOperation,
                        $"Customer '{e.CustomerId}' was removed; usage for it is not accepted.", e.CustomerId)));
                else
                    accepted.Add(e);
            }
            var rollups = new Dictionary<(string Customer, long Bucket, string Service), RollupDelta>();
            var inserted = 0;
            var restoring = statements.HasTombstones();
            foreach (var (customer, at, service, quantity, restored) in statements.InsertEvents(accepted, nowMicros, restoring))
            {
                inserted++;
                if (restored)
                    continue; // an archived event back: the rollups never forgot it
                var key = (customer, at - Mod(at, QuarterHourMicros), service);
                rollups[key] = rollups.TryGetValue(key, out var delta) ? delta.Add(quantity) : RollupDelta.OneEvent(quantity);
            }
            // The day totals are the sums of their quarter hours' deltas.
            var days = new Dictionary<(string Customer, long Bucket, string Service), RollupDelta>();
            foreach (var ((customer, bucket, service), delta) in rollups)
            {
                statements.AddToRollup(RollupGrain.QuarterHour, customer, bucket, service, delta);
                var day = (customer, bucket - Mod(bucket, DayMicros), service);
                days[day] = days.TryGetValue(day, out var sum) ? sum.Merge(delta) : delta;
            }
            foreach (var ((customer, bucket, service), delta) in days)
                statements.AddToRollup(RollupGrain.Day, customer, bucket, service, delta);
            var duplicates = accepted.Count - inserted;
            return new IngestResult(inserted, duplicates, rejected, now);
        });
    }

    private static long Mod(long value, long modulus) => ((value % modulus) + modulus) % modulus;

    private protected override T InReadSession<T>(Func<SqlSession, T> work)
    {
        using var connection = Reader();
        return work(new SqlSession(connection, null, Dialect));
    }

    private protected override T InWriteTransaction<T>(Func<SqlSession, T> work) =>
        WriteTransaction((connection, transaction) => work(new SqlSession(connection, transaction, Dialect)));

    private protected override IEnumerable<T> InReadStream<T>(Func<SqlSession, IEnumerable<T>> work)
    {
        using var connection = Reader();
        foreach (var item in work(new SqlSession(connection, null, Dialect)))
            yield return item;
    }

    /// <summary>Runs work in one IMMEDIATE transaction, retrying when another process holds the lock past the busy timeout.</summary>
    private T WriteTransaction<T>(Func<SqliteConnection, SqliteTransaction, T> work) =>
        WriteTransaction(rawTransaction: false, (connection, transaction) => work(connection, transaction!));

    /// <param name="rawTransaction">Begin and commit with the writer's prepared statements instead of a
    /// SqliteTransaction (which parses BEGIN and COMMIT each time): for ingestion, whose statements
    /// are all raw, where a single tracked event is a whole transaction. The work gets no transaction object.</param>
    private T WriteTransaction<T>(bool rawTransaction, Func<SqliteConnection, SqliteTransaction?, T> work)
    {
        lock (_writeGate)
        {
            for (var attempt = 1; ; attempt++)
            {
                var connection = Writer();
                var statements = _statements!;
                SqliteTransaction? transaction = null;
                // A stopped command interrupts its transaction's statement (SQLite then rolls the
                // transaction back; the rollback below makes sure): one check per transaction, so a
                // bulk import pays it per chunk, never per event.
                using var stop = StoreCancellation.Interrupting(connection, static c => { if (c.Handle is { } handle) raw.sqlite3_interrupt(handle); });
                try
                {
                    if (rawTransaction)
                        statements.Begin();
                    else
                        transaction = (SqliteTransaction)Dialect.BeginWrite(connection);
                    var result = work(connection, transaction);
                    if (rawTransaction)
                        statements.Commit();
                    else
                        transaction!.Commit();
                    return result;
                }
                catch (SqliteException e) when (IsBusy(e) && attempt < BusyRetries)
                {
                    Rollback();
                    Thread.Sleep(50 * attempt);
                }
                catch (SqliteException e)
                {
                    Rollback();
                    throw new UsageException(ErrorIds.StoreWriteFailed, UsageErrorKind.WriteError,
                        $"Writing to the SQLite store {Location} failed; nothing was written: {e.Message}", Location, e);
                }
                catch
                {
                    Rollback();
                    throw;
                }
                finally
                {
                    transaction?.Dispose();
                }

                void Rollback()
                {
                    if (rawTransaction)
                        statements.RollbackIfOpen();
                    else
                        SafeRollback(transaction);
                }
            }
        }
    }

    private static bool IsBusy(SqliteException e) => e.SqliteErrorCode is 5 or 6; // SQLITE_BUSY, SQLITE_LOCKED

    private static void SafeRollback(SqliteTransaction? transaction)
    {
        try { transaction?.Rollback(); }
        catch (Exception e) when (e is SqliteException or InvalidOperationException) { /* already rolled back by SQLite */ }
    }

    private readonly record struct RollupDelta(long Events, long Quantity, long Minimum, long Maximum)
    {
        public static RollupDelta OneEvent(long quantity) => new(1, quantity, quantity, quantity);
        public RollupDelta Add(long quantity) => new(Events + 1, Quantity + quantity, Math.Min(Minimum, quantity), Math.Max(Maximum, quantity));
        public RollupDelta Merge(RollupDelta other) => new(Events + other.Events, Quantity + other.Quantity, Math.Min(Minimum, other.Minimum), Math.Max(Maximum, other.Maximum));
    }

    /// <summary>The prepared statements of the write path, bound to the writer connection.</summary>
    private sealed class IngestStatements : IDisposable
    {
        // Everything that runs for every write is a raw prepared statement bound by position:
        // Microsoft.Data.Sqlite looks each named parameter up again on every execution, which cost
        // more than the statement itself, and a single tracked event runs all of these.
        private readonly RawStatement _insertEvent, _insertCustomer, _customerState, _upsertRollup, _upsertDailyRollup, _anyTombstone;
        // Only for events restored from an archive: rare, so plain commands.
        private readonly SqliteCommand _findTombstone, _takeTombstone, _restoreSeal;
        private readonly RawStatement _begin, _commit, _rollback;
        private readonly sqlite3 _db;

        public IngestStatements(SqliteConnection connection)
        {
            var db = _db = connection.Handle!;
            // IMMEDIATE: take the write lock at the start, so a busy store is found before any work.
            _begin = new RawStatement(db, "BEGIN IMMEDIATE");
            _commit = new RawStatement(db, "COMMIT");
            _rollback = new RawStatement(db, "ROLLBACK");
            _insertCustomer = new RawStatement(db, """
                INSERT INTO billing_customers (customer_id, project_name, metadata, created_at, updated_at)
                VALUES (?1, ?1, '{}', ?2, ?2)
                """);
            _customerState = new RawStatement(db, "SELECT deleted_at IS NULL FROM billing_customers WHERE customer_id = ?1");
            _anyTombstone = new RawStatement(db, "SELECT EXISTS (SELECT 1 FROM usage_archived_events)");
            _findTombstone = Prepare(connection, "SELECT service_name, recorded_at, quantity, ingested_at, billing_seal FROM usage_archived_events WHERE customer_id = $customer AND event_id = $event", "$customer", "$event");
            // A restored event keeps the seal it had: billed by the invoices it was billed by, never again.
            _restoreSeal = Prepare(connection, "UPDATE billing_usage_records SET billing_seal = $seal WHERE customer_id = $customer AND event_id = $event", "$seal", "$customer", "$event");
            _takeTombstone = Prepare(connection, "DELETE FROM usage_archived_events WHERE customer_id = $customer AND event_id = $event", "$customer", "$event");
            _insertEvent = new RawStatement(db, """
                INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                ON CONFLICT (customer_id, event_id) DO NOTHING
                """);
            _upsertRollup = PrepareRollupUpsert(db, "usage_rollups");
            _upsertDailyRollup = PrepareRollupUpsert(db, "usage_rollups_daily");
        }

        private static RawStatement PrepareRollupUpsert(SQLitePCL.sqlite3 db, string table) => new(db, $"""
            INSERT INTO {table} (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
            ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET
                events = events + excluded.events,
                quantity = quantity + excluded.quantity,
                min_quantity = min(min_quantity, excluded.min_quantity),
                max_quantity = max(max_quantity, excluded.max_quantity)
            """);

        private static SqliteCommand Prepare(SqliteConnection connection, string sql, params string[] names)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in names)
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            return command;
        }

        public void Begin() => _begin.Execute();

        public void Commit() => _commit.Execute();

        /// <summary>Rolls back, unless SQLite already did (some errors end the transaction themselves).</summary>
        public void RollbackIfOpen()
        {
            if (raw.sqlite3_get_autocommit(_db) == 0)
                _rollback.Execute();
        }

        /// <summary>Registers an unknown customer; returns false when the customer was removed.</summary>
        public bool EnsureCustomer(string customerId, long now)
        {
            // Known customers (nearly every call) cost one indexed read; a new one is inserted.
            if (_customerState.Bind(1, customerId).ReadInt64() is { } active)
                return active != 0;
            _insertCustomer.Bind(1, customerId).Bind(2, now).Execute();
            return true;
        }

        /// <summary>Whether any archived event has a tombstone (only then is each insert checked against them).</summary>
        public bool HasTombstones() => _anyTombstone.ReadInt64() != 0;

        /// <summary>
        /// Inserts the events that are new and returns them (customer, time, service, scaled
        /// quantity, and whether it was an archived event restored with its original ingest time).
        /// </summary>
        public List<(string Customer, long At, string Service, long Quantity, bool Restored)> InsertEvents(IReadOnlyList<UsageEvent> events, long now, bool restoring)
        {
            var inserted = new List<(string, long, string, long, bool)>(events.Count);
            // sqlite3_interrupt stops a statement that is running; one that comes between two
            // inserts is lost. So a stop is also looked for before each event, and the
            // transaction is rolled back.
            var stopped = StoreCancellation.Current;
            foreach (var e in events)
            {
                stopped.ThrowIfCancellationRequested();
                var quantity = Quantities.ToScaled(e.Quantity);
                var at = Micros.From(e.Timestamp);
                long? original = null, seal = null;
                if (restoring)
                {
                    _findTombstone.Parameters[0].Value = e.CustomerId;
                    _findTombstone.Parameters[1].Value = e.EventId;
                    using (var tombstone = _findTombstone.ExecuteReader())
                        if (tombstone.Read())
                        {
                            // An archived id sent again with other data is a duplicate, as it would be
                            // were the event still stored: the rollups kept the archived original.
                            if (tombstone.GetString(0) != e.Service || tombstone.GetInt64(1) != at || (!tombstone.IsDBNull(2) && tombstone.GetInt64(2) != quantity))
                                continue;
                            original = tombstone.GetInt64(3);
                            seal = tombstone.IsDBNull(4) ? null : tombstone.GetInt64(4);
                        }
                    if (original is not null)
                    {
                        _takeTombstone.Parameters[0].Value = e.CustomerId;
                        _takeTombstone.Parameters[1].Value = e.EventId;
                        _takeTombstone.ExecuteNonQuery();
                    }
                }
                var changed = _insertEvent.Bind(1, e.EventId).Bind(2, e.CustomerId).Bind(3, e.Service).Bind(4, quantity)
                    .Bind(5, e.Unit).Bind(6, e.Metadata).Bind(7, at).Bind(8, original ?? now).Execute();
                if (changed == 1 && seal is not null)
                {
                    _restoreSeal.Parameters[0].Value = seal.Value;
                    _restoreSeal.Parameters[1].Value = e.CustomerId;
                    _restoreSeal.Parameters[2].Value = e.EventId;
                    _restoreSeal.ExecuteNonQuery();
                }
                if (changed == 1)
                    inserted.Add((e.CustomerId, at, e.Service, quantity, original is not null));
            }
            return inserted;
        }

        public void AddToRollup(RollupGrain grain, string customer, long bucket, string service, RollupDelta delta)
        {
            var upsert = grain == RollupGrain.Day ? _upsertDailyRollup : _upsertRollup;
            upsert.Bind(1, customer).Bind(2, bucket).Bind(3, service).Bind(4, delta.Events)
                .Bind(5, delta.Quantity).Bind(6, delta.Minimum).Bind(7, delta.Maximum).Execute();
        }

        public void Dispose()
        {
            _insertCustomer.Dispose();
            _customerState.Dispose();
            _insertEvent.Dispose();
            _upsertRollup.Dispose();
            _upsertDailyRollup.Dispose();
            _anyTombstone.Dispose();
            _findTombstone.Dispose();
            _takeTombstone.Dispose();
            _restoreSeal.Dispose();
            _begin.Dispose();
            _commit.Dispose();
            _rollback.Dispose();
        }
    }

    /// <summary>A statement prepared once on a connection, bound by position and run without Microsoft.Data.Sqlite's per-call work.</summary>
    private sealed class RawStatement : IDisposable
    {
        private readonly sqlite3 _db;
        private readonly sqlite3_stmt _statement;

        public RawStatement(sqlite3 db, string sql)
        {
            _db = db;
            Check(raw.sqlite3_prepare_v2(db, sql, out _statement));
        }

        public RawStatement Bind(int index, string value)
        {
            Check(raw.sqlite3_bind_text(_statement, index, value));
            return this;
        }

        public RawStatement Bind(int index, long value)
        {
            Check(raw.sqlite3_bind_int64(_statement, index, value));
            return this;
        }

        /// <summary>Runs a statement that returns no rows; returns the rows it changed.</summary>
        public int Execute()
        {
            var rc = raw.sqlite3_step(_statement);
            raw.sqlite3_reset(_statement);
            if (rc != raw.SQLITE_DONE)
                SqliteException.ThrowExceptionForRC(rc, _db);
            return raw.sqlite3_changes(_db);
        }

        /// <summary>The first column of the first row, or null when there is no row.</summary>
        public long? ReadInt64()
        {
            try
            {
                var rc = raw.sqlite3_step(_statement);
                if (rc == raw.SQLITE_ROW)
                    return raw.sqlite3_column_int64(_statement, 0);
                if (rc != raw.SQLITE_DONE)
                    SqliteException.ThrowExceptionForRC(rc, _db);
                return null;
            }
            finally
            {
                raw.sqlite3_reset(_statement);
            }
        }

        private void Check(int rc)
        {
            if (rc != raw.SQLITE_OK)
                SqliteException.ThrowExceptionForRC(rc, _db);
        }

        public void Dispose() => _statement.Dispose(); // finalizes the statement
    }

    // Keys inserted one by one through a prepared statement: SQLite's fastest load.
    private protected override T WithArchiveKeys<T>(SqlSession session, IReadOnlyList<(string CustomerId, string EventId)> keys, Func<T> work)
    {
        session.Execute("CREATE TEMP TABLE IF NOT EXISTS archive_keys (customer_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (customer_id, event_id)) WITHOUT ROWID");
        session.Execute("DELETE FROM archive_keys");
        using (var add = session.Command("INSERT OR IGNORE INTO archive_keys VALUES (@customer, @event)", ("customer", ""), ("event", "")))
        {
            add.Prepare();
            foreach (var (customer, eventId) in keys)
            {
                add.Parameters[0].Value = customer;
                add.Parameters[1].Value = eventId;
                add.ExecuteNonQuery();
            }
        }
        var result = work();
        session.Execute("DELETE FROM archive_keys"); // the writer connection lives on: keep no keys in it
        return result;
    }

    // SQLite has no summary view to refresh: its rollups are current on every write. This
    // refreshes the query planner's statistics instead.
    private protected override string RefreshSummary(SqlSession session)
    {
        session.Execute("PRAGMA optimize");
        return "usage_rollups";
    }

    /// <summary>Closes the writer and every pooled connection to this file, so it can be moved or deleted.</summary>
    public void Dispose()
    {
        lock (_writeGate)
        {
            _statements?.Dispose();
            _writer?.Dispose();
            _statements = null;
            _writer = null;
            using var pooled = new SqliteConnection(_connectionString);
            SqliteConnection.ClearPool(pooled);
        }
    }
}
