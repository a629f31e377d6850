using System.Data.Common;
using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage.Sql;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL's spelling of shared SQL: timestamptz, numeric for money and quantities, boolean,
/// jsonb, and row locks (several hosts write at once).
/// </summary>
internal sealed class PostgresDialect : SqlDialect
{
    public static readonly PostgresDialect Instance = new();

    public override object Time(DateTimeOffset instant) => NSelf.Usage.Engine.Time.Micros.Truncate(instant).UtcDateTime;

    public override DateTimeOffset ReadTime(DbDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    public override object Money(decimal amount) => amount;

    public override decimal ReadMoney(DbDataReader reader, int ordinal) => Quantities.Normalize(reader.GetDecimal(ordinal));

    public override object Quantity(decimal quantity) => quantity;

    public override decimal ReadQuantity(DbDataReader reader, int ordinal) => Quantities.Normalize(reader.GetDecimal(ordinal));

    public override object Bool(bool value) => value;

    public override bool ReadBool(DbDataReader reader, int ordinal) => reader.GetBoolean(ordinal);

    public override string ForUpdate => " FOR UPDATE";

    public override string NowSql => "now()";

    public override string Json(string parameter) => $"@{parameter}::jsonb";

    public override string JsonText(string column) => $"coalesce({column}, '{{}}'::jsonb)::text";

    public override bool IsUniqueViolation(Exception failure, string name) =>
        failure is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } e
        && (e.ConstraintName?.Contains(name, StringComparison.Ordinal) == true || e.MessageText.Contains(name, StringComparison.Ordinal));

    // ---- i16-b

    // Seals come from a sequence: no row every finalization of every customer would queue on.
    public override string NextSealSql => "SELECT nextval('billing_seal_seq')";

    // The database's collation (often en_US) orders '_' and letters otherwise than code points.
    public override string Ordinal(string column) => column + " COLLATE \"C\"";

    public override string TextOf(string column) => column + "::text";

    // nself's billing_invoices.
    public override string InvoiceTaxColumn => "tax_amount";

    public override string InvoiceTotalColumn => "total_amount";

    public override bool HasNselfInvoiceColumns => true;
}
