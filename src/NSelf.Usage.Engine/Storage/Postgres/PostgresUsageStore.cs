using System.Data.Common;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage.Sql;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>
/// The production store: nself's billing schema in PostgreSQL, upgraded in place by additive
/// migrations. Small writes are one prepared statement on a pooled connection; batches go
/// through binary COPY into a session staging table and one set-based insert that skips event
/// ids already stored. The database itself keeps the rollups, in a statement trigger, in the
/// same transaction as the events.
/// </summary>
public sealed partial class PostgresUsageStore : SqlStore, IUsageStore
{
    private const int CopyThreshold = 64;

    private readonly NpgsqlDataSource _source;
    private readonly object _schemaGate = new();
    private bool _schemaChecked;

    public PostgresUsageStore(string connectionString, string? customerScope, TimeProvider time) : base(PostgresDialect.Instance, time)
    {
        var settings = PostgresConnections.Settings(connectionString, customerScope);
        Location = PostgresConnections.Describe(settings);
        CustomerScope = customerScope;
        _source = PostgresConnections.Source(settings);
    }

    public override UsageStoreBackend Backend => UsageStoreBackend.PostgreSql;

    public override string Location { get; }

    public override string? CustomerScope { get; }

    // ---------------------------------------------------------------- connections and schema

    private NpgsqlConnection OpenRaw()
    {
        try
        {
            return _source.OpenConnection();
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw PostgresConnections.Translate(e, Location, writing: false);
        }
    }

    /// <summary>A pooled connection to a migrated schema (the first use of a store migrates it).</summary>
    private NpgsqlConnection Open()
    {
        EnsureSchema();
        return OpenRaw();
    }

    private T Run<T>(bool writing, Func<NpgsqlConnection, T> work)
    {
        using var connection = Open();
        try
        {
            return work(connection);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            throw PostgresConnections.Translate(e, Location, writing);
        }
    }

    private T Write<T>(Func<NpgsqlConnection, NpgsqlTransaction, T> work) => Run(writing: true, connection =>
    {
        // A stopped command's next chunk never starts; a chunk under way runs through SqlSession,
        // whose statements are cancelled, or is one COPY, which looks for the stop at each row.
        StoreCancellation.ThrowIfStopped();
        using var transaction = connection.BeginTransaction();
        var result = work(connection, transaction);
        transaction.Commit();
        return result;
    });

    private protected override T InReadSession<T>(Func<SqlSession, T> work) =>
        Run(writing: false, connection => work(new SqlSession(connection, null, Dialect)));

    private protected override T InWriteTransaction<T>(Func<SqlSession, T> work) =>
        Write((connection, transaction) => work(new SqlSession(connection, transaction, Dialect)));

