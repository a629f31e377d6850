using System.Globalization;
using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;
using static NSelf.Usage.Engine.Storage.BillingText;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>The billing half of the SQLite store: plans, quotas, subscriptions, alerts, invoices.</summary>
public sealed partial class SqliteUsageStore
{
    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static decimal? DecimalOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : BillingText.Decimal(reader.GetString(i));

    private static DateTimeOffset? InstantOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : Micros.ToInstant(reader.GetInt64(i));

    private static long? MicrosOrNull(DateTimeOffset? instant) => instant is { } i ? Micros.From(i) : null;

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var connection = Reader();
        return Query(connection, null, sql, read, parameters);
    }

    private static List<T> Query<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, Db(value));
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
            list.Add(read(reader));
        return list;
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, Db(value));
        return command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- invoices (the rest: Sql/SqlStore.Invoices.cs)

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) =>
        Query("""
            SELECT service_name FROM billing_usage_records
            WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e AND (billing_seal IS NULL OR billing_seal > $a)
            UNION
            SELECT service_name FROM usage_archived_events
            WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e AND (billing_seal IS NULL OR billing_seal > $a) AND quantity IS NOT NULL
            ORDER BY 1
            """,
            r => r.GetString(0), ("$c", customerId), ("$s", Micros.From(start)), ("$e", Micros.From(end)), ("$a", sealedAfter));
}
