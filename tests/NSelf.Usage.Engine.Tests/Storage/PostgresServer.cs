using Npgsql;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// The throwaway PostgreSQL server build.ps1 Test starts (its admin connection string is in
/// NSELF_TEST_POSTGRES). Each test gets a database of its own, dropped afterwards. Without a
/// server the PostgreSQL tests are skipped locally and fail when CI=true.
/// </summary>
public static class PostgresServer
{
    public static string? AdminConnectionString => Environment.GetEnvironmentVariable("NSELF_TEST_POSTGRES");

    public static void RequireServer()
    {
        if (AdminConnectionString is not null)
            return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("NSELF_TEST_POSTGRES is not set, and CI must run the PostgreSQL tests (run them through build.ps1 Test).");
        Skip.If(true, "No PostgreSQL test server (NSELF_TEST_POSTGRES is not set): run build.ps1 Test with the postgresql package installed.");
    }

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public static string CreateDatabase()
    {
        RequireServer();
        var name = "usage_test_" + Guid.NewGuid().ToString("n")[..16];
        using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            command.ExecuteNonQuery();
        }
        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    public static void Execute(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }

    public static T Scalar<T>(string connectionString, string sql)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return (T)command.ExecuteScalar()!;
    }

    public static void DropDatabase(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NSelf.Usage.Engine.Storage.Postgres.PostgresConnections.Forget(b => b.Database == name);
        NpgsqlConnection.ClearAllPools();
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }
}
