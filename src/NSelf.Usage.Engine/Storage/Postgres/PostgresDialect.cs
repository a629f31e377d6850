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

    // Read committed: a statement that waited for a lock sees what the holder committed.
    public override DbTransaction BeginWrite(DbConnection connection) => connection.BeginTransaction();

    private static readonly IReadOnlyList<MigrationScript> Scripts = MigrationScript.Load("postgres");

    public override IReadOnlyList<MigrationScript> Migrations => Scripts;

    // The advisory lock's key is "NSelf.Usage migrations" as a number; held to the end of the transaction.
    public override string MigrationLockSql => "SELECT pg_advisory_xact_lock(7315592011); ";

    public override string MigrationTableSql => """
        CREATE TABLE IF NOT EXISTS usage_schema_migrations (
            version    integer PRIMARY KEY,
            name       varchar(200) NOT NULL,
            checksum   char(64) NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """;

    public override string TableExistsSql => "SELECT CASE WHEN to_regclass(@table) IS NULL THEN 0 ELSE 1 END";

    public override bool IsMissingTable(DbException failure, string table) =>
        failure is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } e && e.MessageText.Contains(table, StringComparison.Ordinal);

    public override string MigrationFailure(DbException failure) => failure is PostgresException e
        ? e.MessageText + (e.SqlState == PostgresErrorCodes.InsufficientPrivilege ? ". Run Initialize-UsageStore once as the owner of the billing tables." : ".")
        : failure.Message;

    public override UsageException Translate(Exception failure, string location, bool writing) => PostgresConnections.Translate(failure, location, writing);

    public override string JsonTextOrNull(string column) => $"{column}::text";

    // An Unspecified DateTime is what Npgsql sends as timestamp (without time zone).
    public override object LocalTime(DateTime local) => DateTime.SpecifyKind(local, DateTimeKind.Unspecified);

    public override DateTime ReadLocalTime(DbDataReader reader, int ordinal) => DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Unspecified);

    // nself's subscriptions predate anchor_local; migration 4 fills it, rows written by nself since may lack it.
    public override string LocalTimeOr(string column, string instantColumn) => $"coalesce({column}, {instantColumn} AT TIME ZONE 'UTC')";

    // Seals come from a sequence: no row every finalization of every customer would queue on.
    public override string LedgerRecordedBy => "l.recorded_by || ' (role ' || l.db_role || ')'";

    public override string NextSealSql => "SELECT nextval('billing_seal_seq')";

    // The database's collation (often en_US) orders '_' and letters otherwise than code points.
    public override string Ordinal(string column) => column + " COLLATE \"C\"";

    // nself's billing_invoices.
    public override string InvoiceTaxColumn => "tax_amount";

    public override string InvoiceTotalColumn => "total_amount";

    public override bool HasNselfInvoiceColumns => true;

    public override string AnyOf(string column, string parameter) => $"{column} = ANY(@{parameter})";

    public override object TextList(IEnumerable<string?> values) => values.ToArray();

    public override object TimeList(IEnumerable<DateTimeOffset> values) => values.Select(v => Time(v)).Cast<DateTime>().ToArray();

    // Four arrays unnested side by side: PostgreSQL has no cheaper way to pass rows.
    public override string Slices => "unnest(@slice_idx, @slice_lo, @slice_hi, @slice_cust) AS s (idx, lo, hi, cust)";

    public override IEnumerable<(string Name, object? Value)> SliceParameters(IReadOnlyList<TimeSlice> slices)
    {
        yield return ("slice_idx", slices.Select(s => s.Index).ToArray());
        yield return ("slice_lo", TimeList(slices.Select(s => s.Start)));
        yield return ("slice_hi", TimeList(slices.Select(s => s.End)));
        yield return ("slice_cust", TextList(slices.Select(s => s.CustomerId)));
    }

    public override string JsonMember(string column, string parameter) => $"{column} ->> @{parameter}";

    public override object JsonMemberKey(string key) => key;

    // jsonb prints as {"a": 1}; give the same compact text as every other store.
    public override string StoredJson(string text) => Metadata.FromStore(text);

    // The planner chooses a sequential scan itself.
    public override string? StorageOrderScan => null;

    public override string MetadataKeys(string column, string alias) => $"jsonb_object_keys({column}) AS {alias}(key)";

    public override string IsJsonObject(string column) => $"jsonb_typeof({column}) = 'object'";

    // nself's idx_billing_usage_recorded (and, for one customer, the customer and time index) serves it.
    public override string RecentFirst => "recorded_at DESC";

    // Npgsql's Cancel is thread-safe: it sends PostgreSQL's cancel request for the statement in
    // flight, which then fails with 57014 while the connection stays usable for the pool.
    public override void Interrupt(DbCommand command) => command.Cancel();

    public override void Abandon(DbCommand command)
    {
        try { command.Cancel(); }
        catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or DbException or IOException) { }
    }

    public override string BucketStart(RollupGrain grain, string column) =>
        $"date_bin('{(grain == RollupGrain.Day ? "1 day" : "15 minutes")}', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')";

    // READ COMMITTED would give each statement a snapshot of its own.
    public override DbTransaction BeginSnapshot(DbConnection connection) =>
        ((NpgsqlConnection)connection).BeginTransaction(System.Data.IsolationLevel.RepeatableRead);

    // Writers lock rows, not the store: a bucket a writer created after the repair's locks is
    // left to that writer, whose delta is then its whole.
    public override string HeldBuckets(string table) =>
        $"({table}.bucket_start, {table}.service_name) IN (SELECT * FROM unnest(@held_starts, @held_services))";
}