    // C# allows no yield inside a try with a catch: the rows are read by hand, each step translated.
    private protected override IEnumerable<T> InReadStream<T>(Func<SqlSession, IEnumerable<T>> work)
    {
        using var connection = Open();
        using var rows = work(new SqlSession(connection, null, Dialect)).GetEnumerator();
        while (true)
        {
            try
            {
                if (!rows.MoveNext())
                    yield break;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                throw PostgresConnections.Translate(e, Location, writing: false);
            }
            yield return rows.Current;
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, NpgsqlTransaction? transaction = null) =>
        new(sql, connection, transaction);

    private void EnsureSchema()
    {
        if (_schemaChecked)
            return;
        lock (_schemaGate)
        {
            if (_schemaChecked)
                return;
            using var connection = OpenRaw();
            try
            {
                EnsureMigrated(connection);
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                throw PostgresConnections.Translate(e, Location, writing: true);
            }
        }
    }

    private protected override DbConnection OpenUnmigrated() => OpenRaw();

    private protected override void SchemaCurrent() => _schemaChecked = true;

    private protected override (bool Writable, string ServerVersion) ProbeServer(SqlSession session, bool hasTables)
    {
        var writable = (bool)session.Scalar(hasTables
            ? "SELECT has_table_privilege('billing_usage_records', 'INSERT')"
            : "SELECT has_database_privilege(current_database(), 'CREATE')")!;
        return (writable, ((string)session.Scalar("SELECT version()")!).Split(" on ")[0]);
    }

    // ---------------------------------------------------------------- ingestion

    // One set-based statement does the whole write: register unknown customers, leave out the
    // events of removed customers, insert the rest skipping (customer, event id) pairs already
    // stored, and report what happened. {0} is the source of the incoming rows; @customers their
    // distinct customers in lock order (see InLockOrder), registered in that order and before any
    // event row: `stored` reads `registered` (an init plan, run once before its first row), where
    // an unread data-modifying WITH runs after the main query, events first, the reverse of the
    // COPY path's order.
    private const string IngestSql = """
        WITH incoming AS ({0}),
        registered AS (
            INSERT INTO billing_customers (customer_id, project_name)
            SELECT c, c FROM unnest(@customers) AS c
            ON CONFLICT (customer_id) DO NOTHING
            RETURNING 1
        ),
        removed AS (
            SELECT customer_id FROM billing_customers
            WHERE deleted_at IS NOT NULL AND customer_id IN (SELECT customer_id FROM incoming)
        ),
        stored AS (
            INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at, ingested_at, billing_seal)
            -- An archived event sent again keeps its original ingest time (its tombstone says when)
            -- and its seal: billed by the invoices it was billed by, never again.
            -- One probe finds the tombstone for both uses (a probe each cost a sixth of a one-event
            -- write). LIMIT keeps it a per-row probe, in the input's order: of two rows with one
            -- id in a chunk, the first is stored.
            SELECT i.event_id, i.customer_id, i.service_name, i.quantity, i.unit, i.unit_cost, i.metadata, i.recorded_at, coalesce(a.ingested_at, @now), a.billing_seal
            FROM incoming i
            LEFT JOIN LATERAL (SELECT t.event_id, t.service_name, t.recorded_at, t.quantity, t.ingested_at, t.billing_seal FROM usage_archived_events t
                               WHERE t.customer_id = i.customer_id AND t.event_id = i.event_id LIMIT 1) a ON true
            WHERE (SELECT count(*) FROM registered) >= 0
              AND i.customer_id NOT IN (SELECT customer_id FROM removed)
              -- An archived id sent again with other data is a duplicate, as it would be were the
              -- event still stored: the rollups kept the archived original.
              AND (a.event_id IS NULL
                   OR (a.service_name = i.service_name AND a.recorded_at = i.recorded_at AND (a.quantity IS NULL OR a.quantity = i.quantity)))
            ON CONFLICT (customer_id, event_id) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM stored), ARRAY(SELECT customer_id FROM removed)
        """;

    private static readonly string UnnestSql = string.Format(CultureInfo.InvariantCulture, IngestSql,
        "SELECT * FROM unnest(@event_id, @customer_id, @service_name, @quantity, @unit, @unit_cost, @metadata, @recorded_at) " +
        "AS i (event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at)");

    // One event (an unbatched tracking call) as plain parameters: the planner then knows it is one
    // row and uses the keys, where unnest's generic estimate cost measurably more server time.
    private static readonly string SingleSql = string.Format(CultureInfo.InvariantCulture, IngestSql,
        "SELECT @event_id AS event_id, @customer_id AS customer_id, @service_name AS service_name, @quantity AS quantity, " +
        "@unit AS unit, @unit_cost AS unit_cost, @metadata AS metadata, @recorded_at AS recorded_at");

    private static readonly string StagedSql = string.Format(CultureInfo.InvariantCulture, IngestSql,
        "SELECT event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at FROM usage_staging");

    private const string StagingTable = """
        CREATE TEMP TABLE IF NOT EXISTS usage_staging (
            event_id varchar(255), customer_id varchar(255), service_name varchar(100), quantity numeric(20,6),
            unit varchar(50), unit_cost numeric(10,6), metadata jsonb, recorded_at timestamptz
        ) ON COMMIT DELETE ROWS
        """;

    /// <summary>How often a chunk PostgreSQL chose as a deadlock victim is written again.</summary>
    private const int DeadlockAttempts = 3;

    public IngestResult Ingest(IReadOnlyList<UsageEvent> events)
    {
        var now = Now();
        if (events.Count == 0)
            return IngestResult.Empty(now);
        var prices = GetServices();
        var ordered = InLockOrder(events);
        var customers = ordered.Select(e => e.CustomerId).Distinct(StringComparer.Ordinal).ToArray();
        // Writers of ingestion take their locks in one order, but other writers (an archive, a
        // customer's removal) may still meet one in a cycle. The victim's chunk was rolled back
        // as a whole, and a chunk is exactly once by event id, so writing it again is safe.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return IngestOnce(events, ordered, customers, prices, now);
            }
            catch (UsageException e) when (attempt < DeadlockAttempts && e.InnerException is PostgresException
                { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
            {
            }
        }
    }

    /// <param name="sent">The events as sent: refusals are reported in that order.</param>
    /// <param name="events">The same events in lock order, as they are written.</param>
    private IngestResult IngestOnce(IReadOnlyList<UsageEvent> sent, IReadOnlyList<UsageEvent> events, string[] customers, ServiceCatalog prices, DateTimeOffset now)
    {
        // A small batch is one statement (its rollup trigger included), atomic without an explicit
        // transaction: one round trip, which is what a single tracking call waits for.
        if (events.Count < CopyThreshold)
            return Run(writing: true, connection =>
            {
                var single = events.Count == 1;
                using var command = Command(connection, single ? SingleSql : UnnestSql);
                NpgsqlParameter Field<T>(string name, NpgsqlDbType type, Func<UsageEvent, T> value) =>
                    single ? new NpgsqlParameter(name, type) { Value = value(events[0]) } : Array(name, type, events.Select(value));
                command.Parameters.Add(Field("event_id", NpgsqlDbType.Varchar, e => e.EventId));
                command.Parameters.Add(Field("customer_id", NpgsqlDbType.Varchar, e => e.CustomerId));
                command.Parameters.Add(Field("service_name", NpgsqlDbType.Varchar, e => e.Service));
                command.Parameters.Add(Field("quantity", NpgsqlDbType.Numeric, e => e.Quantity));
                command.Parameters.Add(Field("unit", NpgsqlDbType.Varchar, e => e.Unit));
                command.Parameters.Add(Field("unit_cost", NpgsqlDbType.Numeric, e => UnitCost(prices, e)));
                command.Parameters.Add(Field("metadata", NpgsqlDbType.Jsonb, e => e.Metadata));
                command.Parameters.Add(Field("recorded_at", NpgsqlDbType.TimestampTz, e => e.Timestamp.UtcDateTime));
                command.Parameters.Add(Array("customers", NpgsqlDbType.Varchar, customers));
                return ReadIngested(command, sent, now);
            });
        return Write((connection, transaction) =>
        {
            if (TryCopyDirectly(connection, transaction, events, customers, prices, now) is { } direct)
                return direct;
            using (var staging = Command(connection, StagingTable, transaction))
                staging.ExecuteNonQuery();
            CopyRows(connection, "usage_staging", events, prices, ingestedAt: null);
            using var command = Command(connection, StagedSql, transaction);
            command.Parameters.Add(Array("customers", NpgsqlDbType.Varchar, customers));
            return ReadIngested(command, sent, now);
        });
    }

    /// <summary>
    /// The events sorted by customer and event id (ordinal; stable, so of two rows with one id the
    /// first sent is still the first). Every writer then takes its row locks in one global order:
    /// new customers' keys in that order, event ids' unique-index entries in that order, and the
    /// rollup rows (which the trigger upserts in key order) last. Two hosts sending overlapping ids
    /// in different orders otherwise each waited for an id the other had just inserted, PostgreSQL
    /// broke the deadlock by failing one whole chunk (40P01), and its events were not stored.
    /// </summary>
    private static IReadOnlyList<UsageEvent> InLockOrder(IReadOnlyList<UsageEvent> events)
    {
        for (var i = 1; i < events.Count; i++)
            if (InLockOrderComparer.Compare(events[i - 1], events[i]) > 0)
                return events.OrderBy(e => e, InLockOrderComparer).ToArray();
        return events;
    }

    private static readonly Comparer<UsageEvent> InLockOrderComparer = Comparer<UsageEvent>.Create((a, b) =>
    {
        var byCustomer = string.CompareOrdinal(a.CustomerId, b.CustomerId);
        return byCustomer != 0 ? byCustomer : string.CompareOrdinal(a.EventId, b.EventId);
    });

    // Registers the chunk's customers and answers whether the direct path may be tried: none of
    // them is removed, none has archived events (whose ids would be restores or duplicates), and
    // row-level security does not apply to this role (PostgreSQL refuses COPY FROM into a table
    // whose policies apply to the copying role: a role that is not the owner takes the staging
    // path, whose INSERT the policies check row by row).
    private const string DirectCheckSql = """
        WITH registered AS (
            INSERT INTO billing_customers (customer_id, project_name)
            SELECT c, c FROM unnest(@customers) AS c
            ON CONFLICT (customer_id) DO NOTHING
        )
        SELECT NOT row_security_active('billing_usage_records')
           AND NOT EXISTS (SELECT 1 FROM billing_customers WHERE deleted_at IS NOT NULL AND customer_id = ANY (@customers))
           AND NOT EXISTS (SELECT 1 FROM usage_archived_events WHERE customer_id = ANY (@customers))
        """;

    /// <summary>
    /// The fast path of a big chunk: a binary COPY straight into billing_usage_records, as fast as
    /// PostgreSQL takes rows, inside a savepoint. It is exactly-once all the same: an id already
    /// stored (a chunk sent again, a duplicate inside the chunk) violates the unique key, the
    /// savepoint is rolled back and the caller takes the staging path, which skips known ids.
    /// Returns null when the staging path must be taken.
    /// </summary>
    private static IngestResult? TryCopyDirectly(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<UsageEvent> events,
        string[] customers, ServiceCatalog prices, DateTimeOffset now)
    {
        using (var check = Command(connection, DirectCheckSql, transaction))
        {
            check.Parameters.Add(Array("customers", NpgsqlDbType.Varchar, customers));
            if (check.ExecuteScalar() is not true)
                return null;
        }
        transaction.Save("direct_copy");
        try
        {
            CopyRows(connection, "billing_usage_records", events, prices, now.UtcDateTime);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            transaction.Rollback("direct_copy");
            return null;
        }
        transaction.Release("direct_copy");
        return new IngestResult(events.Count, 0, System.Array.Empty<RejectedEvent>(), now);
    }

    /// <summary>Binary COPY of events into a table with the event columns (and ingested_at when given).</summary>
    private static void CopyRows(NpgsqlConnection connection, string table, IReadOnlyList<UsageEvent> events, ServiceCatalog prices, DateTime? ingestedAt)
    {
        using var copy = connection.BeginBinaryImport(
            $"COPY {table} (event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at{(ingestedAt is null ? "" : ", ingested_at")}) FROM STDIN (FORMAT BINARY)");
        // A COPY takes no statement cancel. A stop is looked for before each row; leaving without
        // Complete() aborts the COPY, and the transaction is rolled back. Once the rows are sent,
        // the server's insert of them (and its rollup trigger, row by row) is heard through the
        // token: Npgsql sends the server a cancel, which stopped a 5,000-row chunk within
        // milliseconds where the plain Complete() waited it out (up to 300 ms, decision 249).
        var stopped = StoreCancellation.Current;
        foreach (var e in events)
        {
            stopped.ThrowIfCancellationRequested();
            copy.StartRow();
            copy.Write(e.EventId, NpgsqlDbType.Varchar);
            copy.Write(e.CustomerId, NpgsqlDbType.Varchar);
            copy.Write(e.Service, NpgsqlDbType.Varchar);
            copy.Write(e.Quantity, NpgsqlDbType.Numeric);
            copy.Write(e.Unit, NpgsqlDbType.Varchar);
            copy.Write(UnitCost(prices, e), NpgsqlDbType.Numeric);
            copy.Write(e.Metadata, NpgsqlDbType.Jsonb);
            copy.Write(e.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz);
            if (ingestedAt is { } at)
                copy.Write(at, NpgsqlDbType.TimestampTz);
        }
        // No synchronization context runs here (a pipeline thread), so waiting on the task is safe.
        copy.CompleteAsync(stopped).AsTask().GetAwaiter().GetResult();
    }

    // Runs the ingest statement: it answers how many rows it inserted and which customers were removed.
    private static IngestResult ReadIngested(NpgsqlCommand command, IReadOnlyList<UsageEvent> events, DateTimeOffset now)
    {
        command.Parameters.AddWithValue("now", now.UtcDateTime);
        using var stop = StoreCancellation.Interrupting(command, static c => c.Cancel());
        using var reader = command.ExecuteReader();
        reader.Read();
        var inserted = (int)reader.GetInt64(0);
        var removed = new HashSet<string>(reader.GetFieldValue<string[]>(1), StringComparer.Ordinal);
        var rejected = events.Where(e => removed.Contains(e.CustomerId))
            .Select(e => new RejectedEvent(e, new UsageException(ErrorIds.CustomerRemoved, UsageErrorKind.InvalidOperation,
                $"Customer '{e.CustomerId}' was removed; usage for it is not accepted.", e.CustomerId)))
            .ToList();
        return new IngestResult(inserted, events.Count - rejected.Count - inserted, rejected, now);
    }

    // nself's unit_cost column carries the flat display price, so nself's own daily summary shows
    // a cost too (it was always 0 before).
    private static decimal UnitCost(ServiceCatalog prices, UsageEvent e) =>
        prices.TryFind(e.Service, out var service) && service.DisplayPrice < 10_000m ? decimal.Round(service.DisplayPrice, 6) : 0m;

    private static NpgsqlParameter Array<T>(string name, NpgsqlDbType type, IEnumerable<T> values) =>
        new(name, NpgsqlDbType.Array | type) { Value = values.ToArray() };

    // ---------------------------------------------------------------- reading

    // Keys loaded by one binary COPY into a table dropped at commit.
    private protected override T WithArchiveKeys<T>(SqlSession session, IReadOnlyList<(string CustomerId, string EventId)> keys, Func<T> work)
    {
        session.Execute("CREATE TEMP TABLE archive_keys (customer_id varchar(255), event_id varchar(255)) ON COMMIT DROP");
        using (var copy = ((NpgsqlConnection)session.Connection).BeginBinaryImport("COPY archive_keys (customer_id, event_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (customer, eventId) in keys)
            {
                copy.StartRow();
                copy.Write(customer, NpgsqlDbType.Varchar);
                copy.Write(eventId, NpgsqlDbType.Varchar);
            }
            copy.Complete();
        }
        return work();
    }

    // nself's billing_usage_daily_summary, so nself's own tools see current data. CONCURRENTLY
    // (nself's function) keeps the view readable during the refresh; it needs a populated view.
    private protected override string RefreshSummary(SqlSession session)
    {
        var populated = session.Scalar("SELECT ispopulated FROM pg_matviews WHERE matviewname = 'billing_usage_daily_summary'");
        using var refresh = session.Command(populated is true ? "SELECT refresh_billing_usage_summary()" : "REFRESH MATERIALIZED VIEW billing_usage_daily_summary");
        refresh.CommandTimeout = 0;
        using var stop = session.Stoppable(refresh);
        refresh.ExecuteNonQuery();
        return "billing_usage_daily_summary";
    }

    public void Dispose()
    {
    }
}
