using System.Data.Common;
using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage.Sql;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>
/// SQLite's spelling of shared SQL: times as microseconds since the Unix epoch, quantities as
/// integers scaled to six decimals (exact sums in SQLite's 64-bit integers), money as invariant
/// text (SQLite has no exact decimal), flags as 0 and 1. Writers hold the whole file, so no row locks.
/// </summary>
internal sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    public override object Time(DateTimeOffset instant) => Micros.From(instant);

    public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) => Micros.ToInstant(reader.GetInt64(ordinal));

    public override object Money(decimal amount) => BillingText.Decimal(amount);

    public override decimal ReadMoney(DbDataReader reader, int ordinal) => BillingText.Decimal(reader.GetString(ordinal));

    public override object Quantity(decimal quantity) => Quantities.ToScaled(quantity);

    public override decimal ReadQuantity(DbDataReader reader, int ordinal) => Quantities.FromScaled(reader.GetInt64(ordinal));

    public override object Bool(bool value) => value ? 1L : 0L;

    public override bool ReadBool(DbDataReader reader, int ordinal) => reader.GetInt64(ordinal) != 0;

    public override string ForUpdate => "";

    public override string NowSql => "(CAST(strftime('%s', 'now') AS INTEGER) * 1000000)";

    public override string Json(string parameter) => "@" + parameter;

    public override string JsonText(string column) => $"coalesce({column}, '{{}}')";

    // SQLITE_CONSTRAINT (19); SQLite names the table and column in its message.
    public override bool IsUniqueViolation(Exception failure, string name) =>
        failure is SqliteException { SqliteErrorCode: 19 } e && e.Message.Contains(name, StringComparison.Ordinal);

    // IMMEDIATE: the write lock is taken at the start, so writers queue on the busy timeout
    // instead of failing to upgrade a read lock.
    public override DbTransaction BeginWrite(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);

    public override bool SumsSliceBySlice => true;

    private static readonly IReadOnlyList<MigrationScript> Scripts = MigrationScript.Load("sqlite");

    public override IReadOnlyList<MigrationScript> Migrations => Scripts;

    // A write transaction is IMMEDIATE: it holds the file's write lock from its start.
    public override string MigrationLockSql => "";

    public override string MigrationTableSql => """
        CREATE TABLE IF NOT EXISTS usage_schema_migrations (
            version    INTEGER NOT NULL PRIMARY KEY,
            name       TEXT    NOT NULL,
            checksum   TEXT    NOT NULL,
            applied_at INTEGER NOT NULL
        );
        """;

    public override string TableExistsSql => "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = @table";

    // SQLITE_ERROR with the table named: the statement could not be prepared.
    public override bool IsMissingTable(DbException failure, string table) =>
        failure is SqliteException { SqliteErrorCode: 1 } e && e.Message.Contains("no such table: " + table, StringComparison.Ordinal);

    public override string MigrationFailure(DbException failure) => failure.Message.TrimEnd('.') + ".";

    public override UsageException Translate(Exception failure, string location, bool writing) => SqliteFailures.Translate(failure, location, writing);
    public override string JsonTextOrNull(string column) => column;

    // SQLite has no timestamp type: the local anchor is kept as 'yyyy-MM-ddTHH:mm:ss' text.
    public override object LocalTime(DateTime local) => BillingText.AnchorText(local);

    public override DateTime ReadLocalTime(DbDataReader reader, int ordinal) => BillingText.Anchor(reader.GetString(ordinal));

    // Our anchor_local is NOT NULL; only nself's PostgreSQL rows can lack one.
    public override string LocalTimeOr(string column, string instantColumn) => column;

    // SQLite has no sequences: one counter row, bumped in the write transaction that holds the file.
    public override string LedgerRecordedBy => "l.recorded_by";

    public override string NextSealSql => "UPDATE billing_seal_counter SET last = last + 1 WHERE id = 1 RETURNING last";

    // SQLite's default collation (BINARY) already compares code points.
    public override string Ordinal(string column) => column;

    // SQLite keeps JSON as text.

    // The module's own table, named before nself's columns were known.
    public override string InvoiceTaxColumn => "tax";

    public override string InvoiceTotalColumn => "total";

    // No nself tool reads the SQLite store.
    public override bool HasNselfInvoiceColumns => false;

    // SQLite has no array parameters: lists travel as one JSON array.
    public override string AnyOf(string column, string parameter) => $"{column} IN (SELECT value FROM json_each(@{parameter}))";

    public override object TextList(IEnumerable<string?> values) => System.Text.Json.JsonSerializer.Serialize(values);

    public override object TimeList(IEnumerable<DateTimeOffset> values) => System.Text.Json.JsonSerializer.Serialize(values.Select(Micros.From));

    // One JSON parameter. Totals join it with CROSS JOIN, which SQLite never reorders: each slice
    // stays the outer loop, one range seek on the time-ordered index instead of a scan per slice.
    public override string Slices =>
        "(SELECT json_extract(value, '$[0]') AS idx, json_extract(value, '$[1]') AS lo, json_extract(value, '$[2]') AS hi, json_extract(value, '$[3]') AS cust FROM json_each(@slices)) s";

    public override IEnumerable<(string Name, object? Value)> SliceParameters(IReadOnlyList<TimeSlice> slices)
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
        yield return ("slices", System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    // json_extract gives JSON booleans as 1 and 0: spelled as PostgreSQL's ->> spells them.
    public override string JsonMember(string column, string parameter) =>
        $"CASE json_type({column}, @{parameter}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN NULL ELSE CAST(json_extract({column}, @{parameter}) AS TEXT) END";

    public override object JsonMemberKey(string key) =>
        "$.\"" + key.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    // This store writes metadata compact already; no foreign writer changes it.
    public override string StoredJson(string text) => text;

    // Events arriving out of time order sit far from their index entries: a bulk read of a large
    // share of the table through the time index costs a random page per event.
    public override string? StorageOrderScan => " NOT INDEXED";

    public override string MetadataKeys(string column, string alias) => $"json_each({column}) AS {alias}";

    public override string IsJsonObject(string column) => $"json_valid({column}) AND json_type({column}) = 'object'";

    // Rows are appended in rowid order, so the newest rowids are the most recently stored events,
    // read from the end of the table with no sort; this store has no index on recorded_at alone.
    public override string RecentFirst => "rowid DESC";

    // SqliteCommand.Cancel does nothing (its documentation says so); sqlite3_interrupt is SQLite's
    // thread-safe way to stop what a connection runs: the statement fails with SQLITE_INTERRUPT,
    // and a write transaction it was part of is rolled back by SQLite itself.
    public override void Interrupt(DbCommand command)
    {
        if (command.Connection is SqliteConnection { Handle: { } handle })
            SQLitePCL.raw.sqlite3_interrupt(handle);
    }

    /// <summary>
    /// Makes every statement <paramref name="connection"/> runs look at the stop of the command it
    /// runs for, every <see cref="StepsBetweenLooks"/> steps of SQLite's machine, and end as
    /// interrupted once it is stopped.
    /// </summary>
    /// <remarks>
    /// sqlite3_interrupt alone misses stops: SQLite clears the flag when a statement starts on a
    /// connection where none was running. A stop that came while a statement was prepared or bound,
    /// or between two statements of a loop, was lost, and the statement then ran to its end (an
    /// all-time report stopped there took 463 ms). A statement on its way now sees the stop within
    /// a few thousand steps.
    /// </remarks>
    public static void EndStatementsWhenStopped(SqliteConnection connection) =>
        SQLitePCL.raw.sqlite3_progress_handler(connection.Handle, StepsBetweenLooks, LookForStop, null);

    private const int StepsBetweenLooks = 1000;

    // Runs on the thread stepping the statement, which is the command's thread: its ambient token is the command's.
    private static readonly SQLitePCL.delegate_progress LookForStop = static _ => StoreCancellation.Current.IsCancellationRequested ? 1 : 0;

    // Floored as the engine and migration 9 floor them (times before 1970 too).
    public override string BucketStart(RollupGrain grain, string column)
    {
        var width = grain == RollupGrain.Day ? 24L * 60 * 60 * 1_000_000 : 15L * 60 * 1_000_000;
        return $"({column} - ((({column} % {width}) + {width}) % {width}))";
    }

    // DEFERRED: a read takes no write lock; in WAL mode its first statement fixes the snapshot.
    public override DbTransaction BeginSnapshot(DbConnection connection) => ((SqliteConnection)connection).BeginTransaction(deferred: true);

    // A write transaction holds the whole file: no bucket can appear between a repair's locks
    // and its overwrite, so every bucket of the batch is held.
    public override string HeldBuckets(string table) => "1 = 1";
}
