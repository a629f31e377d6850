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

    // ---- i16-a


    // IMMEDIATE: the write lock is taken at the start, so writers queue on the busy timeout
    // instead of failing to upgrade a read lock.
    public override DbTransaction BeginWrite(DbConnection connection) =>
        ((SqliteConnection)connection).BeginTransaction(System.Data.IsolationLevel.Serializable, deferred: false);

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

    public override string MigrationFailure(DbException failure) => failure.Message.TrimEnd('.') + ".";

    public override UsageException Translate(Exception failure, string location, bool writing) => SqliteFailures.Translate(failure, location, writing);
    public override string JsonTextOrNull(string column) => column;

    // SQLite has no timestamp type: the local anchor is kept as 'yyyy-MM-ddTHH:mm:ss' text.
    public override object LocalTime(DateTime local) => BillingText.AnchorText(local);

    public override DateTime ReadLocalTime(DbDataReader reader, int ordinal) => BillingText.Anchor(reader.GetString(ordinal));

    // Our anchor_local is NOT NULL; only nself's PostgreSQL rows can lack one.
    public override string LocalTimeOr(string column, string instantColumn) => column;

    // ---- i16-b

    // SQLite has no sequences: one counter row, bumped in the write transaction that holds the file.
    public override string NextSealSql => "UPDATE billing_seal_counter SET last = last + 1 WHERE id = 1 RETURNING last";

    // SQLite's default collation (BINARY) already compares code points.
    public override string Ordinal(string column) => column;

    // SQLite keeps JSON as text.

    // The module's own table, named before nself's columns were known.
    public override string InvoiceTaxColumn => "tax";

    public override string InvoiceTotalColumn => "total";

    // No nself tool reads the SQLite store.
    public override bool HasNselfInvoiceColumns => false;
}
