using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>The store contract against a real PostgreSQL database.</summary>
public sealed class PostgresUsageStoreTests : UsageStoreContract
{
    private readonly Dictionary<string, string> _databases = new();

    protected override IUsageStore OpenStore(string key = "main", TimeProvider? time = null)
    {
        if (!_databases.TryGetValue(key, out var connectionString))
            _databases[key] = connectionString = PostgresServer.CreateDatabase();
        return new PostgresUsageStore(connectionString, null, time ?? Time);
    }

    protected override void ExecuteSql(string sql, string key = "main") => PostgresServer.Execute(_databases[key], sql);

    protected override long CountSql(string sql, string key = "main") => Convert.ToInt64(PostgresServer.Scalar<object>(_databases[key], sql), System.Globalization.CultureInfo.InvariantCulture);

    protected override string TimeSql(DateTimeOffset at) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"'{at.UtcDateTime:yyyy-MM-dd HH:mm:ss.ffffff}Z'::timestamptz");

    public override void Dispose()
    {
        base.Dispose();
        foreach (var database in _databases.Values)
            PostgresServer.DropDatabase(database);
    }
}
