namespace NSelf.Usage.Engine.Storage;

/// <summary>
/// What Test-UsageStore -Verify checks: some customers (none = every customer) over an optional
/// UTC interval, aligned outward to whole UTC days so that both rollup tables are compared over
/// the same events (a day bucket is whole or out).
/// </summary>
public sealed record RollupScope(IReadOnlyList<string>? CustomerIds = null, DateTimeOffset? Start = null, DateTimeOffset? End = null)
{
    public DateTimeOffset? DayStart => Start is { } s ? RollupCheck.Day(s) : null;

    public DateTimeOffset? DayEnd => End is { } e ? (RollupCheck.Day(e) == e.ToUniversalTime() ? e.ToUniversalTime() : RollupCheck.Day(e).AddDays(1)) : null;

    public bool HasPeriod => Start is not null || End is not null;
}

/// <summary>
/// The rollup recomputation both stores run: the same SQL, differing only in how a backend writes
/// a bucket and keeps quantities and times. The truth is the stored events that have a time plus
/// the tombstones of archived events, grouped by customer, bucket and service, exactly as the
/// rollup triggers and ingestion count them. A tombstone written before tombstones kept
/// quantities (PostgreSQL migration 8, SQLite 6) counts as an event of unknown quantity: its
/// bucket's events are checked, its quantity and extremes cannot be (they are the only record of
/// it) and a repair keeps them.
/// </summary>
public static class RollupCheck
{
    public static DateTimeOffset Day(DateTimeOffset at) => new(at.UtcDateTime.Date, TimeSpan.Zero);

    public static string GrainName(RollupGrain grain) => grain == RollupGrain.Day ? "Day" : "QuarterHour";

    /// <summary>How one backend writes the parts of the check.</summary>
    public sealed record Dialect(Func<RollupGrain, string, string> Bucket);

    /// <summary>
    /// The truth CTEs (e: events and tombstones, t: per bucket) and the stored rows (s), both
    /// limited by the scope's condition on a customer column and a time column (events' or buckets').
    /// </summary>
    private static string Sources(Dialect d, RollupGrain grain, Func<string, string, string> scope) =>
        $"""
        WITH e AS (
            SELECT customer_id, service_name, recorded_at, quantity, 0 AS legacy FROM billing_usage_records WHERE recorded_at IS NOT NULL AND {scope("customer_id", "recorded_at")}
            UNION ALL
            SELECT customer_id, service_name, recorded_at, quantity, CASE WHEN quantity IS NULL THEN 1 ELSE 0 END FROM usage_archived_events WHERE {scope("customer_id", "recorded_at")}
        ), t AS (
            SELECT customer_id, {d.Bucket(grain, "recorded_at")} AS bucket_start, service_name, count(*) AS events, sum(quantity) AS quantity,
                   min(quantity) AS min_quantity, max(quantity) AS max_quantity, sum(legacy) AS legacy
            FROM e GROUP BY customer_id, {d.Bucket(grain, "recorded_at")}, service_name
        ), s AS (
            SELECT customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity FROM {RollupTables.Name(grain)} WHERE {scope("customer_id", "bucket_start")}
        )
        """;

    /// <summary>Every bucket of a grain in scope whose stored row differs from the truth, ordered by key.</summary>
    public static string VerifySql(Dialect d, RollupGrain grain, Func<string, string, string> scope) =>
        Sources(d, grain, scope) + """
        , k AS (SELECT customer_id, bucket_start, service_name FROM t UNION SELECT customer_id, bucket_start, service_name FROM s)
        SELECT k.customer_id, k.bucket_start, k.service_name,
               t.events, t.quantity, t.min_quantity, t.max_quantity, t.legacy,
               s.events, s.quantity, s.min_quantity, s.max_quantity
        FROM k
        LEFT JOIN t ON t.customer_id = k.customer_id AND t.bucket_start = k.bucket_start AND t.service_name = k.service_name
        LEFT JOIN s ON s.customer_id = k.customer_id AND s.bucket_start = k.bucket_start AND s.service_name = k.service_name
        WHERE t.events IS NULL OR s.events IS NULL OR t.events <> s.events
           OR (t.legacy = 0 AND (t.quantity <> s.quantity OR t.min_quantity <> s.min_quantity OR t.max_quantity <> s.max_quantity))
        ORDER BY k.customer_id, k.bucket_start, k.service_name
        """;

    /// <summary>
    /// Repair, first step, per grain: every bucket of the batch that has events or a stored row,
    /// created if missing (a placeholder of no event, overwritten or deleted later in the same
    /// transaction) and otherwise touched, in key order, so that the transaction holds the row
    /// locks of all of them in the order the rollup triggers and ingestion take them. Returns the
    /// keys it holds.
    /// </summary>
    public static string LockSql(Dialect d, RollupGrain grain, Func<string, string, string> scope)
    {
        var table = RollupTables.Name(grain);
        return Sources(d, grain, scope) + $"""
            INSERT INTO {table} (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
            SELECT customer_id, bucket_start, service_name, 0, 0, 0, 0
            FROM (SELECT customer_id, bucket_start, service_name FROM t UNION SELECT customer_id, bucket_start, service_name FROM s) k
            WHERE true ORDER BY customer_id, bucket_start, service_name
            ON CONFLICT (customer_id, bucket_start, service_name) DO UPDATE SET events = {table}.events
            RETURNING bucket_start, service_name
            """;
    }

