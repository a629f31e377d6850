using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Sqlite;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>The store contract against a real SQLite file, plus what only SQLite has.</summary>
public sealed class SqliteUsageStoreTests : UsageStoreContract
{
    private readonly TempDirectory _directory = new();

    protected override IUsageStore OpenStore(string key = "main", TimeProvider? time = null) => new SqliteUsageStore(_directory.File(key + ".db"), time ?? Time);

    protected override void ExecuteSql(string sql, string key = "main")
    {
        using var connection = new SqliteConnection($"Data Source={_directory.File(key + ".db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected override long CountSql(string sql, string key = "main")
    {
        using var connection = new SqliteConnection($"Data Source={_directory.File(key + ".db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    protected override string TimeSql(DateTimeOffset at) => NSelf.Usage.Engine.Time.Micros.From(at).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public override void Dispose()
    {
        base.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public void MillionEventsOfOneMillionth_SumToExactlyOne()
    {
        var at = Clock.Utc(2026, 11, 2);
        for (var batch = 0; batch < 100; batch++)
            Store.Ingest(Enumerable.Range(0, 10_000).Select(i => Event("cus_m", "api", 0.000001m, at.AddSeconds(i), $"{batch}-{i}")).ToList());
        var summary = Assert.Single(Summaries("cus_m", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)));
        Assert.Equal((1m, 1_000_000L), (summary.Quantity, summary.Events));
        Assert.Equal("1", summary.Quantity.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void File_IsInWalModeSoReadersDoNotBlockTheWriter()
    {
        Store.GetServices();
        using var connection = new SqliteConnection($"Data Source={_directory.File("main.db")}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void ChangedMigration_IsReportedAsASchemaMismatch()
    {
        Store.GetServices();
        Store.Dispose();
        using (var connection = new SqliteConnection($"Data Source={_directory.File("main.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE usage_schema_migrations SET checksum = 'deadbeef0000deadbeef' WHERE version = 1";
            command.ExecuteNonQuery();
        }
        var reopened = Open();
        var e = Assert.Throws<UsageException>(() => reopened.GetServices());
        Assert.Equal(ErrorIds.StoreSchemaMismatch, e.ErrorId);
    }

    [Fact]
    public void UnwritableLocation_IsStoreUnavailable()
    {
        var blocker = _directory.File("not-a-folder");
        File.WriteAllText(blocker, "a file where a folder should be");
        using var store = new SqliteUsageStore(Path.Combine(blocker, "usage.db"), Time);
        var e = Assert.Throws<UsageException>(() => store.GetServices());
        Assert.Equal(ErrorIds.StoreUnavailable, e.ErrorId);
    }

    [Fact]
    public void Summaries_ReadRollupsNotRawRows()
    {
        // Change the rollups behind the store's back (a delete of the raw rows now takes them out
        // of the rollups too): whole-period summaries answer what the rollups say.
        Store.Ingest(new[] { Event("cus_a", "api", 3, Clock.Utc(2026, 11, 2, 10)) });
        ExecuteSql("UPDATE usage_rollups SET quantity = quantity * 2; UPDATE usage_rollups_daily SET quantity = quantity * 2");
        Assert.Equal(6m, Assert.Single(Summaries("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1))).Quantity);
    }
}
