using Npgsql;
using NpgsqlTypes;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;
using static NSelf.Usage.Engine.Storage.BillingText;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>The billing half of the PostgreSQL store, on nself's billing tables and the module's additions.</summary>
public sealed partial class PostgresUsageStore
{
    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static decimal? DecimalOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Ingestion.Quantities.Normalize(r.GetDecimal(i));

    private static decimal Dec(NpgsqlDataReader r, int i) => Ingestion.Quantities.Normalize(r.GetDecimal(i));

    private static DateTimeOffset? InstantOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : ToInstant(r.GetDateTime(i));

    private static NpgsqlCommand With(NpgsqlCommand command, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
            command.Parameters.Add(value is null ? new NpgsqlParameter(name, NpgsqlDbType.Unknown) { Value = DBNull.Value } : new NpgsqlParameter(name, value));
        return command;
    }

    private static List<T> Query<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = With(Command(connection, sql, transaction), parameters);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
            list.Add(read(reader));
        return list;
    }

    private List<T> Query<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object? Value)[] parameters) =>
        Run(writing: false, connection => Query(connection, null, sql, read, parameters));

    private static int Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = With(Command(connection, sql, transaction), parameters);
        return command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- invoices (the rest: Sql/SqlStore.Invoices.cs)

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) =>
        Query("""
            SELECT service_name FROM billing_usage_records
            WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e AND (billing_seal IS NULL OR billing_seal > @a)
            UNION
            SELECT service_name FROM usage_archived_events
            WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e AND (billing_seal IS NULL OR billing_seal > @a) AND quantity IS NOT NULL
            ORDER BY 1
            """,
            r => r.GetString(0), ("c", customerId), ("s", start.UtcDateTime), ("e", end.UtcDateTime), ("a", sealedAfter));
}
