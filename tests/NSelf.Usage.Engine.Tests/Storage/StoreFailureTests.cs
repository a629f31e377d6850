using System.Reflection;
using Microsoft.Data.Sqlite;
using Npgsql;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Storage.Postgres;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Every method of the store contract, called on broken stores as a session opens them
/// (<see cref="UsageStores.Open"/>), fails with a module error id: never a SqliteException,
/// PostgresException, InvalidCastException or IOException. The list of calls is checked against
/// the interface by reflection, so a new store method without a failure case fails here.
/// </summary>
public sealed class StoreFailureTests : IDisposable
{
    private static readonly DateTimeOffset At = Clock.Utc(2026, 11, 2, 10);

    private static readonly UsageEvent OneEvent = new("evt_1", "cus_a", "api", "requests", 1m, At, "{}");

    private static readonly UsageAlert OneAlert = new()
    {
        AlertId = 0, CustomerId = "cus_a", Service = "api", Level = QuotaLevel.Warning, Used = 80, Limit = 100, Percent = 80,
        PeriodStart = Clock.Utc(2026, 11, 1), PeriodEnd = Clock.Utc(2026, 12, 1), RaisedAt = At, Message = "80 %",
    };

    private static readonly BillingSubscription OneSubscription = new()
    {
        SubscriptionId = "sub_1", CustomerId = "cus_a", Plan = "starter", Status = SubscriptionStatus.Active, BillingCycle = BillingCycle.Monthly,
        CurrentPeriodStart = Clock.Utc(2026, 11, 1), CurrentPeriodEnd = Clock.Utc(2026, 12, 1), Anchor = Clock.Utc(2026, 11, 1),
        TimeZone = "UTC", CancelAtPeriodEnd = false, CreatedAt = At,
    };

    private static readonly BillingInvoice OneInvoice = new()
    {
        InvoiceId = "inv_1", CustomerId = "cus_a", Plan = "starter", PeriodStart = Clock.Utc(2026, 11, 1), PeriodEnd = Clock.Utc(2026, 12, 1),
        Status = InvoiceStatus.Draft, Currency = "USD", Subtotal = 0, TaxRate = 0, Tax = 0, Total = 0, Lines = Array.Empty<BillingInvoiceLine>(), CreatedAt = At,
    };

