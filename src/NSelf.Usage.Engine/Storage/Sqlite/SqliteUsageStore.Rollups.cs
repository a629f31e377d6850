using System.Data;
using System.Globalization;
using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>Test-UsageStore -Verify and -Repair: the rollups recomputed from the stored events and tombstones.</summary>
public sealed partial class SqliteUsageStore
{
    // Buckets floored as the engine and migration 9 floor them (times before 1970 too).
    private static readonly RollupCheck.Dialect Check = new(
        (grain, column) =>
        {
            var width = grain == RollupGrain.Day ? DayMicros : QuarterHourMicros;
            return $"({column} - ((({column} % {width}) + {width}) % {width}))";
        }, Postgres: false);

    private static readonly RollupGrain[] Grains = { RollupGrain.QuarterHour, RollupGrain.Day };

    public IReadOnlyList<UsageStoreDifference> VerifyRollups(RollupScope scope)
    {
        using var connection = Reader();
        // One snapshot for both tables (WAL: a read transaction sees one commit point).
        using var transaction = connection.BeginTransaction(deferred: true);
        var found = new List<UsageStoreDifference>();
        var customers = scope.CustomerIds ?? Array.Empty<string>();
        string Scope(string customer, string time) =>
            (scope.CustomerIds is null ? "1 = 1" : $"{customer} IN ({string.Join(", ", customers.Select((_, i) => $"$c{i}"))})")
            + (scope.DayStart is null ? "" : $" AND {time} >= $start")
            + (scope.DayEnd is null ? "" : $" AND {time} < $end");
        foreach (var grain in Grains)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = RollupCheck.VerifySql(Check, grain, Scope);
            for (var i = 0; i < customers.Count; i++)
                command.Parameters.AddWithValue($"$c{i}", customers[i]);
            if (scope.DayStart is { } start)
                command.Parameters.AddWithValue("$start", Micros.From(start));
            if (scope.DayEnd is { } end)
                command.Parameters.AddWithValue("$end", Micros.From(end));
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                long? Long(int i) => reader.IsDBNull(i) ? null : reader.GetInt64(i);
                decimal? Quantity(int i) => reader.IsDBNull(i) ? null : Quantities.FromScaled(reader.GetInt64(i));
                found.Add(RollupCheck.Difference(grain, reader.GetString(0), Micros.ToInstant(reader.GetInt64(1)), reader.GetString(2),
                    Long(3), Quantity(4), Quantity(5), Quantity(6), Long(7) ?? 0, Long(8), Quantity(9), Quantity(10), Quantity(11)));
            }
        }
        // recorded_at is NOT NULL here (a NULL insert becomes the insert time): no NoTime rows.
        transaction.Commit();
        return found;
    }

    public void RepairRollups(string customerId, DateTimeOffset day)
    {
        var from = RollupCheck.Day(day);
        static string Scope(string customer, string time) => $"{customer} = $customer AND {time} >= $start AND {time} < $end";
        // One IMMEDIATE transaction per batch: every other writer waits for it, so what it reads
        // stays true until it commits, and no lock order matters. The same steps as PostgreSQL's.
        WriteTransaction((connection, transaction) =>
        {
            foreach (var sql in Grains.Select(g => RollupCheck.LockSql(Check, g, Scope))
                         .Concat(Grains.Select(g => RollupCheck.OverwriteSql(Check, g, Scope, "1 = 1")))
                         .Concat(Grains.Select(g => RollupCheck.DeleteEmptySql(Check, g, Scope, "1 = 1"))))
            {
                using var command = connection.CreateCommand();
                command.Transaction = transaction;
                command.CommandText = sql;
                command.Parameters.AddWithValue("$customer", customerId);
                command.Parameters.AddWithValue("$start", Micros.From(from));
                command.Parameters.AddWithValue("$end", Micros.From(from.AddDays(1)));
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                }
            }
            return true;
        });
    }
}