    /// <summary>
    /// Repair, second step, per grain, in a later statement than the locks (on PostgreSQL a fresh
    /// snapshot under READ COMMITTED): the held buckets get the truth; a placeholder whose truth
    /// holds a legacy tombstone is left at no event (its quantity is unknown: never invented).
    /// </summary>
    public static string OverwriteSql(Dialect d, RollupGrain grain, Func<string, string, string> scope, string held)
    {
        var table = RollupTables.Name(grain);
        return Sources(d, grain, scope) + $"""
            UPDATE {table} SET
                events = CASE WHEN t.legacy > 0 AND {table}.events = 0 THEN 0 ELSE t.events END,
                quantity = CASE WHEN t.legacy > 0 THEN {table}.quantity ELSE t.quantity END,
                min_quantity = CASE WHEN t.legacy > 0 THEN {table}.min_quantity ELSE t.min_quantity END,
                max_quantity = CASE WHEN t.legacy > 0 THEN {table}.max_quantity ELSE t.max_quantity END
            FROM t
            WHERE {table}.customer_id = t.customer_id AND {table}.bucket_start = t.bucket_start AND {table}.service_name = t.service_name
              AND {scope(table + ".customer_id", table + ".bucket_start")} AND {held}
            """;
    }

    /// <summary>Repair, last step: held buckets left with no event go.</summary>
    public static string DeleteEmptySql(Dialect d, RollupGrain grain, Func<string, string, string> scope, string held)
    {
        var table = RollupTables.Name(grain);
        return Sources(d, grain, scope) + $"""
            DELETE FROM {table}
            WHERE {scope(table + ".customer_id", table + ".bucket_start")} AND {held}
              AND ({table}.events <= 0 OR NOT EXISTS (SELECT 1 FROM t WHERE t.customer_id = {table}.customer_id AND t.bucket_start = {table}.bucket_start AND t.service_name = {table}.service_name))
            """;
    }

    /// <summary>One difference from a row of <see cref="VerifySql"/>, values already in the service's units.</summary>
    public static UsageStoreDifference Difference(RollupGrain grain, string customer, DateTimeOffset bucket, string service,
        long? expectedEvents, decimal? expectedQuantity, decimal? expectedMinimum, decimal? expectedMaximum, long legacy,
        long? storedEvents, decimal? storedQuantity, decimal? storedMinimum, decimal? storedMaximum)
    {
        var unknown = legacy > 0;
        return new UsageStoreDifference
        {
            Rollup = GrainName(grain),
            CustomerId = customer,
            Service = service,
            BucketStart = bucket.ToUniversalTime(),
            Kind = expectedEvents is null ? "Extra" : storedEvents is null ? "Missing" : "Different",
            ExpectedEvents = expectedEvents,
            StoredEvents = storedEvents,
            ExpectedQuantity = unknown ? null : Norm(expectedQuantity),
            StoredQuantity = Norm(storedQuantity),
            ExpectedMinimum = unknown ? null : Norm(expectedMinimum),
            StoredMinimum = Norm(storedMinimum),
            ExpectedMaximum = unknown ? null : Norm(expectedMaximum),
            StoredMaximum = Norm(storedMaximum),
        };
    }

    private static decimal? Norm(decimal? value) => value is { } v ? Ingestion.Quantities.Normalize(v) : null;

    /// <summary>A copy saying whether a repair made the bucket right.</summary>
    public static UsageStoreDifference WithRepaired(UsageStoreDifference d, bool repaired) => new()
    {
        Rollup = d.Rollup, CustomerId = d.CustomerId, Service = d.Service, BucketStart = d.BucketStart, Kind = d.Kind,
        ExpectedEvents = d.ExpectedEvents, StoredEvents = d.StoredEvents, ExpectedQuantity = d.ExpectedQuantity, StoredQuantity = d.StoredQuantity,
        ExpectedMinimum = d.ExpectedMinimum, StoredMinimum = d.StoredMinimum, ExpectedMaximum = d.ExpectedMaximum, StoredMaximum = d.StoredMaximum,
        Repaired = repaired,
    };

    /// <summary>
    /// Verifies a scope and rebuilds what differs, one customer and UTC day per transaction (its
    /// quarter hours and its day together), so a repair never holds many locks for long while
    /// writers run. <paramref name="approve"/> may decline a batch (ShouldProcess); a declined
    /// batch is neither repaired nor returned. Each returned difference says whether the bucket is
    /// right now (checked again after the batches): a bucket whose quantity only an old tombstone
    /// knew, and kind NoTime (in no bucket), stay unrepaired.
    /// </summary>
    public static IReadOnlyList<UsageStoreDifference> Repair(IUsageStore store, RollupScope scope,
        Func<string, DateTimeOffset, IReadOnlyList<UsageStoreDifference>, bool>? approve = null)
    {
        var found = store.VerifyRollups(scope);
        var done = new List<UsageStoreDifference>();
        foreach (var batch in found.Where(d => d.BucketStart is not null).GroupBy(d => (d.CustomerId, Day: Day(d.BucketStart!.Value))))
        {
            var items = batch.ToList();
            if (approve is not null && !approve(batch.Key.CustomerId, batch.Key.Day, items))
                continue;
            store.RepairRollups(batch.Key.CustomerId, batch.Key.Day);
            done.AddRange(items);
        }
        if (done.Count == 0)
            return found.Where(d => d.BucketStart is null).ToList();
        static (string?, string, DateTimeOffset?, string) Key(UsageStoreDifference d) => (d.Rollup, d.CustomerId, d.BucketStart, d.Service);
        var left = store.VerifyRollups(scope with { CustomerIds = done.Select(d => d.CustomerId).Distinct().ToList() }).Select(Key).ToHashSet();
        return done.Select(d => WithRepaired(d, !left.Contains(Key(d)))).Concat(found.Where(d => d.BucketStart is null)).ToList();
    }
}
