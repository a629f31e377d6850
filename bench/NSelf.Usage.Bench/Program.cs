using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

// Usage:
//   seed <store> <events> <customers> <yyyy-MM>   spread events over a month through the engine
//   raw-sqlite <file> <events>                   the limit: prepared inserts in one transaction
//   raw-copy <connection string> <events>        the limit: one binary COPY into billing_usage_records
//   raw-sqlite-each <file> <events>              the per-call limit: one prepared insert and commit per event
//   raw-pg-each <connection string> <events>     the per-call limit: one prepared insert and commit per event
//   engine-each <store> <events>                 the engine alone: one event per store write (no PowerShell)
//   subscribe <store> <customers> <plan>         subscribe cus_0000.. to a plan from the start of this month
//   quota-profile <store>                       the steps of Test-UsageQuota -AllCustomers, timed
//   forecast-backtest <series> <seed>            the forecast backtest: kind, method, MAPE %, coverage % per line (tab-separated)
// <store> is a SQLite path or a PostgreSQL connection string. Prints one line: seconds elapsed
// (for the raw limits, the inserts alone: not the schema set-up before them).
var command = args[0];
var invariant = CultureInfo.InvariantCulture;
var watch = Stopwatch.StartNew();
double? measured = null;
switch (command)
{
    case "seed":
        Seed(args[1], int.Parse(args[2], invariant), int.Parse(args[3], invariant), DateOnly.ParseExact(args[4] + "-01", "yyyy-MM-dd", invariant));
        break;
    case "raw-sqlite":
        measured = RawSqlite(args[1], int.Parse(args[2], invariant));
        break;
    case "forecast-backtest":
        foreach (var score in NSelf.Usage.Bench.ForecastBacktest.Run(int.Parse(args[1], invariant), int.Parse(args[2], invariant)))
            Console.WriteLine(string.Create(invariant, $"{score.Kind}\t{score.Method}\t{score.MeanAbsolutePercentError:F2}\t{(score.IntervalCoverage is { } c ? c.ToString("F1", invariant) : "")}"));
        return;
    case "subscribe":
        Subscribe(args[1], int.Parse(args[2], invariant), args[3]);
        break;
    case "raw-copy":
        measured = RawCopy(args[1], int.Parse(args[2], invariant));
        break;
    case "raw-sqlite-each":
        measured = RawSqlite(args[1], int.Parse(args[2], invariant), commitEach: true);
        break;
    case "engine-each":
        measured = EngineEach(args[1], int.Parse(args[2], invariant));
        break;
    case "quota-profile":
        QuotaProfile(args[1]);
        return;
    case "raw-pg-each":
        measured = RawPostgresEach(args[1], int.Parse(args[2], invariant));
        break;
    default:
        throw new ArgumentException($"Unknown command {command}");
}
Console.WriteLine((measured ?? watch.Elapsed.TotalSeconds).ToString("F4", invariant));

