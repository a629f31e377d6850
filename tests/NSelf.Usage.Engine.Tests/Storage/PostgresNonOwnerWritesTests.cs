using Npgsql;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 15, items 2 and 4 as a role that does not own the tables (nself's application role): its
/// inserts with a NULL time, corrections and deletes keep the rollups, which it cannot write
/// itself, equal to the stored rows (the triggers run as their owner).
/// </summary>
public sealed class PostgresNonOwnerWritesTests : IDisposable
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At();
    private readonly string _database = PostgresServer.CreateDatabase();

    public void Dispose() => PostgresServer.DropDatabase(_database);

    private const string Differences = """
        WITH e AS (SELECT customer_id, service_name, recorded_at, quantity FROM billing_usage_records WHERE recorded_at IS NOT NULL
                   UNION ALL SELECT customer_id, service_name, recorded_at, quantity FROM usage_archived_events),
        q AS (SELECT customer_id, date_bin('15 minutes', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name,
                     count(*) AS events, sum(quantity) AS quantity, min(quantity) AS min_quantity, max(quantity) AS max_quantity FROM e GROUP BY 1, 2, 3),
        d AS (SELECT customer_id, date_bin('1 day', recorded_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, service_name,
                     count(*) AS events, sum(quantity) AS quantity, min(quantity) AS min_quantity, max(quantity) AS max_quantity FROM e GROUP BY 1, 2, 3),
        rq AS (SELECT customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity FROM usage_rollups),
        rd AS (SELECT customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity FROM usage_rollups_daily)
        SELECT (SELECT count(*) FROM (SELECT * FROM q EXCEPT SELECT * FROM rq) a) + (SELECT count(*) FROM (SELECT * FROM rq EXCEPT SELECT * FROM q) b)
             + (SELECT count(*) FROM (SELECT * FROM d EXCEPT SELECT * FROM rd) c) + (SELECT count(*) FROM (SELECT * FROM rd EXCEPT SELECT * FROM d) f)
        """;

    [SkippableFact]
    public void NonOwnerRole_NullTimesCorrectionsAndDeletes_KeepTheRollupsEqualToTheRows()
    {
        using (var owner = new PostgresUsageStore(_database, null, _time))
        {
            var factory = new UsageEventFactory(owner.GetServices(), _time);
            owner.Ingest(new[] { factory.Create("cus_app", "api", 17, Clock.Utc(2026, 11, 2, 10, 5), "ev-17"), factory.Create("cus_app", "api", 4, Clock.Utc(2026, 11, 2, 10, 7), "ev-4") });
        }
        var role = "nself_app_" + Guid.NewGuid().ToString("n")[..8];
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-secret';
            GRANT SELECT, INSERT, UPDATE, DELETE ON billing_usage_records, billing_customers TO {role};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
            """);
        // app.is_admin: nself's own row-level security convention, so this test is about the
        // triggers, not about which rows the policies let the role see (issue 15, item 3).
        var asApp = new NpgsqlConnectionStringBuilder(_database) { Username = role, Password = "app-secret", Pooling = false, Options = "-c app.is_admin=true" }.ConnectionString;
        try
        {
            PostgresServer.Execute(asApp, "INSERT INTO billing_usage_records (customer_id, service_name, quantity, recorded_at) VALUES ('cus_app', 'api', 3, NULL)");
            PostgresServer.Execute(asApp, "UPDATE billing_usage_records SET quantity = 15 WHERE event_id = 'ev-17'");
            PostgresServer.Execute(asApp, "UPDATE billing_usage_records SET recorded_at = recorded_at + interval '1 day' WHERE event_id = 'ev-4'");
            Assert.Equal(0L, PostgresServer.Scalar<long>(_database, Differences));
            PostgresServer.Execute(asApp, "DELETE FROM billing_usage_records WHERE event_id = 'ev-17'");
            Assert.Equal(0L, PostgresServer.Scalar<long>(_database, Differences));
            // What the role cannot do is write the rollups themselves.
            Assert.Throws<PostgresException>(() => PostgresServer.Execute(asApp, "UPDATE usage_rollups SET quantity = 0"));
            using var owner = new PostgresUsageStore(_database, null, _time);
            var usage = new UsageReports(owner).Summaries(new UsageFilter("cus_app"), Clock.Utc(2026, 1, 1), Clock.Utc(2028, 1, 1));
            Assert.Equal((7m, 2L), usage.Select(s => (s.Quantity, s.Events)).Single());
        }
        finally
        {
            PostgresConnections.Forget(b => b.Username == role);
            NpgsqlConnection.ClearAllPools();
            PostgresServer.Execute(_database, $"DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }
}

/// <summary>Issue 18: every role reads the seller's profile; only the owner reads the SMTP password.</summary>
public sealed class PostgresSmtpSecretTests : IDisposable
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At();
    private readonly string _database = PostgresServer.CreateDatabase();

    public void Dispose() => PostgresServer.DropDatabase(_database);

    [SkippableFact]
    public void ANonOwnerRole_SeesThatAPasswordIsSet_ButCannotReadIt()
    {
        using (var owner = new PostgresUsageStore(_database, null, _time))
        {
            owner.SaveProfile(new ProfileChange(LegalName: "Beispiel GmbH") { SmtpServer = "smtp.example", SmtpCredential = new SmtpCredential("rechnung", "s3cret!") });
            Assert.Equal("s3cret!", owner.GetSmtpPassword());
        }
        var role = "nself_app_" + Guid.NewGuid().ToString("n")[..8];
        // Every table, as application roles are often given: the password's row stays hidden all the same.
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-secret';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            """);
        var asApp = new NpgsqlConnectionStringBuilder(_database) { Username = role, Password = "app-secret", Pooling = false }.ConnectionString;
        try
        {
            using var app = new PostgresUsageStore(asApp, null, _time);
            var profile = app.GetProfile()!;
            Assert.Equal(("smtp.example", "rechnung", true), (profile.SmtpServer, profile.SmtpUserName, profile.SmtpPasswordSet));
            Assert.Null(app.GetSmtpPassword());
            Assert.Equal(0L, PostgresServer.Scalar<long>(asApp, "SELECT count(*) FROM billing_smtp_secret"));
            var told = Assert.Throws<UsageException>(() => SmtpRules.Resolve(profile, new EnvironmentSettings(_ => null), app.GetSmtpPassword));
            Assert.Equal(ErrorIds.SmtpNotConfigured, told.ErrorId);
            Assert.Contains("only the store's owner reads it", told.Message, StringComparison.Ordinal);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            PostgresServer.Execute(_database, $"DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }
}

/// <summary>
/// Issue 20 as a role that does not own the tables: it sees that a webhook has a secret but cannot
/// read it (so it cannot deliver), and an alert it records by plain SQL is queued all the same (the
/// trigger runs as its owner).
/// </summary>
public sealed class PostgresAlertSecretTests : IDisposable
{
    private readonly Microsoft.Extensions.Time.Testing.FakeTimeProvider _time = Clock.At();
    private readonly string _database = PostgresServer.CreateDatabase();

    public void Dispose() => PostgresServer.DropDatabase(_database);

    [SkippableFact]
    public void ANonOwnerRole_QueuesAlertsItRecords_SeesThatASecretIsSet_ButCannotReadItNorDeliver()
    {
        using (var owner = new PostgresUsageStore(_database, null, _time))
        {
            new NSelf.Usage.Engine.Alerts.AlertActions(owner, _time).Register("ops", "http://127.0.0.1:9/hook", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", null, null, null, null, false);
            Assert.NotNull(owner.GetAlertActionSecret(owner.GetAlertActions().Single().ActionId));
        }
        var role = "nself_app_" + Guid.NewGuid().ToString("n")[..8];
        // Every table and sequence, as application roles are often given: the secret's row stays hidden all the same.
        PostgresServer.Execute(_database, $"""
            CREATE ROLE {role} LOGIN PASSWORD 'app-secret';
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
            """);
        var asApp = new NpgsqlConnectionStringBuilder(_database) { Username = role, Password = "app-secret", Pooling = false }.ConnectionString;
        try
        {
            PostgresServer.Execute(asApp, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"""
                INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message)
                VALUES ('cus_app', 'api', 'critical', 95, 100, 95, '2026-11-01Z', '2026-12-01Z', '{_time.GetUtcNow().UtcDateTime:yyyy-MM-dd HH:mm:ss}Z', 'CRITICAL: api usage at 95% - 95/100')
                """));
            using var app = new PostgresUsageStore(asApp, null, _time);
            var action = Assert.Single(app.GetAlertActions());
            Assert.True(action.SecretSet);
            Assert.Null(app.GetAlertActionSecret(action.ActionId));
            Assert.Equal(0L, PostgresServer.Scalar<long>(asApp, "SELECT count(*) FROM usage_alert_action_secrets"));
            var queued = Assert.Single(app.GetAlertDeliveries(new NSelf.Usage.Engine.Storage.AlertDeliveryFilter(), _time.GetUtcNow()));
            Assert.Equal(("ops", "cus_app", AlertDeliveryStatus.Pending), (queued.Action, queued.CustomerId, queued.Status));

            _time.SetUtcNow(_time.GetUtcNow().AddMinutes(1));
            var tried = Assert.Single(new NSelf.Usage.Engine.Alerts.AlertDeliverer(app, _time, NSelf.Usage.Engine.Alerts.AlertDeliverySettings.Default, new EnvironmentSettings(_ => null))
                .Deliver(null, default));
            Assert.Equal((AlertDeliveryStatus.Pending, 1), (tried.Status, tried.Attempts));
            Assert.Contains("only the store's owner reads it", tried.LastError, StringComparison.Ordinal);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            PostgresServer.Execute(_database, $"DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }
}