    private static readonly TimeSlice[] OneSlice = { new(0, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)) };

    /// <summary>
    /// One call per method of the contract, each with arguments that make it reach the store (a
    /// non-empty batch, a slice, an id). Streams are enumerated: their queries run only then.
    /// </summary>
    private static readonly Dictionary<string, Func<IUsageStore, object?>> Calls = new()
    {
        ["GetSchemaVersion"] = s => s.GetSchemaVersion(),
        ["Migrate"] = s => s.Migrate(),
        ["GetMigrations"] = s => s.GetMigrations(),
        ["CheckHealth"] = s => s.CheckHealth(),
        ["GetServices"] = s => s.GetServices(refresh: true),
        ["RegisterService"] = s => s.RegisterService(new UsageService { Name = "widgets", Unit = "widgets", DisplayPrice = 1, Currency = "USD", BuiltIn = false }, replace: true),
        ["Ingest"] = s => s.Ingest(new[] { OneEvent }),
        ["FindRecords"] = s => s.FindRecords("cus_a", new[] { "evt_1" }),
        ["ReadRecords"] = s => s.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)).ToList(),
        ["CountRecords"] = s => s.CountRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)),
        ["ReadQuantities"] = s => s.ReadQuantities(UsageFilter.AllCustomers(), Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)).ToList(),
        ["SumRollups"] = s => s.SumRollups(UsageFilter.AllCustomers(), OneSlice, RollupGrain.QuarterHour),
        ["SumEvents"] = s => s.SumEvents(UsageFilter.AllCustomers(), OneSlice, "endpoint"),
        ["ArchiveRecords"] = s => s.ArchiveRecords(new[] { ("cus_a", "evt_1") }, "/tmp/archive.jsonl", new string('0', 64), At, null),
        ["RefreshSummaries"] = s => s.RefreshSummaries(),
        ["VerifyRollups"] = s => s.VerifyRollups(new RollupScope()),
        ["RepairRollups"] = s => { s.RepairRollups("cus_a", At); return null; },
        ["GetCustomer"] = s => s.GetCustomer("cus_a"),
        ["GetCustomers"] = s => s.GetCustomers(includeRemoved: true),
        ["FindCustomerIds"] = s => s.FindCustomerIds("cus", 10),
        ["FindMetadataKeys"] = s => s.FindMetadataKeys("cus_a", "end", 100, 10),
        ["FindInvoiceIds"] = s => s.FindInvoiceIds("cus_a", "inv", 10),
        ["AddCustomer"] = s => s.AddCustomer("cus_new", new CustomerChange(Name: "New")),
        ["UpdateCustomer"] = s => s.UpdateCustomer("cus_a", new CustomerChange(Name: "A")),
        ["RemoveCustomer"] = s => s.RemoveCustomer("cus_a"),
        ["GetProfile"] = s => s.GetProfile(),
        ["SaveProfile"] = s => s.SaveProfile(new ProfileChange(LegalName: "Beispiel GmbH")),
        ["GetSmtpPassword"] = s => s.GetSmtpPassword(),
        ["ClaimDelivery"] = s => s.ClaimDelivery(new DeliveryClaim("inv_a", ["a@example.com"], [], "h:25", "m@h", DateTimeOffset.UnixEpoch), force: false),
        ["CompleteDelivery"] = s => { s.CompleteDelivery(1, DeliveryOutcome.Sent, DateTimeOffset.UnixEpoch); return null; },
        ["AbandonDelivery"] = s => { s.AbandonDelivery(1); return null; },
        ["GetTaxRates"] = s => s.GetTaxRates(),
        ["SaveTaxRate"] = s => s.SaveTaxRate("DE", null, "VAT", 19m),
        ["GetPlans"] = s => s.GetPlans(),
        ["GetPlan"] = s => s.GetPlan("starter"),
        ["SavePlan"] = s => s.SavePlan(new BillingPlan { Name = "team", PriceMonthly = 49, PriceYearly = 490, Currency = "USD", IsActive = true, SortOrder = 5 }),
        ["GetPlanQuotas"] = s => s.GetPlanQuotas(),
        ["GetCustomerQuotas"] = s => s.GetCustomerQuotas(),
        ["SaveQuota"] = s => s.SaveQuota(new BillingQuota
        {
            Plan = "starter", Service = "api", Limit = 100, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0.01m,
        }),
        ["GetSubscriptions"] = s => s.GetSubscriptions(includeEnded: true),
        ["AddSubscription"] = s => s.AddSubscription(OneSubscription),
        ["UpdateSubscription"] = s => s.UpdateSubscription(OneSubscription),
        ["GetPlanChanges"] = s => s.GetPlanChanges("cus_a"),
        ["RaiseAlerts"] = s => s.RaiseAlerts(new[] { OneAlert }),
        ["GetAlerts"] = s => s.GetAlerts(null, Clock.Utc(2026, 1, 1)),
        ["GetInvoice"] = s => s.GetInvoice("inv_1"),
        ["FindInvoice"] = s => s.FindInvoice("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)),
        ["GetInvoices"] = s => s.GetInvoices(),
        ["SaveDraft"] = s => s.SaveDraft(OneInvoice, Array.Empty<SealRange>(), replaceDraft: true),
        ["SealUsage"] = s => s.SealUsage("cus_a"),
        ["FinalizeInvoice"] = s => s.FinalizeInvoice(OneInvoice, Array.Empty<SealRange>(), new BillingSeal("cus_a", 1, null), "test"),
        ["GetLedger"] = s => s.GetLedger("cus_a"),
        ["RecordPayment"] = s => s.RecordPayment(new InvoicePayment("inv_1", null, null, Clock.Utc(2026, 11, 1), null, "t@h", Clock.Utc(2026, 11, 1))),
        ["VoidInvoice"] = s => s.VoidInvoice(new InvoiceVoid("inv_1", "why", "t@h", Clock.Utc(2026, 11, 1))),
        ["AddCredit"] = s => s.AddCredit(new CreditGrantRequest("cus_a", 5m, "USD", null, 50, null, "t@h", Clock.Utc(2026, 11, 1))),
        ["IssueCreditNote"] = s => s.IssueCreditNote(new CreditNoteRequest("inv_1", 1m, null, null, "why", "t@h", Clock.Utc(2026, 11, 1))),
        ["GetCreditNotes"] = s => s.GetCreditNotes("cus_a", null),
        ["GetCreditNote"] = s => s.GetCreditNote("CN-1"),
        ["RemoveCredit"] = s => s.RemoveCredit(1, null, "t@h", Clock.Utc(2026, 11, 1)),
        ["GetInvoiceSeals"] = s => s.GetInvoiceSeals("cus_a"),
        ["ReadBillingAudit"] = s => s.ReadBillingAudit("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)),
        ["ReadBilledEvents"] = s => s.ReadBilledEvents("cus_a"),
        ["GetBilledUsage"] = s => s.GetBilledUsage("cus_a"),
        ["ReadLedger"] = s => s.ReadLedger("cus_a", "api", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), null, SealRange.Open).ToList(),
        ["ServicesSealedAfter"] = s => s.ServicesSealedAfter("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), 0),
        ["GetTenantIsolation"] = s => s.GetTenantIsolation(),
        ["EnableTenantIsolation"] = s => s.EnableTenantIsolation(apply: true),
        ["DisableTenantIsolation"] = s => s.DisableTenantIsolation(),
        ["GrantCustomerAccess"] = s => s.GrantCustomerAccess("billing_app", "cus_a"),
        ["RevokeCustomerAccess"] = s => s.RevokeCustomerAccess("billing_app", "cus_a"),
        ["GetCustomerAccess"] = s => s.GetCustomerAccess(null, null),
        ["MayActFor"] = s => s.MayActFor("cus_a"),
        ["SaveAlertAction"] = s => s.SaveAlertAction(new AlertActionRecord("ops", AlertActionKind.Email, "ops@example.com", [QuotaLevel.Exceeded], null, null), null, false, Clock.Utc(2026, 11, 1), "t@h"),
        ["GetAlertActions"] = s => s.GetAlertActions(),
        ["RemoveAlertAction"] = s => s.RemoveAlertAction("ops"),
        ["GetAlertActionSecret"] = s => s.GetAlertActionSecret(1),
        ["ClaimAlertDelivery"] = s => s.ClaimAlertDelivery(Clock.Utc(2026, 11, 1), "h", Clock.Utc(2026, 11, 1, 0, 1), null),
        ["CompleteAlertDelivery"] = s => s.CompleteAlertDelivery(1, "h", new AlertAttemptResult(AlertDeliveryStatus.Delivered, Clock.Utc(2026, 11, 1), null, null)),
        ["HasDueAlertDeliveries"] = s => s.HasDueAlertDeliveries(Clock.Utc(2026, 11, 1)),
        ["GetAlertDeliveries"] = s => s.GetAlertDeliveries(new AlertDeliveryFilter(), Clock.Utc(2026, 11, 1)),
    };

    /// <summary>The methods that change the store: their failures are StoreWriteFailed, the others' StoreReadFailed.</summary>
    private static readonly HashSet<string> Writes = new()
    {
        "Migrate", "RegisterService", "Ingest", "ArchiveRecords", "RefreshSummaries", "RepairRollups", "AddCustomer", "UpdateCustomer", "RemoveCustomer",
        "SaveProfile", "SaveTaxRate", "SavePlan", "SaveQuota", "AddSubscription", "UpdateSubscription", "RaiseAlerts", "SaveDraft", "SealUsage", "FinalizeInvoice",
        "ClaimDelivery", "CompleteDelivery", "AbandonDelivery", "RecordPayment", "VoidInvoice", "AddCredit", "RemoveCredit", "IssueCreditNote", "EnableTenantIsolation", "DisableTenantIsolation", "GrantCustomerAccess", "RevokeCustomerAccess",
        "SaveAlertAction", "RemoveAlertAction", "ClaimAlertDelivery", "CompleteAlertDelivery",
    };

    /// <summary>
    /// Tenant isolation is PostgreSQL row-level security: a SQLite store refuses each of these with
    /// InvalidArgument before it touches the file, broken or not.
    /// </summary>
    private static readonly HashSet<string> TenantIsolationMethods = new()
    {
        "GetTenantIsolation", "EnableTenantIsolation", "DisableTenantIsolation", "GrantCustomerAccess", "RevokeCustomerAccess", "GetCustomerAccess", "MayActFor",
    };

    private static Func<string, string> OnSqlite(Func<string, string> expected) =>
        method => TenantIsolationMethods.Contains(method) ? ErrorIds.InvalidArgument : expected(method);

    /// <summary>These read only the migration table, which the "tables dropped" stores keep.</summary>
    private static readonly HashSet<string> MigrationTableOnly = new() { "GetSchemaVersion", "GetMigrations", "Migrate" };

    private readonly TempDirectory _directory = new();
    private readonly SettableClock _time = new(Clock.Utc(2026, 11, 27, 12));
    private readonly List<IUsageStore> _opened = new();
    private readonly List<string> _databases = new();

    [Fact]
    public void EveryStoreMethod_HasAFailureCase()
    {
        var methods = typeof(IUsageStore).GetMethods().Concat(typeof(IBillingStore).GetMethods())
            .Where(m => !m.IsSpecialName)
            .Select(m => m.Name)
            .ToHashSet();
        Assert.Equal(methods.Order(), Calls.Keys.Order());
        Assert.Subset(methods, Writes);
    }

    [Fact]
    public void Sqlite_FileThatIsNotADatabase_IsStoreUnavailableFromEveryMethod()
    {
        var path = _directory.File("garbage.db");
        File.WriteAllBytes(path, Enumerable.Range(0, 8192).Select(i => (byte)((i * 7 + 13) & 0xFF)).ToArray());
        AssertEveryMethodFails(() => Open(UsageStoreBackend.Sqlite, path), OnSqlite(_ => ErrorIds.StoreUnavailable), unreachable: true);
    }

    [Fact]
    public void Sqlite_FileWhoseTablesWereDropped_IsAReadOrWriteFailureFromEveryMethod()
    {
        var path = _directory.File("dropped.db");
        using (var store = UsageStores.Open(new StoreTarget(UsageStoreBackend.Sqlite, path, UsageStoreSource.Connected), _time))
        {
            store.Ingest(new[] { OneEvent });
        }
        SqliteConnection.ClearAllPools();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'usage_schema_migrations'";
            var tables = new List<string>();
            using (var reader = command.ExecuteReader())
                while (reader.Read())
                    tables.Add(reader.GetString(0));
            command.CommandText = "PRAGMA foreign_keys = OFF; " + string.Concat(tables.Select(t => $"DROP TABLE \"{t}\"; "));
            command.ExecuteNonQuery();
        }
        AssertEveryMethodFails(() => Open(UsageStoreBackend.Sqlite, path), OnSqlite(ReadOrWriteFailure), unreachable: false, except: MigrationTableOnly);
    }

    [Fact]
    public void Sqlite_ValueOfTheWrongType_IsStoreReadFailed()
    {
        // A foreign writer (or a hand edit) left a price that is not a number.
        var path = _directory.File("damaged.db");
        var store = Open(UsageStoreBackend.Sqlite, path);
        store.GetServices();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE usage_services SET display_price = 'twelve' WHERE service_name = 'api'";
            command.ExecuteNonQuery();
        }
        var e = Assert.Throws<UsageException>(() => store.GetServices(refresh: true));
        Assert.Equal(ErrorIds.StoreReadFailed, e.ErrorId);
        Assert.IsType<FormatException>(e.InnerException);
    }

    [SkippableFact]
    public void Postgres_DroppedDatabase_IsStoreUnavailableFromEveryMethod()
    {
        var database = CreateDatabase();
        var warm = Open(UsageStoreBackend.PostgreSql, database);
        warm.Ingest(new[] { OneEvent }); // migrated, with pooled connections open
        Admin($"DROP DATABASE {new NpgsqlConnectionStringBuilder(database).Database} WITH (FORCE)");
        AssertEveryMethodFails(() => Open(UsageStoreBackend.PostgreSql, database), _ => ErrorIds.StoreUnavailable, unreachable: true);
    }

    [SkippableFact]
    public void Postgres_DatabaseWhoseTablesWereDropped_IsAReadOrWriteFailureFromEveryMethod()
    {
        var database = CreateDatabase();
        Open(UsageStoreBackend.PostgreSql, database).Ingest(new[] { OneEvent });
        PostgresServer.Execute(database, """
            DO $$ DECLARE t text;
            BEGIN
                FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'usage_schema_migrations' LOOP
                    EXECUTE format('DROP TABLE IF EXISTS %I CASCADE', t);
                END LOOP;
            END $$
            """);
        AssertEveryMethodFails(() => Open(UsageStoreBackend.PostgreSql, database), ReadOrWriteFailure, unreachable: false, except: MigrationTableOnly);
    }

    [SkippableFact]
    public void Postgres_ConnectionTerminatedWhileStreaming_IsStoreUnavailable()
    {
        var database = CreateDatabase();
        var store = Open(UsageStoreBackend.PostgreSql, database);
        store.Ingest(Enumerable.Range(0, 50_000).Select(i => OneEvent with { EventId = $"evt_{i}", Metadata = $$"""{"padding":"{{new string('x', 200)}}"}""" }).ToList());
        var name = new NpgsqlConnectionStringBuilder(database).Database;
        var read = 0;
        var e = Assert.Throws<UsageException>(() =>
        {
            foreach (var _ in store.ReadRecords(new RecordQuery(UsageFilter.AllCustomers(), null, null)))
                if (++read == 1)
                    Admin($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()");
        });
        Assert.Equal(ErrorIds.StoreUnavailable, e.ErrorId);
        Assert.InRange(read, 1, 49_999);
    }

    [Fact]
    public void ExplicitPathInAMissingFolder_IsStoreUnavailableNamingTheFolder_AndCreatesNothing()
    {
        var folder = _directory.File("typo");
        foreach (var source in new[] { UsageStoreSource.Connected, UsageStoreSource.Environment })
        {
            var store = UsageStores.Open(new StoreTarget(UsageStoreBackend.Sqlite, Path.Combine(folder, "dir", "usage.db"), source), _time);
            _opened.Add(store);
            var e = Assert.Throws<UsageException>(() => store.GetServices());
            Assert.Equal((ErrorIds.StoreUnavailable, (object?)Path.Combine(folder, "dir")), (e.ErrorId, e.Target));
            Assert.Contains(Path.Combine(folder, "dir"), e.Message, StringComparison.Ordinal);
            Assert.Throws<UsageException>(() => store.Ingest(new[] { OneEvent }));
            Assert.False(store.CheckHealth().Reachable);
            Assert.False(Directory.Exists(folder), $"{source}: the folder was created");
        }
    }

    [Fact]
    public void NewFileInAnExistingFolder_StartsAStore_AndTheDefaultStoreCreatesItsFolder()
    {
        var explicitStore = Open(UsageStoreBackend.Sqlite, _directory.File("new.db"));
        Assert.Equal(1, explicitStore.Ingest(new[] { OneEvent }).Inserted);

        var home = _directory.File(Path.Combine("home", "NSelf.Usage"));
        var defaultStore = UsageStores.Open(new StoreTarget(UsageStoreBackend.Sqlite, Path.Combine(home, StoreTarget.DefaultFileName), UsageStoreSource.Default), _time);
        _opened.Add(defaultStore);
        Assert.Equal(1, defaultStore.Ingest(new[] { OneEvent }).Inserted);
        Assert.True(File.Exists(Path.Combine(home, StoreTarget.DefaultFileName)));
    }

    private static string ReadOrWriteFailure(string method) => Writes.Contains(method) ? ErrorIds.StoreWriteFailed : ErrorIds.StoreReadFailed;

    /// <summary>
    /// Calls every method on a store opened fresh for it (so nothing cached hides the failure) and
    /// checks the error id. The health check never throws; it reports.
    /// </summary>
    private static void AssertEveryMethodFails(Func<IUsageStore> open, Func<string, string> expectedId, bool unreachable, IReadOnlySet<string>? except = null)
    {
        var wrong = new List<string>();
        foreach (var (method, call) in Calls.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var store = open();
            try
            {
                var result = call(store);
                if (result is UsageStoreHealth health)
                {
                    if (unreachable && (health.Reachable || health.Error is null))
                        wrong.Add($"{method}: reported reachable ({health.Error ?? "no error"})");
                }
                else if (except?.Contains(method) != true)
                    wrong.Add($"{method}: did not fail");
            }
            catch (UsageException e)
            {
                if (except?.Contains(method) != true && e.ErrorId != expectedId(method))
                    wrong.Add($"{method}: {e.ErrorId} instead of {expectedId(method)} ({e.Message})");
            }
            catch (Exception e)
            {
                wrong.Add($"{method}: raw {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    private IUsageStore Open(UsageStoreBackend backend, string address)
    {
        var store = UsageStores.Open(new StoreTarget(backend, address, UsageStoreSource.Connected), _time);
        _opened.Add(store);
        return store;
    }

    private string CreateDatabase()
    {
        var database = PostgresServer.CreateDatabase();
        _databases.Add(database);
        return database;
    }

    private static void Admin(string sql) => PostgresServer.Execute(PostgresServer.AdminConnectionString!, sql);

    public void Dispose()
    {
        foreach (var store in _opened)
            store.Dispose();
        foreach (var database in _databases)
            PostgresServer.DropDatabase(database);
        _directory.Dispose();
    }
}
