using System.Data.Common;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>Money as a parameter value: a store keeps it exactly, as text or numeric.</summary>
internal readonly record struct MoneyValue(decimal Amount);

/// <summary>A usage quantity as a parameter value: a store keeps it exactly, scaled or numeric.</summary>
internal readonly record struct QuantityValue(decimal Amount);

/// <summary>
/// What really differs between the databases for the SQL both stores share: how values are
/// encoded, a few spellings, and which driver error means what. Everything else is written once
/// in <see cref="SqlStore"/>. Parameters are always named <c>@name</c>, which both drivers take.
/// </summary>
internal abstract class SqlDialect
{
    public abstract object Time(DateTimeOffset instant);

    public abstract DateTimeOffset ReadTime(DbDataReader reader, int ordinal);

    public abstract object Money(decimal amount);

    public abstract decimal ReadMoney(DbDataReader reader, int ordinal);

    public abstract object Quantity(decimal quantity);

    public abstract decimal ReadQuantity(DbDataReader reader, int ordinal);

    public abstract object Bool(bool value);

    public abstract bool ReadBool(DbDataReader reader, int ordinal);

    /// <summary>The row-lock clause of a SELECT inside a write ("" where the transaction holds the whole store).</summary>
    public abstract string ForUpdate { get; }

    /// <summary>The database's current time, for nself's rows that lack one.</summary>
    public abstract string NowSql { get; }

    /// <summary>A JSON parameter in a statement (PostgreSQL casts the text to jsonb).</summary>
    public abstract string Json(string parameter);

    /// <summary>A JSON column read as text, '{}' when it is NULL (nself's columns allow NULL).</summary>
    public abstract string JsonText(string column);

    /// <summary>Whether a failure is a unique-key violation of a constraint or column whose name contains <paramref name="name"/>.</summary>
    public abstract bool IsUniqueViolation(Exception failure, string name);

    /// <summary>Begins a write transaction the way this database's writers do.</summary>
    public abstract System.Data.Common.DbTransaction BeginWrite(System.Data.Common.DbConnection connection);

    /// <summary>The migration scripts of this database, in order.</summary>
    public abstract IReadOnlyList<MigrationScript> Migrations { get; }

    /// <summary>Statements that take the migration lock, run first in each migration's transaction ("" where the transaction itself is the lock).</summary>
    public abstract string MigrationLockSql { get; }

    /// <summary>Creates the migrations table if missing.</summary>
    public abstract string MigrationTableSql { get; }

    /// <summary>1 when the table @table exists, else 0.</summary>
    public abstract string TableExistsSql { get; }

    /// <summary>Whether a statement failed because the table <paramref name="table"/> does not exist (outside a transaction).</summary>
    public abstract bool IsMissingTable(System.Data.Common.DbException failure, string table);

    /// <summary>What a failed migration's message says about the failure (and what to do).</summary>
    public abstract string MigrationFailure(System.Data.Common.DbException failure);

    /// <summary>The one place this database's failures get their error ids: every store is wrapped in a translator using it.</summary>
    public abstract UsageException Translate(Exception failure, string location, bool writing);

    /// <summary>
    /// Stops the statement <paramref name="command"/> is running, from another thread (a stopped
    /// command's): PostgreSQL's cancel request, SQLite's interrupt of the connection.
    /// </summary>
    public abstract void Interrupt(DbCommand command);

    /// <summary>
    /// Readies a reader left before its end for a quick Dispose: nothing for SQLite (resetting a
    /// statement is instant); PostgreSQL cancels the query, as its reader would otherwise read
    /// every remaining row on Dispose. Never throws: the reader is being left anyway.
    /// </summary>
    public virtual void Abandon(DbCommand command)
    {
    }

    /// <summary>
    /// Whether sums over many slices are read one slice at a time (one prepared statement run per
    /// slice in one <see cref="BeginSnapshot"/>) rather than by one statement joining every slice
    /// (SqlStore.SumRollups). SQLite groups a joined read with one sort of every row it reads: at
    /// 10,000 customers, 360,000 rows sorted into 60,000 totals, most of Test-UsageQuota
    /// -AllCustomers; a slice at a time groups a few dozen rows and read the same totals 1.3-2.2
    /// times faster (decision 246). PostgreSQL plans the join once; a round trip per slice would cost more.
    /// </summary>
    public virtual bool SumsSliceBySlice => false;

