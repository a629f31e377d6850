namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>Test-UsageStore -Verify and -Repair: the rollups recomputed from the stored events and tombstones.</summary>
public abstract partial class SqlStore
{
    private static readonly RollupGrain[] Grains = { RollupGrain.QuarterHour, RollupGrain.Day };

    /// <summary>
    /// The order PostgreSQL's rollup triggers really lock buckets in: the day first, then its
    /// quarter hours. Their comments say quarter hours first, but PostgreSQL runs a data-modifying
    /// CTE that the main statement does not read after the main statement (migration 12's daily
    /// INSERT is the main statement; in migration 9 both are such CTEs and the days' runs first).
    /// Observed with row locks on PostgreSQL 15; a repair that took quarter hours first deadlocked
    /// with ingestion in the contract test. Should the triggers change their order, this must too.
    /// (SQLite's writers hold the whole file: any order is safe there.)
    /// </summary>
    private static readonly RollupGrain[] LockOrder = { RollupGrain.Day, RollupGrain.QuarterHour };

    private RollupCheck.Dialect Check => new(Dialect.BucketStart);

    public IReadOnlyList<UsageStoreDifference> VerifyRollups(RollupScope scope) => InReadSession(reading =>
    {
        using var transaction = Dialect.BeginSnapshot(reading.Connection);
        var session = new SqlSession(reading.Connection, transaction, Dialect);
        var found = new List<UsageStoreDifference>();
        string Scope(string customer, string time) =>
            (scope.CustomerIds is null ? "1 = 1" : Dialect.AnyOf(customer, "customers"))
            + (scope.DayStart is null ? "" : $" AND {time} >= @start")
            + (scope.DayEnd is null ? "" : $" AND {time} < @end");
        (string, object?)[] parameters =
            [("customers", scope.CustomerIds is { } ids ? Dialect.TextList(ids) : null), ("start", scope.DayStart), ("end", scope.DayEnd)];
        foreach (var grain in Grains)
            found.AddRange(session.Query(RollupCheck.VerifySql(Check, grain, Scope), r => RollupCheck.Difference(grain, r.Text(0), r.Time(1), r.Text(2),
                r.LongOrNull(3), r.QuantityOrNull(4), r.QuantityOrNull(5), r.QuantityOrNull(6), r.LongOrNull(7) ?? 0,
                r.LongOrNull(8), r.QuantityOrNull(9), r.QuantityOrNull(10), r.QuantityOrNull(11)), parameters));
        if (!scope.HasPeriod)
        {
            // nself's schema let recorded_at be NULL (ours never does); such rows are in no
            // bucket. Reported so an operator sees them; never given a time here (that would invent one).
            found.AddRange(session.Query($"""
                SELECT customer_id, service_name, count(*), sum(quantity), min(quantity), max(quantity) FROM billing_usage_records
                WHERE recorded_at IS NULL AND {Scope("customer_id", "recorded_at")}
                GROUP BY 1, 2 ORDER BY 1, 2
                """, r => new UsageStoreDifference
            {
                CustomerId = r.Text(0),
                Service = r.Text(1),
                Kind = "NoTime",
                ExpectedEvents = r.Long(2),
                ExpectedQuantity = r.Quantity(3),
                ExpectedMinimum = r.Quantity(4),
                ExpectedMaximum = r.Quantity(5),
            }, parameters));
        }
        transaction.Commit();
        return (IReadOnlyList<UsageStoreDifference>)found;
    });

    public void RepairRollups(string customerId, DateTimeOffset day) => InWriteTransaction(session =>
    {
        var from = RollupCheck.Day(day);
        static string Scope(string customer, string time) => $"{customer} = @customer AND {time} >= @start AND {time} < @end";
        (string, object?)[] parameters = [("customer", customerId), ("start", from), ("end", from.AddDays(1))];
        // First the locks of every bucket of the batch, in the order the rollup triggers take them
        // (see LockOrder), keys ascending within a table: a writer that touched one has committed
        // by the time we hold it, and one that comes later waits and adds its delta after our commit.
        var held = new Dictionary<RollupGrain, List<(DateTimeOffset Start, string Service)>>();
        foreach (var grain in LockOrder)
            held[grain] = session.Query(RollupCheck.LockSql(Check, grain, Scope), r => (r.Time(0), r.Text(1)), parameters);
        // Then, in later statements (after every lock; on PostgreSQL under READ COMMITTED each reads
        // a fresh snapshot), the truth: only the held buckets are written.
        foreach (var step in new Func<RollupGrain, string, string>[]
                 {
                     (grain, h) => RollupCheck.OverwriteSql(Check, grain, Scope, h),
                     (grain, h) => RollupCheck.DeleteEmptySql(Check, grain, Scope, h),
                 })
            foreach (var grain in Grains)
                session.Execute(step(grain, Dialect.HeldBuckets(RollupTables.Name(grain))),
                    [.. parameters, ("held_starts", Dialect.TimeList(held[grain].Select(h => h.Start))), ("held_services", Dialect.TextList(held[grain].Select(h => h.Service)))]);
        return true;
    });
}
