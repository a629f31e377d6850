using System.Data.Common;

namespace NSelf.Usage.Engine.Storage.Sql;

public abstract partial class SqlStore
{
    public abstract UsageStoreBackend Backend { get; }

    public int LatestSchemaVersion => Dialect.Migrations.Count;

    /// <summary>A connection that does not migrate the schema first (to read or apply migrations).</summary>
    private protected abstract DbConnection OpenUnmigrated();

    /// <summary>Called once migrations are known to be applied, so a store can stop checking.</summary>
    private protected virtual void SchemaCurrent()
    {
    }

    public int GetSchemaVersion()
    {
        using var connection = OpenUnmigrated();
        var applied = ReadMigrations(connection);
        return applied.Count == 0 ? 0 : applied[^1].Version;
    }

    public IReadOnlyList<UsageStoreMigration> GetMigrations()
    {
        using var connection = OpenUnmigrated();
        return ReadMigrations(connection);
    }

    public IReadOnlyList<UsageStoreMigration> Migrate()
    {
        using var connection = OpenUnmigrated();
        MigrationScript.VerifyApplied(Dialect.Migrations, ReadMigrations(connection), Location);
        var done = ApplyPending(connection);
        SchemaCurrent();
        return done;
    }

    /// <summary>Fails on an applied migration this module does not ship; applies the pending ones.</summary>
    private protected void EnsureMigrated(DbConnection connection)
    {
        var applied = ReadMigrations(connection);
        MigrationScript.VerifyApplied(Dialect.Migrations, applied, Location);
        if (applied.Count < Dialect.Migrations.Count)
            ApplyPending(connection);
        SchemaCurrent();
    }

    /// <summary>
    /// The applied migrations, in one statement: every command's first use of a store checks them,
    /// and against a PostgreSQL server across a network each statement is a round trip a scheduled
    /// script pays at start-up. A store without the table (new, never migrated) fails the statement
    /// once; asking first whether the table exists would cost every start a second round trip.
    /// </summary>
    private List<UsageStoreMigration> ReadMigrations(DbConnection connection)
    {
        var session = new SqlSession(connection, null, Dialect);
        try
        {
            return session.Query("SELECT version, name, checksum, applied_at FROM usage_schema_migrations ORDER BY version", r => new UsageStoreMigration
            {
                Version = r.Int(0),
                Name = r.Text(1),
                Checksum = r.Text(2).Trim(), // PostgreSQL keeps it as char(64)
                AppliedAt = r.Time(3),
            });
        }
        catch (DbException e) when (Dialect.IsMissingTable(e, "usage_schema_migrations"))
        {
            return [];
        }
    }

    private bool TableExists(SqlSession session, string table) =>
        session.Count(Dialect.TableExistsSql, ("table", table)) != 0;

    /// <summary>
    /// Applies each pending migration in its own write transaction, which first takes the store's
    /// migration lock: two hosts or processes starting at once apply each migration exactly once
    /// (the second waits, then finds it applied).
    /// </summary>
    private List<UsageStoreMigration> ApplyPending(DbConnection connection)
    {
        var done = new List<UsageStoreMigration>();
        foreach (var script in Dialect.Migrations)
        {
            using var transaction = Dialect.BeginWrite(connection);
            var session = new SqlSession(connection, transaction, Dialect);
            session.Execute(Dialect.MigrationLockSql + Dialect.MigrationTableSql);
            if (session.Count("SELECT count(*) FROM usage_schema_migrations WHERE version = @version", ("version", script.Version)) > 0)
            {
                transaction.Commit();
                continue;
            }
            try
            {
                session.Execute(script.Sql);
            }
            catch (DbException e)
            {
                throw new UsageException(ErrorIds.StoreSchemaMismatch, UsageErrorKind.InvalidOperation,
                    $"Migration {script.Version} ({script.Name}) failed on {Location} and was rolled back: {Dialect.MigrationFailure(e)}", Location, e);
            }
            var appliedAt = Now();
            session.Execute("INSERT INTO usage_schema_migrations (version, name, checksum, applied_at) VALUES (@version, @name, @checksum, @at)",
                ("version", script.Version), ("name", script.Name), ("checksum", script.Checksum), ("at", appliedAt));
            transaction.Commit();
            done.Add(new UsageStoreMigration { Version = script.Version, Name = script.Name, Checksum = script.Checksum, AppliedAt = appliedAt });
        }
        return done;
    }

    public UsageStoreHealth CheckHealth()
    {
        var started = Clock.GetTimestamp();
        try
        {
            using var connection = OpenUnmigrated();
            var applied = ReadMigrations(connection);
            var session = new SqlSession(connection, null, Dialect);
            // Each table is looked at only when it exists: a new store has none of ours yet.
            // Counted, not summed from the rollups: the rollups keep archived events (so totals
            // stay right after an archive) and would report them as stored. Row-level security
            // limits both counts to a scoped session's customer.
            var hasRecords = TableExists(session, "billing_usage_records");
            var stored = hasRecords ? session.Count("SELECT count(*) FROM billing_usage_records") : 0;
            var archived = TableExists(session, "usage_archived_events") ? session.Count("SELECT count(*) FROM usage_archived_events") : 0;
            var (writable, version) = ProbeServer(session, hasRecords);
            return new UsageStoreHealth
            {
                Backend = Backend,
                Location = Location,
                Reachable = true,
                Writable = writable,
                SchemaVersion = applied.Count == 0 ? 0 : applied[^1].Version,
                PendingMigrations = Dialect.Migrations.Count - applied.Count,
                ServerVersion = version,
                Latency = Clock.GetElapsedTime(started),
                StoredEvents = stored,
                ArchivedEvents = archived,
            };
        }
        catch (Exception e) when (e is UsageException || FailureTranslatingStore.IsStoreFailure(e))
        {
            return StoreHealth.Unreachable(Backend, Location, Dialect.Migrations.Count, Clock.GetElapsedTime(started),
                Dialect.Translate(e, Location, writing: false).Message);
        }
    }

    /// <summary>Whether this session may write to the store now, and the server's name and version.</summary>
    private protected abstract (bool Writable, string ServerVersion) ProbeServer(SqlSession session, bool hasTables);

    /// <summary>
    /// Brings the summaries other tools read up to date (see <see cref="IUsageStore.RefreshSummaries"/>)
    /// and reports how many rows the summary has.
    /// </summary>
    /// <remarks>Outside a transaction, as before: a refresh can be long, and holds nothing of ours.</remarks>
    public UsageSummaryRefresh RefreshSummaries() => InReadSession(session =>
    {
        var started = Clock.GetTimestamp();
        var summary = RefreshSummary(session);
        return new UsageSummaryRefresh
        {
            Backend = Backend,
            Location = Location,
            Summary = summary,
            Rows = session.Count($"SELECT count(*) FROM {summary}"),
            Duration = Clock.GetElapsedTime(started),
        };
    });

    /// <summary>Refreshes this store's summary for other tools; returns the table or view to count.</summary>
    private protected abstract string RefreshSummary(SqlSession session);
}
