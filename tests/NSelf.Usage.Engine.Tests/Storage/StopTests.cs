using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Npgsql;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Storage.Sql;
using NSelf.Usage.Engine.Storage.Sqlite;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// A stopped command (Ctrl+C; <see cref="StoreCancellation"/>) stops the statement it is running
/// at once on both stores (100 ms on SQLite; see PostgresBound), and what reaches the caller is a
/// cancellation, never a store failure.
/// </summary>
[Collection(nameof(StopTests))]
public sealed class StopTests : IDisposable
{
    // Ctrl+C must feel immediate (issue 17 item 6).
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(100);

    // PostgreSQL's cancel request travels on a new connection (its own start-up and password
    // exchange), and xUnit runs other classes beside this one: under that load one stop took
    // 468 ms in CI. The statement would run 20 s, so a second still proves the cancel; the
    // user-facing 100 ms is measured in tests/pester/Stop.Tests.ps1, one command at a time.
    private static readonly TimeSpan PostgresBound = TimeSpan.FromMilliseconds(1000);

    private static readonly TimeSpan LeftEarlyBound = TimeSpan.FromMilliseconds(1000);

    // Long enough (tens of seconds) that only an interrupt ends them within the bound, short enough
    // that a test failing without the interrupt still ends.
    private const string LongSqliteQuery = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 300000000) SELECT count(*) FROM n";
    private const string LongPostgresQuery = "SELECT pg_sleep(20)";

    private readonly TempDirectory _directory = new();
    private string? _database;

    public void Dispose()
    {
        if (_database is not null)
            PostgresServer.DropDatabase(_database);
        _directory.Dispose();
    }

    /// <summary>Runs <paramref name="work"/> as a stoppable command on another thread, stops it once it runs, and returns how long the stop took and how it ended.</summary>
    /// <remarks>
    /// The caller runs a statement on the session first: run alone, this test once spent 430 ms of
    /// its 300 ms wait in the first statement's one-time costs (loading and compiling the driver's
    /// command path), so the stop came before the statement and the test measured that statement's
    /// own end instead. The work gets its own thread, not a pool thread another test may hold up.
    /// </remarks>
    private static (TimeSpan Stop, Exception? Outcome) StopWhileRunning(Action work, TimeSpan running)
    {
        using var stopping = new CancellationTokenSource();
        var task = Task.Factory.StartNew(() =>
        {
            using var scope = StoreCancellation.Enter(stopping.Token);
            work();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        Thread.Sleep(running);
        Assert.False(task.IsCompleted, "the statement ended before it was stopped: " + task.Exception?.GetBaseException().Message);
        var clock = Stopwatch.StartNew();
        stopping.Cancel();
        try { task.Wait(TimeSpan.FromSeconds(60)); } catch (AggregateException) { }
        clock.Stop();
        return (clock.Elapsed, task.Exception?.GetBaseException());
    }

    [Fact]
    public void Sqlite_StoppedCommand_InterruptsItsRunningStatementWithinTheBound()
    {
        using var connection = new SqliteConnection($"Data Source={_directory.File("stop.db")}");
        connection.Open();
        var session = new SqlSession(connection, null, SqliteDialect.Instance);
        Assert.Equal(1L, session.Scalar("SELECT 1")); // warm (see StopWhileRunning)

        var (stop, outcome) = StopWhileRunning(() => session.Scalar(LongSqliteQuery), TimeSpan.FromMilliseconds(300));

        Assert.True(stop < Bound, $"the stop took {stop.TotalMilliseconds:F0} ms and ended with {outcome?.GetType().Name}: {outcome?.Message}");
        var interrupted = Assert.IsType<SqliteException>(outcome);
        Assert.Equal(9, interrupted.SqliteErrorCode); // SQLITE_INTERRUPT
        Assert.Equal(1L, session.Scalar("SELECT 1")); // the connection is usable afterwards
    }

    [Fact]
    public void Sqlite_StopThatNoInterruptReaches_StillEndsTheStatement()
    {
        // sqlite3_interrupt is forgotten when a statement starts on an idle connection: a stop that
        // came while the statement was prepared or bound reached nothing. The progress handler the
        // store sets on every connection looks at the stop itself.
        using var connection = new SqliteConnection($"Data Source={_directory.File("handler.db")}");
        connection.Open();
        SqliteDialect.EndStatementsWhenStopped(connection);
        using var command = connection.CreateCommand();
        command.CommandText = LongSqliteQuery;
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();
        var clock = Stopwatch.StartNew();
        using (StoreCancellation.Enter(stopping.Token))
        {
            var interrupted = Assert.Throws<SqliteException>(() => command.ExecuteScalar()); // no registration: the handler alone
            Assert.Equal(9, interrupted.SqliteErrorCode); // SQLITE_INTERRUPT
        }
        Assert.True(clock.Elapsed < Bound, $"the statement ended after {clock.Elapsed.TotalMilliseconds:F0} ms");
        // Outside the stopped command the connection runs statements again.
        command.CommandText = "SELECT 1";
        Assert.Equal(1L, command.ExecuteScalar());
    }

    [SkippableFact]
    public void Postgres_StoppedCommand_CancelsItsRunningStatementWithinTheBound()
    {
        _database = PostgresServer.CreateDatabase();
        using var connection = new NpgsqlConnection(_database);
        connection.Open();
        var session = new SqlSession(connection, null, PostgresDialect.Instance);
        Assert.Equal(1, session.Scalar("SELECT 1")); // warm (see StopWhileRunning)

        var (stop, outcome) = StopWhileRunning(() => session.Scalar(LongPostgresQuery), TimeSpan.FromMilliseconds(300));

        Assert.True(stop < PostgresBound, $"the stop took {stop.TotalMilliseconds:F0} ms");
        Assert.True(outcome is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } or OperationCanceledException,
            $"ended with {outcome?.GetType().Name}: {outcome?.Message}");
        Assert.Equal(1, session.Scalar("SELECT 1")); // the connection is usable afterwards (back to the pool, not broken)
    }

    [SkippableFact]
    public void Postgres_StreamLeftEarly_CancelsTheRestInsteadOfReadingIt()
    {
        _database = PostgresServer.CreateDatabase();
        using var connection = new NpgsqlConnection(_database);
        connection.Open();
        var session = new SqlSession(connection, null, PostgresDialect.Instance);
        // Npgsql's reader reads every remaining row when it is disposed: 30 million rows take seconds.
        var rows = session.Stream("SELECT g FROM generate_series(1, 30000000) g", row => row.Long(0));

        using (var reading = rows.GetEnumerator())
        {
            Assert.True(reading.MoveNext());
            var clock = Stopwatch.StartNew();
            reading.Dispose(); // what Select-Object -First 1 does to an export's stream
            clock.Stop();
            // Without the cancel, Dispose reads the remaining rows: seconds. With it, the server's
            // answer to the cancel request, measured at 6 to 30 ms idle and 160 to 250 ms with a
            // load average of 25 on this 2-core machine: a bound that tells the two apart.
            Assert.True(clock.Elapsed < LeftEarlyBound, $"leaving the stream took {clock.Elapsed.TotalMilliseconds:F0} ms");
        }
        Assert.Equal(1, session.Scalar("SELECT 1"));
    }

    [SkippableFact]
    public void Postgres_StoppedStream_ReadsNoFurtherRow()
    {
        _database = PostgresServer.CreateDatabase();
        using var connection = new NpgsqlConnection(_database);
        connection.Open();
        var session = new SqlSession(connection, null, PostgresDialect.Instance);
        using var stopping = new CancellationTokenSource();
        using var scope = StoreCancellation.Enter(stopping.Token);
        var rows = session.Stream("SELECT g FROM generate_series(1, 5000000) g", row => row.Long(0));

        using (var reading = rows.GetEnumerator())
        {
            Assert.True(reading.MoveNext());
            Thread.Sleep(200); // the server fills the socket: rows the cancel cannot take back
            stopping.Cancel();
            // Read on, they would keep a stopped command busy until the last row sent; the stop is
            // heard at the next row instead.
            Assert.Throws<OperationCanceledException>(() => reading.MoveNext());
        }
    }

    [Fact]
    public void Sqlite_StoppedCommand_IsACancellation_NotAStoreFailure()
    {
        var store = UsageStores.Open(new StoreTarget(UsageStoreBackend.Sqlite, _directory.File("usage.db"), UsageStoreSource.Connected), TimeProvider.System);
        AssertStoppedNotFailed(store);
    }

    [SkippableFact]
    public void Postgres_StoppedCommand_IsACancellation_NotAStoreFailure()
    {
        _database = PostgresServer.CreateDatabase();
        var store = UsageStores.Open(new StoreTarget(UsageStoreBackend.PostgreSql, _database, UsageStoreSource.Connected), TimeProvider.System);
        AssertStoppedNotFailed(store);
    }

    // A command stopped between two statements runs no further statement, reads and writes alike,
    // and the failure it sees is an OperationCanceledException (a stopped pipeline), never
    // StoreUnavailable, StoreReadFailed or StoreWriteFailed.
    private static void AssertStoppedNotFailed(IUsageStore store)
    {
        using (store)
        {
            store.GetServices(refresh: true); // creates and migrates the store
            using (var stopping = new CancellationTokenSource())
            {
                stopping.Cancel();
                using var scope = StoreCancellation.Enter(stopping.Token);
                Assert.Throws<OperationCanceledException>(() => store.GetServices(refresh: true));
                Assert.Throws<OperationCanceledException>(() => store.GetCustomers());
                Assert.Throws<OperationCanceledException>(() => store.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(null), null, null, Bulk: true)).ToList());
                Assert.Throws<OperationCanceledException>(() => store.Ingest(new[] { new UsageEvent("evt_stop", "cus_stop", "api", "requests", 1m, DateTimeOffset.UtcNow, "{}") }));
            }
            // The scope ended with the command; the store works again, and the stopped write wrote nothing.
            Assert.Equal(CancellationToken.None, StoreCancellation.Current);
            Assert.DoesNotContain(store.GetCustomers(includeRemoved: true), c => c.CustomerId == "cus_stop");
        }
    }
}

/// <summary>
/// The stop tests measure how long a stop takes, so they run after the other classes, alone: on
/// two cores, with contract tests running beside it, a SQLite interrupt once took 187 ms to be
/// seen by the waiting thread.
/// </summary>
[CollectionDefinition(nameof(StopTests), DisableParallelization = true)]
public sealed class StopTestsRunAlone;
