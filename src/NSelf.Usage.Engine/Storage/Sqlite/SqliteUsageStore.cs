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
    private readonly TimeProvider _time;
    private SqliteConnection? _writer;
    private IngestStatements? _statements;
    private readonly bool _createFolder;

    /// <param name="createFolder">Whether a missing folder of the file is created (the default data
    /// folder only); otherwise a missing folder is StoreUnavailable. A missing file in an existing
    /// folder is always created: that is how a new store starts.</param>
    public SqliteUsageStore(string path, TimeProvider time, bool createFolder = false) : base(SqliteDialect.Instance, time)
    {
        Location = Path.GetFullPath(path);
        _time = time;
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
        var now = Micros.Truncate(_time.GetUtcNow());
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
                rollups[key] = rollups.TryGetValue(key, out var delta) ? delta.Add(quantity) : RollupDelta.Of(quantity);
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
        public static RollupDelta Of(long quantity) => new(1, quantity, quantity, quantity);
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
            _findTombstone = Prepare(connection, "SELECT service_name, recorded_at, quantity, ingested_at, billing_seal FROM usage_archived_events WHERE customer_id = $c AND event_id = $e", "$c", "$e");
            // A restored event keeps the seal it had: billed by the invoices it was billed by, never again.
            _restoreSeal = Prepare(connection, "UPDATE billing_usage_records SET billing_seal = $s WHERE customer_id = $c AND event_id = $e", "$s", "$c", "$e");
            _takeTombstone = Prepare(connection, "DELETE FROM usage_archived_events WHERE customer_id = $c AND event_id = $e", "$c", "$e");
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
            foreach (var e in events)
            {
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

    // ---------------------------------------------------------------- reading

    private const string RecordColumns = "event_id, customer_id, service_name, quantity, unit, recorded_at, ingested_at, metadata";

    private static UsageRecord ReadRecord(SqliteDataReader reader) => new()
    {
        EventId = reader.GetString(0),
        CustomerId = reader.GetString(1),
        Service = reader.GetString(2),
        Quantity = Quantities.FromScaled(reader.GetInt64(3)),
        Unit = reader.GetString(4),
        Timestamp = Micros.ToInstant(reader.GetInt64(5)),
        RecordedAt = Micros.ToInstant(reader.GetInt64(6)),
        Metadata = reader.GetString(7),
    };

    public IReadOnlyList<UsageRecord> FindRecords(string customerId, IReadOnlyCollection<string> eventIds)
    {
        if (eventIds.Count == 0)
            return Array.Empty<UsageRecord>();
        using var connection = Reader();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {RecordColumns} FROM billing_usage_records WHERE customer_id = $c AND event_id IN (SELECT value FROM json_each($ids))";
        command.Parameters.AddWithValue("$c", customerId);
        command.Parameters.AddWithValue("$ids", System.Text.Json.JsonSerializer.Serialize(eventIds));
        using var reader = command.ExecuteReader();
        var list = new List<UsageRecord>();
        while (reader.Read())
            list.Add(ReadRecord(reader));
        return list;
    }

    public long CountRecords(RecordQuery query)
    {
        using var connection = Reader();
        using var command = connection.CreateCommand();
        var sql = RecordWhere(command, "SELECT count(*) FROM billing_usage_records", query);
        command.CommandText = sql.ToString();
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static StringBuilder RecordWhere(SqliteCommand command, string select, RecordQuery query)
    {
        var sql = new StringBuilder(select).Append(" WHERE 1 = 1");
        AddFilter(command, sql, query.Filter, "");
        if (query.Start is { } start)
        {
            sql.Append(" AND recorded_at >= $start");
            command.Parameters.AddWithValue("$start", Micros.From(start));
        }
        if (query.End is { } end)
        {
            sql.Append(" AND recorded_at < $end");
            command.Parameters.AddWithValue("$end", Micros.From(end));
        }
        return sql;
    }

    public IEnumerable<UsageRecord> ReadRecords(RecordQuery query)
    {
        using var connection = Reader();
        using var command = connection.CreateCommand();
        // Events arriving out of time order sit in the table far from their index entries, so
        // reading a large share of the table through the time index costs a random page per event
        // (measured 4 s for 1,000,000). A bulk read of at least an eighth of the table scans it in
        // storage order instead (1.4 s).
        var scan = query.Bulk && query.Skip == 0 && query.First is null && ScanIsCheaper(connection, query);
        var sql = RecordWhere(command, $"SELECT {RecordColumns} FROM billing_usage_records{(scan ? " NOT INDEXED" : "")}", query);
        sql.Append(scan ? " ORDER BY usage_id" : " ORDER BY recorded_at, usage_id LIMIT $first OFFSET $skip");
        command.Parameters.AddWithValue("$first", query.First ?? -1);
        command.Parameters.AddWithValue("$skip", query.Skip);
        command.CommandText = sql.ToString();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return ReadRecord(reader);
    }

    private static bool ScanIsCheaper(SqliteConnection connection, RecordQuery query)
    {
        using var command = connection.CreateCommand();
        var sql = RecordWhere(command, "SELECT count(*), (SELECT coalesce(max(usage_id), 0) FROM billing_usage_records) FROM billing_usage_records", query);
        command.CommandText = sql.ToString();
        using var reader = command.ExecuteReader();
        reader.Read();
        return reader.GetInt64(0) * 8 >= reader.GetInt64(1);
    }

    public IEnumerable<(string Service, decimal Quantity)> ReadQuantities(UsageFilter filter, DateTimeOffset start, DateTimeOffset end)
    {
        using var connection = Reader();
        using var command = connection.CreateCommand();
        var sql = RecordWhere(command, "SELECT service_name, quantity FROM billing_usage_records", new RecordQuery(filter, start, end));
        command.CommandText = sql.Append(" ORDER BY service_name, quantity").ToString();
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return (reader.GetString(0), Quantities.FromScaled(reader.GetInt64(1)));
    }

    private static void AddFilter(SqliteCommand command, StringBuilder sql, UsageFilter filter, string alias)
    {
        if (filter.CustomerId is not null)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {alias}customer_id = $customer");
            command.Parameters.AddWithValue("$customer", filter.CustomerId);
        }
        if (filter.Services is { Count: > 0 } services)
        {
            sql.Append(CultureInfo.InvariantCulture, $" AND {alias}service_name IN (SELECT value FROM json_each($services))");
            command.Parameters.AddWithValue("$services", System.Text.Json.JsonSerializer.Serialize(services));
        }
    }

    private static string SlicesJson(IReadOnlyList<TimeSlice> slices)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(slices.Count * 48);
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var slice in slices)
            {
                json.WriteStartArray();
                json.WriteNumberValue(slice.Index);
                json.WriteNumberValue(Micros.From(slice.Start));
                json.WriteNumberValue(Micros.From(slice.End));
                if (slice.CustomerId is null)
                    json.WriteNullValue();
                else
                    json.WriteStringValue(slice.CustomerId);
                json.WriteEndArray();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }


    // The slices travel as one JSON parameter. CROSS JOIN keeps them the outer loop (SQLite
    // never reorders a CROSS JOIN), so each slice is one range seek on the time-ordered index
    // instead of a scan of every row per slice.
    private const string SlicesCte = "WITH s (idx, lo, hi, cust) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each($slices))";

    public IReadOnlyList<UsageTotal> SumRollups(UsageFilter filter, IReadOnlyList<TimeSlice> slices, RollupGrain grain)
    {
        if (slices.Count == 0)
            return Array.Empty<UsageTotal>();
        using var connection = Reader();
        using var command = connection.CreateCommand();
        var sql = new StringBuilder(SlicesCte).Append(CultureInfo.InvariantCulture, $"""
             SELECT s.idx, r.customer_id, r.service_name, NULL, sum(r.events), sum(r.quantity), min(r.min_quantity), max(r.max_quantity)
             FROM s CROSS JOIN {RollupTables.Name(grain)} r ON r.bucket_start >= s.lo AND r.bucket_start < s.hi
            """).Append(TimeSlices.PerCustomer(slices) ? " AND r.customer_id = s.cust WHERE 1 = 1" : " WHERE 1 = 1");
        AddFilter(command, sql, filter, "r.");
        sql.Append(" GROUP BY s.idx, r.customer_id, r.service_name");
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("$slices", SlicesJson(slices));
        return ReadTotals(command);
    }

    public IReadOnlyList<UsageTotal> SumEvents(UsageFilter filter, IReadOnlyList<TimeSlice> slices, string? groupKey)
    {
        if (slices.Count == 0)
            return Array.Empty<UsageTotal>();
        using var connection = Reader();
        using var command = connection.CreateCommand();
        // JSON booleans come back from json_extract as 1/0; spell them as PostgreSQL's ->> does.
        var group = groupKey is null ? "NULL" : """
            CASE json_type(e.metadata, $path) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL
                ELSE CAST(json_extract(e.metadata, $path) AS TEXT) END
            """;
        var stored = new StringBuilder().Append(CultureInfo.InvariantCulture, $"""
             SELECT s.idx, e.customer_id, e.service_name, {group}, count(*) AS n, sum(e.quantity) AS q, min(e.quantity) AS qmin, max(e.quantity) AS qmax
             FROM s CROSS JOIN billing_usage_records e ON e.recorded_at >= s.lo AND e.recorded_at < s.hi
            """).Append(TimeSlices.PerCustomer(slices) ? " AND e.customer_id = s.cust WHERE 1 = 1" : " WHERE 1 = 1");
        AddFilter(command, stored, filter, "e.");
        stored.Append(" GROUP BY 1, 2, 3, 4");
        var sql = new StringBuilder(SlicesCte);
        if (groupKey is null)
        {
            // Archived events are gone from the stored ones but the rollups kept them, so the edges
            // of a read count their tombstones too, as the whole quarter hours between count them.
            // A restored event's tombstone went when it was stored again: none is counted twice.
            var archived = new StringBuilder("""
                 SELECT s.idx, a.customer_id, a.service_name, NULL, count(*), sum(a.quantity), min(a.quantity), max(a.quantity)
                 FROM s CROSS JOIN usage_archived_events a ON a.recorded_at >= s.lo AND a.recorded_at < s.hi
                """).Append(TimeSlices.PerCustomer(slices) ? " AND a.customer_id = s.cust" : "").Append(" WHERE a.quantity IS NOT NULL");
            // The same parameters again: only the text is wanted from this command.
            using (var scratch = new SqliteCommand())
                AddFilter(scratch, archived, filter, "a.");
            archived.Append(" GROUP BY 1, 2, 3");
            sql.Append(" SELECT idx, customer_id, service_name, NULL, sum(n), sum(q), min(qmin), max(qmax) FROM (")
                .Append(stored).Append(" UNION ALL").Append(archived).Append(") GROUP BY 1, 2, 3");
        }
        else
        {
            // Tombstones keep no metadata: a grouped read, raw throughout, sees only stored events.
            sql.Append(stored);
        }
        command.CommandText = sql.ToString();
        command.Parameters.AddWithValue("$slices", SlicesJson(slices));
        if (groupKey is not null)
            command.Parameters.AddWithValue("$path", "$.\"" + groupKey.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
        return ReadTotals(command);
    }

    private static List<UsageTotal> ReadTotals(SqliteCommand command)
    {
        var totals = new List<UsageTotal>();
        try
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
                totals.Add(new UsageTotal(
                    reader.GetInt32(0),
                    reader.GetString(1),
                    reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetInt64(4),
                    Quantities.FromScaled(reader.GetInt64(5)),
                    Quantities.FromScaled(reader.GetInt64(6)),
                    Quantities.FromScaled(reader.GetInt64(7))));
        }
        catch (SqliteException e)
        {
            throw new UsageException(ErrorIds.StoreReadFailed, UsageErrorKind.ReadError, $"Reading usage totals failed: {e.Message}", null, e);
        }
        return totals;
    }

    public long ArchiveRecords(IReadOnlyList<(string CustomerId, string EventId)> keys, string path, string checksum, DateTimeOffset cutoff, string? customerId) =>
        WriteTransaction((connection, transaction) =>
        {
            Execute(connection, "CREATE TEMP TABLE IF NOT EXISTS archive_keys (customer_id TEXT NOT NULL, event_id TEXT NOT NULL, PRIMARY KEY (customer_id, event_id)) WITHOUT ROWID; DELETE FROM archive_keys;", transaction);
            using (var add = connection.CreateCommand())
            {
                add.Transaction = transaction;
                add.CommandText = "INSERT OR IGNORE INTO archive_keys VALUES ($c, $e)";
                var c = add.Parameters.Add("$c", SqliteType.Text);
                var e = add.Parameters.Add("$e", SqliteType.Text);
                foreach (var key in keys)
                {
                    c.Value = key.CustomerId;
                    e.Value = key.EventId;
                    add.ExecuteNonQuery();
                }
            }
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO usage_archives (path, rows, checksum, cutoff, customer_id, created_at) VALUES ($p, $r, $h, $cut, $cust, $now) RETURNING archive_id";
            command.Parameters.AddWithValue("$p", path);
            command.Parameters.AddWithValue("$r", keys.Count);
            command.Parameters.AddWithValue("$h", checksum);
            command.Parameters.AddWithValue("$cut", Micros.From(cutoff));
            command.Parameters.AddWithValue("$cust", (object?)customerId ?? DBNull.Value);
            command.Parameters.AddWithValue("$now", Micros.From(_time.GetUtcNow()));
            var archiveId = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            command.Parameters.Clear();
            command.CommandText = """
                INSERT OR REPLACE INTO usage_archived_events (customer_id, event_id, service_name, recorded_at, ingested_at, archive_id, quantity, billing_seal)
                SELECT r.customer_id, r.event_id, r.service_name, r.recorded_at, r.ingested_at, $id, r.quantity, r.billing_seal
                FROM billing_usage_records r JOIN archive_keys k ON k.customer_id = r.customer_id AND k.event_id = r.event_id;
                DELETE FROM billing_usage_records WHERE (customer_id, event_id) IN (SELECT customer_id, event_id FROM archive_keys);
                """;
            command.Parameters.AddWithValue("$id", archiveId);
            command.ExecuteNonQuery();
            command.CommandText = "SELECT changes()";
            var deleted = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (deleted != keys.Count)
                throw new UsageException(ErrorIds.ArchiveMismatch, UsageErrorKind.InvalidData,
                    $"The archive {path} lists {keys.Count:N0} events but {deleted:N0} of them are in the store; nothing was deleted.", path);
            Execute(connection, "DELETE FROM archive_keys", transaction);
            return deleted;
        });

    /// <summary>
    /// SQLite has no summary view to refresh: its rollups are current on every write. This
    /// refreshes the query planner's statistics instead and reports the rollup rows.
    /// </summary>
    public UsageSummaryRefresh RefreshSummaries()
    {
        var started = _time.GetTimestamp();
        using var connection = Reader();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA optimize";
        command.ExecuteNonQuery();
        command.CommandText = "SELECT count(*) FROM usage_rollups";
        var rows = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        return new UsageSummaryRefresh { Backend = Backend, Location = Location, Summary = "usage_rollups", Rows = rows, Duration = _time.GetElapsedTime(started) };
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