static void Seed(string spec, int count, int customers, DateOnly month)
{
    using var store = UsageStores.Open(StoreTarget.FromSpecification(spec, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System);
    var factory = new UsageEventFactory(store.GetServices(), TimeProvider.System);
    var start = new DateTimeOffset(month.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
    // The current month only up to now: events may not be in the future.
    var end = start.AddMonths(1) < DateTimeOffset.UtcNow ? start.AddMonths(1) : DateTimeOffset.UtcNow;
    var seconds = (long)(end - start).TotalSeconds;
    var services = new[] { "api", "api", "api", "database", "database", "functions", "bandwidth", "storage", "compute" };
    var random = new Random(1);
    var batch = new List<UsageEvent>(10_000);
    for (var i = 0; i < count; i++)
    {
        var service = services[random.Next(services.Length)];
        var quantity = service is "api" or "database" or "functions" ? 1m : Math.Round((decimal)random.NextDouble() * 5m, 6);
        batch.Add(factory.Create($"cus_{i % customers:D4}", service, quantity, start.AddSeconds(random.NextInt64(seconds)), $"seed-{month:yyyyMM}-{i}"));
        if (batch.Count == batch.Capacity)
        {
            store.Ingest(batch);
            batch.Clear();
        }
    }
    store.Ingest(batch);
}

// The same rows and indexes as billing_usage_records, with the store's journal settings, inserted by one prepared statement in one
// transaction with nothing else: what SQLite itself can do on this machine. With commitEach, every
// row is its own transaction, as an unbatched tracking call must be.
static double RawSqlite(string path, int count, bool commitEach = false)
{
    using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
    connection.Open();
    using (var setup = connection.CreateCommand())
    {
        setup.CommandText = """
            PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 10000;
            CREATE TABLE records (usage_id INTEGER PRIMARY KEY, event_id TEXT NOT NULL, customer_id TEXT NOT NULL, service_name TEXT NOT NULL,
                quantity INTEGER NOT NULL, unit TEXT NOT NULL, metadata TEXT NOT NULL, recorded_at INTEGER NOT NULL, ingested_at INTEGER NOT NULL,
                UNIQUE (customer_id, event_id));
            CREATE INDEX ix_records ON records (customer_id, recorded_at);
            """;
        setup.ExecuteNonQuery();
    }
    var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000;
    var watch = Stopwatch.StartNew();
    using var transaction = commitEach ? null : connection.BeginTransaction();
    using var insert = connection.CreateCommand();
    insert.Transaction = transaction;
    insert.CommandText = "INSERT INTO records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at) VALUES ($e, 'cus_bench', 'api', 1000000, 'requests', '{}', $t, $t)";
    var e = insert.Parameters.Add("$e", SqliteType.Text);
    var t = insert.Parameters.Add("$t", SqliteType.Integer);
    insert.Prepare();
    for (var i = 0; i < count; i++)
    {
        e.Value = "e" + i.ToString(CultureInfo.InvariantCulture);
        t.Value = start + i * 10_000_000L;
        insert.ExecuteNonQuery();
    }
    transaction?.Commit();
    return watch.Elapsed.TotalSeconds;
}

// One prepared INSERT per event on one open connection, each committed on its own (with the
// table's indexes and rollup trigger): a round trip and a commit, what one unbatched call needs.
static double RawPostgresEach(string connectionString, int count)
{
    using (var store = UsageStores.Open(StoreTarget.FromSpecification(connectionString, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System))
        store.GetServices();
    using var connection = new Npgsql.NpgsqlConnection(connectionString);
    connection.Open();
    using (var customer = new Npgsql.NpgsqlCommand("INSERT INTO billing_customers (customer_id, project_name) VALUES ('cus_bench', 'cus_bench') ON CONFLICT DO NOTHING", connection))
        customer.ExecuteNonQuery();
    using var insert = new Npgsql.NpgsqlCommand(
        "INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at, ingested_at) " +
        "VALUES ($1, 'cus_bench', 'api', 1, 'requests', 0.0001, '{}', $2, now())", connection);
    var e = insert.Parameters.Add(new Npgsql.NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Varchar });
    var t = insert.Parameters.Add(new Npgsql.NpgsqlParameter { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
    insert.Prepare();
    var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
    {
        e.Value = "e" + i.ToString(CultureInfo.InvariantCulture);
        t.Value = start.AddSeconds(i * 10).UtcDateTime;
        insert.ExecuteNonQuery();
    }
    return watch.Elapsed.TotalSeconds;
}

// The same rows the pipeline benchmark sends, copied straight into billing_usage_records (with its
// indexes and the rollup trigger) by one binary COPY: what PostgreSQL itself can take.
static double RawCopy(string connectionString, int count)
{
    using var store = UsageStores.Open(StoreTarget.FromSpecification(connectionString, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System);
    store.GetServices(); // migrated, like the store the pipeline writes to
    using var connection = new Npgsql.NpgsqlConnection(connectionString);
    connection.Open();
    using (var customer = new Npgsql.NpgsqlCommand("INSERT INTO billing_customers (customer_id, project_name) VALUES ('cus_bench', 'cus_bench') ON CONFLICT DO NOTHING", connection))
        customer.ExecuteNonQuery();
    var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    var watch = Stopwatch.StartNew();
    using (var copy = connection.BeginBinaryImport("COPY billing_usage_records (event_id, customer_id, service_name, quantity, unit, unit_cost, metadata, recorded_at, ingested_at) FROM STDIN (FORMAT BINARY)"))
    {
        var now = DateTime.UtcNow;
        for (var i = 0; i < count; i++)
        {
            copy.StartRow();
            copy.Write("e" + i.ToString(CultureInfo.InvariantCulture), NpgsqlTypes.NpgsqlDbType.Varchar);
            copy.Write("cus_bench", NpgsqlTypes.NpgsqlDbType.Varchar);
            copy.Write("api", NpgsqlTypes.NpgsqlDbType.Varchar);
            copy.Write(1m, NpgsqlTypes.NpgsqlDbType.Numeric);
            copy.Write("requests", NpgsqlTypes.NpgsqlDbType.Varchar);
            copy.Write(0.0001m, NpgsqlTypes.NpgsqlDbType.Numeric);
            copy.Write("{}", NpgsqlTypes.NpgsqlDbType.Jsonb);
            copy.Write(start.AddSeconds(i * 10).UtcDateTime, NpgsqlTypes.NpgsqlDbType.TimestampTz);
            copy.Write(now, NpgsqlTypes.NpgsqlDbType.TimestampTz);
        }
        copy.Complete();
    }
    return watch.Elapsed.TotalSeconds;
}

// What an unbatched tracking call asks of the engine, without PowerShell: one event, validated and
// written on its own. Separates the store's share of a per-call figure from the shell's.
static double EngineEach(string spec, int count)
{
    using var store = UsageStores.Open(StoreTarget.FromSpecification(spec, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System);
    var factory = new UsageEventFactory(store.GetServices(), TimeProvider.System);
    store.Ingest([factory.Create("cus_bench", "api", 1m, metadataJson: "{\"endpoint\":\"/x\",\"method\":\"GET\",\"status\":200}")]);
    var watch = Stopwatch.StartNew();
    for (var i = 0; i < count; i++)
        store.Ingest([factory.Create("cus_bench", "api", 1m, metadataJson: "{\"endpoint\":\"/x\",\"method\":\"GET\",\"status\":200}")]);
    return watch.Elapsed.TotalSeconds;
}

static void Subscribe(string spec, int customers, string plan)
{
    using var store = UsageStores.Open(StoreTarget.FromSpecification(spec, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System);
    var book = new NSelf.Usage.Engine.Accounts.Subscriptions(store, TimeProvider.System);
    var now = DateTimeOffset.UtcNow;
    var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
    for (var i = 0; i < customers; i++)
        book.Subscribe($"cus_{i:D4}", plan, NSelf.Usage.BillingCycle.Monthly, monthStart, "UTC");
}

// Where Test-UsageQuota -AllCustomers spends its time, step by step, twice (the second warm).
static void QuotaProfile(string spec)
{
    using var store = UsageStores.Open(StoreTarget.FromSpecification(spec, NSelf.Usage.UsageStoreSource.Connected), TimeProvider.System);
    store.GetServices();
    var book = new NSelf.Usage.Engine.Accounts.Subscriptions(store, TimeProvider.System);
    var checker = new NSelf.Usage.Engine.Accounts.QuotaChecker(book, new NSelf.Usage.Engine.Accounts.AlertThresholds(80, 90, 100));
    for (var round = 0; round < 2; round++)
    {
        var watch = Stopwatch.StartNew();
        var terms = book.TermsFor(null, TimeZoneInfo.Utc);
        Console.WriteLine($"terms of {terms.Count} customers: {watch.ElapsedMilliseconds} ms");
        watch.Restart();
        var slices = terms.Select((t, i) => new TimeSlice(i, t.BillingPeriod.Start, t.BillingPeriod.End, t.CustomerId)).ToList();
        var totals = store.SumRollups(UsageFilter.AllCustomers(null), slices, RollupGrain.Day);
        Console.WriteLine($"daily rollups of every customer's period, one read: {watch.ElapsedMilliseconds} ms ({totals.Count} totals)");
        watch.Restart();
        var checks = checker.Check(terms, null, raiseAlerts: false);
        Console.WriteLine($"check of {checks.Count} quotas: {watch.ElapsedMilliseconds} ms");
        // The limit: plain SQL summing the same daily rollups per customer and service, over the
        // widest period (every customer's, when they all start the same day, as the bench's do).
        var (from, to) = (terms.Min(t => t.BillingPeriod.Start), terms.Max(t => t.BillingPeriod.End));
        watch.Restart();
        var rows = PlainRollupSums(spec, from, to);
        Console.WriteLine($"limit: plain SQL sum of the daily rollups of [{from:yyyy-MM-dd}, {to:yyyy-MM-dd}) per customer and service: {watch.ElapsedMilliseconds} ms ({rows} totals)");
    }
}

static int PlainRollupSums(string spec, DateTimeOffset from, DateTimeOffset to)
{
    const string sql = "SELECT customer_id, service_name, sum(quantity) FROM usage_rollups_daily WHERE bucket_start >= @from AND bucket_start < @to GROUP BY customer_id, service_name";
    System.Data.Common.DbConnection connection = spec.Contains('=', StringComparison.Ordinal)
        ? new Npgsql.NpgsqlConnection(spec) : new SqliteConnection($"Data Source={spec};Mode=ReadOnly");
    using (connection)
    {
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, at) in new[] { ("from", from), ("to", to) })
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            // SQLite keeps instants as microseconds since the Unix epoch.
            parameter.Value = connection is SqliteConnection ? (object)((at.UtcTicks - DateTime.UnixEpoch.Ticks) / 10) /* microseconds since the Unix epoch, as the store keeps instants */ : at.UtcDateTime;
            command.Parameters.Add(parameter);
        }
        using var reader = command.ExecuteReader();
        var count = 0;
        while (reader.Read())
        {
            _ = reader.GetValue(2);
            count++;
        }
        return count;
    }
}
