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

    // ---- i16-b

    // SQLite has no sequences: one counter row, bumped in the write transaction that holds the file.
    public override string NextSealSql => "UPDATE billing_seal_counter SET last = last + 1 WHERE id = 1 RETURNING last";

    // SQLite's default collation (BINARY) already compares code points.
    public override string Ordinal(string column) => column;

    // SQLite keeps JSON as text.
    public override string TextOf(string column) => column;

    // The module's own table, named before nself's columns were known.
    public override string InvoiceTaxColumn => "tax";

    public override string InvoiceTotalColumn => "total";

    // No nself tool reads the SQLite store.
    public override bool HasNselfInvoiceColumns => false;
}
