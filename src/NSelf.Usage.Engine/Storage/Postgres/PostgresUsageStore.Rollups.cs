using Npgsql;
using NpgsqlTypes;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>Test-UsageStore -Verify and -Repair: the rollups recomputed from the stored events and tombstones.</summary>
public sealed partial class PostgresUsageStore
{
    private static readonly RollupCheck.Dialect Check = new(
        (grain, column) => $"date_bin('{(grain == RollupGrain.Day ? "1 day" : "15 minutes")}', {column}, TIMESTAMPTZ '2000-01-01 00:00:00+00')", Postgres: true);

    private static readonly RollupGrain[] Grains = { RollupGrain.QuarterHour, RollupGrain.Day };

    /// <summary>
    /// The order the rollup triggers really lock buckets in: the day first, then its quarter
    /// hours. Their comments say quarter hours first, but PostgreSQL runs a data-modifying CTE
    /// that the main statement does not read after the main statement (migration 12's daily
    /// INSERT is the main statement; in migration 9 both are such CTEs and the days' runs first).
    /// Observed with row locks on PostgreSQL 15; a repair that took quarter hours first deadlocked
    /// with ingestion in the contract test. Should the triggers change their order, this must too.
    /// </summary>
    private static readonly RollupGrain[] LockOrder = { RollupGrain.Day, RollupGrain.QuarterHour };

    public IReadOnlyList<UsageStoreDifference> VerifyRollups(RollupScope scope) => Run(writing: false, connection =>
    {
        var found = new List<UsageStoreDifference>();
        string Scope(string customer, string time) =>
            (scope.CustomerIds is null ? "true" : $"{customer} = ANY(@customers)")
            + (scope.DayStart is null ? "" : $" AND {time} >= @start")
            + (scope.DayEnd is null ? "" : $" AND {time} < @end");
        void Bind(NpgsqlCommand command)
        {
            if (scope.CustomerIds is not null)
                command.Parameters.Add(new NpgsqlParameter("customers", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = scope.CustomerIds.ToArray() });
            if (scope.DayStart is { } start)
                command.Parameters.Add(new NpgsqlParameter("start", NpgsqlDbType.TimestampTz) { Value = start.UtcDateTime });
            if (scope.DayEnd is { } end)
                command.Parameters.Add(new NpgsqlParameter("end", NpgsqlDbType.TimestampTz) { Value = end.UtcDateTime });
        }
        foreach (var grain in Grains)
        {
            using var command = Command(connection, RollupCheck.VerifySql(Check, grain, Scope));
            Bind(command);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
                decimal? Dec(int i) => reader.IsDBNull(i) ? null : reader.GetDecimal(i);
                found.Add(RollupCheck.Difference(grain, reader.GetString(0), Utc(reader.GetDateTime(1)), reader.GetString(2),
                    Long(3), Dec(4), Dec(5), Dec(6), Long(7) ?? 0, Long(8), Dec(9), Dec(10), Dec(11)));
            }
        }
        if (!scope.HasPeriod)
        {
            // nself's schema let recorded_at be NULL; such rows are in no bucket. Reported so an
            // operator sees them; never given a time here (that would invent one).
            using var command = Command(connection, $"""
                SELECT customer_id, service_name, count(*), sum(quantity), min(quantity), max(quantity) FROM billing_usage_records
                WHERE recorded_at IS NULL AND {(scope.CustomerIds is null ? "true" : "customer_id = ANY(@customers)")}
                GROUP BY 1, 2 ORDER BY 1, 2
                """);
            Bind(command);
            using var reader = command.ExecuteReader();
            while (reader.Read())
                found.Add(new UsageStoreDifference
                {
                    CustomerId = reader.GetString(0),
                    Service = reader.GetString(1),
                    Kind = "NoTime",
                    ExpectedEvents = reader.GetInt64(2),
                    ExpectedQuantity = Ingestion.Quantities.Normalize(reader.GetDecimal(3)),
                    ExpectedMinimum = Ingestion.Quantities.Normalize(reader.GetDecimal(4)),
                    ExpectedMaximum = Ingestion.Quantities.Normalize(reader.GetDecimal(5)),
                });
        }
        return (IReadOnlyList<UsageStoreDifference>)found;
    });

    public void RepairRollups(string customerId, DateTimeOffset day) => Write((connection, transaction) =>
    {
        var from = RollupCheck.Day(day);
        static string Scope(string customer, string time) => $"{customer} = @customer AND {time} >= @start AND {time} < @end";
        NpgsqlCommand Prepared(string sql)
        {
            var command = Command(connection, sql, transaction);
            command.Parameters.Add(new NpgsqlParameter("customer", NpgsqlDbType.Varchar) { Value = customerId });
            command.Parameters.Add(new NpgsqlParameter("start", NpgsqlDbType.TimestampTz) { Value = from.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter("end", NpgsqlDbType.TimestampTz) { Value = from.AddDays(1).UtcDateTime });
            return command;
        }
        // READ COMMITTED (the default): each statement below reads a fresh snapshot. First the
        // locks of every bucket of the batch, in the order the rollup triggers take them (see
        // LockOrder), keys ascending within a table: a writer that touched one has committed by the time we
        // hold it, and one that comes later waits and adds its delta after our commit.
        var held = new Dictionary<RollupGrain, (DateTime[] Starts, string[] Services)>();
        foreach (var grain in LockOrder)
        {
            using var command = Prepared(RollupCheck.LockSql(Check, grain, Scope));
            var starts = new List<DateTime>();
            var services = new List<string>();
            using (var reader = command.ExecuteReader())
                while (reader.Read())
                {
                    starts.Add(reader.GetDateTime(0));
                    services.Add(reader.GetString(1));
                }
            held[grain] = (starts.ToArray(), services.ToArray());
        }
        // Then, in later statements (after every lock), the truth: only the held buckets are
        // written, so a bucket a writer created since is left to that writer, whose delta is then its whole.
        foreach (var step in new Func<RollupGrain, string, string>[]
                 {
                     (grain, h) => RollupCheck.OverwriteSql(Check, grain, Scope, h),
                     (grain, h) => RollupCheck.DeleteEmptySql(Check, grain, Scope, h),
                 })
            foreach (var grain in Grains)
            {
                var table = RollupTables.Name(grain);
                using var command = Prepared(step(grain, $"({table}.bucket_start, {table}.service_name) IN (SELECT * FROM unnest(@held_starts, @held_services))"));
                command.Parameters.Add(new NpgsqlParameter("held_starts", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz) { Value = held[grain].Starts });
                command.Parameters.Add(new NpgsqlParameter("held_services", NpgsqlDbType.Array | NpgsqlDbType.Varchar) { Value = held[grain].Services });
                command.ExecuteNonQuery();
            }
        return true;
    });

    private static DateTimeOffset Utc(DateTime at) => new(DateTime.SpecifyKind(at, DateTimeKind.Utc));
}
