using System.Text;

namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    // CROSS JOIN with the join's conditions in WHERE: the same join to both planners, and the one
    // spelling that keeps the slices the outer loop on SQLite (see SqlDialect.Slices).
    private string SliceJoin(IReadOnlyList<TimeSlice> slices, string table, string alias, string time) =>
        $" FROM {Dialect.Slices} CROSS JOIN {table} {alias} WHERE {alias}.{time} >= s.lo AND {alias}.{time} < s.hi" +
        (TimeSlices.PerCustomer(slices) ? $" AND {alias}.customer_id = s.cust" : "");

    public IReadOnlyList<UsageTotal> SumRollups(UsageFilter filter, IReadOnlyList<TimeSlice> slices, RollupGrain grain)
    {
        if (slices.Count == 0)
            return Array.Empty<UsageTotal>();
        if (Dialect.SumsSliceBySlice)
            return SumRollupsSliceBySlice(filter, slices, grain);
        var parameters = new List<(string, object?)>(Dialect.SliceParameters(slices));
        var sql = new StringBuilder("SELECT s.idx, r.customer_id, r.service_name, CAST(NULL AS TEXT), CAST(sum(r.events) AS BIGINT), sum(r.quantity), min(r.min_quantity), max(r.max_quantity)")
            .Append(SliceJoin(slices, RollupTables.Name(grain), "r", "bucket_start"));
        AddFilter(sql, filter, "r.", parameters);
        sql.Append(" GROUP BY 1, 2, 3");
        return InReadSession(session => session.Query(sql.ToString(), ReadTotal, [.. parameters]));
    }

    /// <summary>The same sums read a slice at a time (see <see cref="SqlDialect.SumsSliceBySlice"/>).</summary>
    private List<UsageTotal> SumRollupsSliceBySlice(UsageFilter filter, IReadOnlyList<TimeSlice> slices, RollupGrain grain)
    {
        var perCustomer = TimeSlices.PerCustomer(slices);
        // The slice's own values are the first parameters, set for each run.
        var parameters = new List<(string, object?)> { ("lo", null), ("hi", null) };
        var sql = new StringBuilder("SELECT r.customer_id, r.service_name, CAST(sum(r.events) AS BIGINT), sum(r.quantity), min(r.min_quantity), max(r.max_quantity) FROM ")
            .Append(RollupTables.Name(grain)).Append(" r WHERE r.bucket_start >= @lo AND r.bucket_start < @hi");
        if (perCustomer)
        {
            sql.Append(" AND r.customer_id = @cust");
            parameters.Add(("cust", null));
        }
        AddFilter(sql, filter, "r.", parameters);
        sql.Append(" GROUP BY 1, 2");
        return InReadSession(session =>
        {
            using var snapshot = Dialect.BeginSnapshot(session.Connection);
            using var command = new SqlSession(session.Connection, snapshot, Dialect).Command(sql.ToString(), [.. parameters]);
            command.Prepare();
            var totals = new List<UsageTotal>();
            foreach (var slice in slices)
            {
                command.Parameters[0].Value = Dialect.Encode(slice.Start);
                command.Parameters[1].Value = Dialect.Encode(slice.End);
                if (perCustomer)
                    command.Parameters[2].Value = slice.CustomerId;
                var index = slice.Index;
                totals.AddRange(session.Read(command, r => new UsageTotal(index, r.Text(0), r.Text(1), null, r.Long(2), r.Quantity(3), r.Quantity(4), r.Quantity(5))));
            }
            return totals;
        });
    }

    public IReadOnlyList<UsageTotal> SumEvents(UsageFilter filter, IReadOnlyList<TimeSlice> slices, string? groupKey)
    {
        if (slices.Count == 0)
            return Array.Empty<UsageTotal>();
        var parameters = new List<(string, object?)>(Dialect.SliceParameters(slices));
        var group = groupKey is null ? "CAST(NULL AS TEXT)" : Dialect.JsonMember("e.metadata", "group");
        if (groupKey is not null)
            parameters.Add(("group", Dialect.JsonMemberKey(groupKey)));
        var sql = new StringBuilder($"SELECT s.idx, e.customer_id, e.service_name, {group} AS grp, count(*) AS n, sum(e.quantity) AS q, min(e.quantity) AS qmin, max(e.quantity) AS qmax")
            .Append(SliceJoin(slices, "billing_usage_records", "e", "recorded_at"));
        AddFilter(sql, filter, "e.", parameters);
        sql.Append(" GROUP BY 1, 2, 3, 4");
        if (groupKey is null)
        {
            // Archived events are gone from the stored ones but the rollups kept them, so the edges
            // of a read count their tombstones too, as the whole quarter hours between count them.
            // A restored event's tombstone went when it was stored again: none is counted twice.
            // (Tombstones keep no metadata: a grouped read, raw throughout, sees only stored events.)
            var archived = new StringBuilder("SELECT s.idx, a.customer_id, a.service_name, CAST(NULL AS TEXT), count(*), sum(a.quantity), min(a.quantity), max(a.quantity)")
                .Append(SliceJoin(slices, "usage_archived_events", "a", "recorded_at")).Append(" AND a.quantity IS NOT NULL");
            AddFilter(archived, filter, "a.", parameters: null); // the same parameters again
            archived.Append(" GROUP BY 1, 2, 3");
            sql = new StringBuilder("SELECT idx, customer_id, service_name, CAST(NULL AS TEXT), CAST(sum(n) AS BIGINT), sum(q), min(qmin), max(qmax) FROM (")
                .Append(sql).Append(" UNION ALL ").Append(archived).Append(") t GROUP BY 1, 2, 3");
        }
        return InReadSession(session => session.Query(sql.ToString(), ReadTotal, [.. parameters]));
    }

    private static UsageTotal ReadTotal(SqlRow r) =>
        new(r.Int(0), r.Text(1), r.Text(2), r.TextOrNull(3), r.Long(4), r.Quantity(5), r.Quantity(6), r.Quantity(7));
}
