using System.Text;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    // nself's columns allow NULL unit, ingest time and metadata; ours never write one.
    private string RecordColumns => "event_id, customer_id, service_name, quantity, coalesce(unit, ''), recorded_at, " +
        $"coalesce(ingested_at, recorded_at), {Dialect.JsonText("metadata")}";

    private UsageRecord ReadRecord(SqlRow r) => new()
    {
        EventId = r.Text(0),
        CustomerId = r.Text(1),
        Service = r.Text(2),
        Quantity = r.Quantity(3),
        Unit = r.Text(4),
        Timestamp = r.Time(5),
        RecordedAt = r.Time(6),
        Metadata = Dialect.StoredJson(r.Text(7)),
    };

    public IReadOnlyList<UsageRecord> FindRecords(string customerId, IReadOnlyCollection<string> eventIds)
    {
        if (eventIds.Count == 0)
            return Array.Empty<UsageRecord>();
        return InReadSession(session => session.Query(
            $"SELECT {RecordColumns} FROM billing_usage_records WHERE customer_id = @customer AND {Dialect.AnyOf("event_id", "ids")}",
            ReadRecord, ("customer", customerId), ("ids", Dialect.TextList(eventIds))));
    }

    public long CountRecords(RecordQuery query) => InReadSession(session =>
    {
        var parameters = new List<(string, object?)>();
        return session.Count(RecordWhere("SELECT count(*) FROM billing_usage_records", query, parameters).ToString(), [.. parameters]);
    });

    public IEnumerable<UsageRecord> ReadRecords(RecordQuery query) => InReadStream(session =>
    {
        // A bulk read of at least an eighth of the table reads it in storage order where the
        // database needs telling: out-of-order events sit far from their index entries.
        var scan = Dialect.StorageOrderScan is { } hint && query.Bulk && query.Skip == 0 && query.First is null && ScanIsCheaper(session, query) ? hint : null;
        var parameters = new List<(string, object?)>();
        var sql = RecordWhere($"SELECT {RecordColumns} FROM billing_usage_records{scan}", query, parameters);
        sql.Append(scan is null ? " ORDER BY recorded_at, usage_id" : " ORDER BY usage_id");
        if (query.First is not null || query.Skip > 0)
        {
            // Both databases take LIMIT before OFFSET; "no limit" is the largest one.
            sql.Append(" LIMIT @first OFFSET @skip");
            parameters.Add(("first", query.First ?? long.MaxValue));
            parameters.Add(("skip", query.Skip));
        }
        return session.Stream(sql.ToString(), ReadRecord, [.. parameters]);
    });

    private bool ScanIsCheaper(SqlSession session, RecordQuery query)
    {
        var parameters = new List<(string, object?)>();
        var sql = RecordWhere("SELECT count(*), (SELECT coalesce(max(usage_id), 0) FROM billing_usage_records) FROM billing_usage_records", query, parameters);
        var (matching, highest) = session.Query(sql.ToString(), r => (r.Long(0), r.Long(1)), [.. parameters])[0];
        return matching * 8 >= highest;
    }

    public IEnumerable<(string Service, decimal Quantity)> ReadQuantities(UsageFilter filter, DateTimeOffset start, DateTimeOffset end) => InReadStream(session =>
    {
        var parameters = new List<(string, object?)>();
        var sql = RecordWhere("SELECT service_name, quantity FROM billing_usage_records", new RecordQuery(filter, start, end), parameters);
        sql.Append(" ORDER BY ").Append(Dialect.Ordinal("service_name")).Append(", quantity");
        return session.Stream(sql.ToString(), r => (r.Text(0), r.Quantity(1)), [.. parameters]);
    });

    private StringBuilder RecordWhere(string select, RecordQuery query, List<(string, object?)> parameters)
    {
        var sql = new StringBuilder(select).Append(" WHERE 1 = 1");
        AddFilter(sql, query.Filter, "", parameters);
        if (query.Start is { } start)
        {
            sql.Append(" AND recorded_at >= @start");
            parameters.Add(("start", start));
        }
        if (query.End is { } end)
        {
            sql.Append(" AND recorded_at < @end");
            parameters.Add(("end", end));
        }
        return sql;
    }

    /// <summary>A filter's conditions on columns of a table alias ("" or "r."); parameters null when they are bound already.</summary>
    private void AddFilter(StringBuilder sql, UsageFilter filter, string alias, List<(string, object?)>? parameters)
    {
        if (filter.CustomerId is not null)
        {
            sql.Append(" AND ").Append(alias).Append("customer_id = @customer");
            parameters?.Add(("customer", filter.CustomerId));
        }
        if (filter.Services is { Count: > 0 } services)
        {
            sql.Append(" AND ").Append(Dialect.AnyOf(alias + "service_name", "services"));
            parameters?.Add(("services", Dialect.TextList(services)));
        }
    }
}