    /// <summary>Turns a value a shared statement binds into what the driver takes.</summary>
    public object Encode(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset instant => Time(instant),
        bool flag => Bool(flag),
        MoneyValue money => Money(money.Amount),
        QuantityValue quantity => Quantity(quantity.Amount),
        // A bare decimal is a bug: each store keeps money and quantities differently.
        decimal => throw new ArgumentException("Bind a decimal as MoneyValue or QuantityValue.", nameof(value)),
        _ => value,
    };

    /// <summary>A JSON column read as text, NULL when it is NULL (a quota without price tiers).</summary>
    public abstract string JsonTextOrNull(string column);

    /// <summary>A wall-clock time without a zone (a subscription's local anchor) as a parameter value.</summary>
    public abstract object LocalTime(DateTime local);

    public abstract DateTime ReadLocalTime(DbDataReader reader, int ordinal);

    /// <summary>A wall-clock column, or an instant column's UTC wall clock where the first is NULL (nself's older rows).</summary>
    public abstract string LocalTimeOr(string column, string instantColumn);

    /// <summary>A statement that gives out the next billing seal, greater than any given before, as one row.</summary>
    public abstract string NextSealSql { get; }

    /// <summary>A column to ORDER BY in code-point order, whatever the database's collation (event ids order the same on every store).</summary>
    public abstract string Ordinal(string column);

    /// <summary>Who wrote a ledger entry (alias l): the writer's user@host, and on PostgreSQL the role it wrote as.</summary>
    public abstract string LedgerRecordedBy { get; }

    /// <summary>The tax and total columns of billing_invoices (nself's names on PostgreSQL).</summary>
    public abstract string InvoiceTaxColumn { get; }

    public abstract string InvoiceTotalColumn { get; }

    /// <summary>
    /// Whether billing_invoices has nself's columns the module fills for nself's own tools
    /// (discount_amount, updated_at, line_items).
    /// </summary>
    public abstract bool HasNselfInvoiceColumns { get; }

    /// <summary>A condition: the column's value is one of a list parameter (bound with <see cref="TextList"/> or <see cref="TimeList"/>).</summary>
    public abstract string AnyOf(string column, string parameter);

    /// <summary>A list of texts as one parameter value.</summary>
    public abstract object TextList(IEnumerable<string?> values);

    /// <summary>A list of instants as one parameter value.</summary>
    public abstract object TimeList(IEnumerable<DateTimeOffset> values);

    /// <summary>The time slices of a total as a table source <c>s (idx, lo, hi, cust)</c>, bound by <see cref="SliceParameters"/>.</summary>
    public abstract string Slices { get; }

    public abstract IEnumerable<(string Name, object? Value)> SliceParameters(IReadOnlyList<TimeSlice> slices);

    /// <summary>The text value of a JSON column's top-level member named by a parameter (bound with <see cref="JsonMemberKey"/>); NULL when absent or null.</summary>
    public abstract string JsonMember(string column, string parameter);

    public abstract object JsonMemberKey(string key);

    /// <summary>A stored event's metadata as the compact text every store gives.</summary>
    public abstract string StoredJson(string text);

    /// <summary>
    /// A FROM item, after the one with <paramref name="column"/>, of the keys of that JSON object
    /// column as <paramref name="alias"/>.key (SQLite: json_each; PostgreSQL: jsonb_object_keys).
    /// </summary>
    public abstract string MetadataKeys(string column, string alias);

    /// <summary>A condition that a JSON column holds an object (the keys of anything else are not metadata keys).</summary>
    public abstract string IsJsonObject(string column);

    /// <summary>An ORDER BY of usage events, most recently stored first, that an index (or the row order) serves.</summary>
    public abstract string RecentFirst { get; }

    /// <summary>The hint that makes the database read a table in storage order, or null when its planner needs none.</summary>
    public abstract string? StorageOrderScan { get; }

    /// <summary>The start of the rollup bucket of a time column, floored as the database's rollups floor it.</summary>
    public abstract string BucketStart(RollupGrain grain, string column);

    /// <summary>A read-only transaction in which every statement sees one snapshot.</summary>
    public abstract DbTransaction BeginSnapshot(DbConnection connection);

    /// <summary>
    /// A repair's condition on a rollup table's rows: only the buckets it locked (parameters
    /// held_starts and held_services, bound with <see cref="TimeList"/> and <see cref="TextList"/>).
    /// </summary>
    public abstract string HeldBuckets(string table);
}
