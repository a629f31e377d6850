using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 15, item 1: nself's bulk insert (and an operator with psql or the sqlite3 shell) stores
/// usage of any service name. Every read reports it (no unit, unpriced) instead of failing with
/// InvalidService; a draft invoice shows it on a 0.00 line; finalizing refuses it (UnpricedUsage)
/// until the service is registered. Rows are written with plain SQL, exactly as nself writes them.
/// </summary>
public abstract partial class UsageStoreContract
{
    private static readonly DateTimeOffset SmsAt = Clock.Utc(2026, 11, 10, 10);

    /// <summary>
    /// PostgreSQL: nself's bulk-insert shape (recorded_at explicit or its default now()). SQLite:
    /// the plain INSERT an operator types into the module's table, and the rollup rows the same
    /// statement gives them (INSERT OR IGNORE: a no-op where a trigger already maintained them).
    /// </summary>
    private void InsertLikeNself(string customer, string service, decimal quantity, DateTimeOffset? at)
    {
        if (Store.Backend == UsageStoreBackend.PostgreSql)
        {
            ExecuteSql(at is { } when
                ? $"insert into billing_usage_records(customer_id, service_name, quantity, recorded_at) values ('{customer}','{service}',{quantity},'{when.UtcDateTime:yyyy-MM-dd HH:mm:ss}+00')"
                : $"insert into billing_usage_records(customer_id, service_name, quantity) values ('{customer}','{service}',{quantity})");
            return;
        }
        var micros = (at ?? Time.GetUtcNow()).ToUnixTimeMilliseconds() * 1000;
        const string metadata = "{}";
        ExecuteSql($"""
            INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at)
            VALUES ('op-{Guid.NewGuid():N}', '{customer}', '{service}', {Quantities.ToScaled(quantity)}, '', '{metadata}', {micros}, {micros});
            INSERT OR IGNORE INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
            SELECT customer_id, recorded_at - recorded_at % 900000000, service_name, count(*), sum(quantity), min(quantity), max(quantity)
            FROM billing_usage_records WHERE customer_id = '{customer}' AND service_name = '{service}' GROUP BY 1, 2, 3;
            INSERT OR IGNORE INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
            SELECT customer_id, recorded_at - recorded_at % 86400000000, service_name, count(*), sum(quantity), min(quantity), max(quantity)
            FROM billing_usage_records WHERE customer_id = '{customer}' AND service_name = '{service}' GROUP BY 1, 2, 3;
            """);
    }

    /// <summary>cus_a: 10 api requests through the module, 3 sms by nself's insert, the same quarter hour.</summary>
    private void SmsBesideApi()
    {
        Store.Ingest(new[] { Event("cus_a", "api", 10, SmsAt, "api-1") });
        InsertLikeNself("cus_a", "sms", 3, SmsAt);
    }

    [SkippableFact]
    public void UnregisteredService_StoredByNself_IsReportedUnpricedByEveryUsageRead()
    {
        SmsBesideApi();
        using var watch = UnregisteredServices.Watch();
        var (start, end) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 27));

        foreach (var reports in new[] { new UsageReports(Store), new UsageReports(Store, new PlanCosts(new Subscriptions(Store, Time), TimeZoneInfo.Utc)) })
        {
            var summaries = reports.Summaries(new UsageFilter("cus_a"), start, end);
            Assert.Equal(new[] { ("api", 10m, "requests", 1L), ("sms", 3m, "", 1L) }, summaries.Select(s => (s.Service, s.Quantity, s.Unit, s.Events)));
            Assert.Equal(0m, summaries[1].Cost);
            var sms = Assert.Single(reports.Breakdown(new UsageFilter("cus_a"), start, end, TimeZoneInfo.Utc), b => b.Service == "sms");
            Assert.Equal((3m, "", 0m, new DateTime(2026, 11, 10)), (sms.Quantity, sms.Unit, sms.Cost, sms.Date));
            var aggregate = Assert.Single(reports.Aggregates(new UsageFilter(null), start, end, UsageInterval.Monthly, TimeZoneInfo.Utc), a => a.Service == "sms");
            Assert.Equal(("cus_a", 3m, "", 0m, 1L), (aggregate.CustomerId, aggregate.Total, aggregate.Unit, aggregate.Cost, aggregate.Events));
            // Grouped rows (raw events) too.
            Assert.Contains(reports.Summaries(new UsageFilter("cus_a"), start, end, groupKey: "endpoint"), s => s.Service == "sms" && s.Quantity == 3m);
        }

        var summary = new Invoicing(new Subscriptions(Store, Time), 0m).Summary("cus_a", TimeZoneInfo.Utc, new AlertThresholds(75, 90, 100));
        Assert.Equal(new[] { "sms" }, summary.UnpricedServices);
        Assert.Equal(Money.Round(10m * 0.0001m, "USD"), summary.UsageCost);
        Assert.Equal(new[] { "sms" }, watch.Met);
    }

    [SkippableFact]
    public void UnregisteredService_WithNselfsDefaultRecordedAt_IsReportedAtTheServersNow()
    {
        if (Store.Backend != UsageStoreBackend.PostgreSql)
            return; // SQLite has no default time: the operator's INSERT names it (the test above).
        Store.Ingest(new[] { Event("cus_a", "api", 1, SmsAt, "api-1") });
        InsertLikeNself("cus_a", "sms", 3, null);
        var now = DateTimeOffset.UtcNow;
        var rows = new UsageReports(Store).Summaries(new UsageFilter("cus_a"), now.AddDays(-1), now.AddDays(1));
        Assert.Equal(("sms", 3m, "", 0m), rows.Select(r => (r.Service, r.Quantity, r.Unit, r.Cost)).Single());
    }

    [SkippableFact]
    public void UnregisteredService_DraftShowsItUnpriced_FinalizingRefusesUntilRegistered()
    {
        SmsBesideApi();
        var invoicing = new Invoicing(new Subscriptions(Store, Time), 0m);
        using var watch = UnregisteredServices.Watch();
        var draft = invoicing.Create("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 20), TimeZoneInfo.Utc, regenerateDraft: false).Invoice;
        var line = Assert.Single(draft.Lines, l => l.Service == "sms");
        Assert.Equal((3m, (decimal?)null, 0.00m, 1L, (string?)null), (line.Quantity, line.UnitPrice, line.Amount, line.Events, line.Unit));
        Assert.Equal("sms: 3 (unpriced: service 'sms' is not registered; Register-UsageService -Name sms -Unit <unit> prices it)", line.Description);
        Assert.Equal(new[] { "sms" }, watch.Met);

        var refused = Assert.Throws<UsageException>(() => invoicing.Complete(draft.InvoiceId, TimeZoneInfo.Utc));
        Assert.Equal((ErrorIds.UnpricedUsage, UsageErrorKind.InvalidOperation, (object?)draft.InvoiceId), (refused.ErrorId, refused.Kind, refused.Target));
        Assert.Equal($"Invoice '{draft.InvoiceId}' bills usage of unregistered service(s) 'sms', which have no price; finalizing would seal that usage "
            + "onto a 0.00 line for good. Register them first (Register-UsageService -Name sms -Unit <unit>), then finalize: the draft is priced again.", refused.Message);
        // Refused before anything was written: still a draft, and no usage sealed.
        Assert.Equal(InvoiceStatus.Draft, Store.GetInvoice(draft.InvoiceId)!.Status);
        Assert.Empty(Store.GetInvoiceSeals("cus_a"));
        foreach (var service in new[] { "api", "sms" })
            Assert.Single(Store.ReadLedger("cus_a", service, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 20), SealRange.Open - 1, SealRange.Open));

        Store.RegisterService(new UsageService { Name = "sms", Unit = "messages", DisplayPrice = 0.01m, Currency = "USD", BuiltIn = false }, replace: false);
        var final = invoicing.Complete(draft.InvoiceId, TimeZoneInfo.Utc);
        var priced = Assert.Single(final.Lines, l => l.Service == "sms");
        Assert.Equal((InvoiceStatus.Open, 3m, (decimal?)0.01m, 0.03m, "messages"), (final.Status, priced.Quantity, priced.UnitPrice, priced.Amount, priced.Unit));
        Assert.Equal("sms: 3 messages", priced.Description);
    }

    [SkippableFact]
    public void UnregisteredService_StoredLateIntoAFinalizedPeriod_IsAnUnpricedAdjustment_ThatFinalizingRefuses()
    {
        Store.Ingest(new[] { Event("cus_a", "api", 10, Clock.Utc(2026, 10, 10, 10), "api-oct") });
        var invoicing = new Invoicing(new Subscriptions(Store, Time), 0m);
        var october = invoicing.Create("cus_a", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1), TimeZoneInfo.Utc, regenerateDraft: false).Invoice;
        invoicing.Complete(october.InvoiceId, TimeZoneInfo.Utc);
        // nself's tools store sms usage into October after its invoice was finalized.
        InsertLikeNself("cus_a", "sms", 4, Clock.Utc(2026, 10, 20, 9));
        var november = invoicing.Create("cus_a", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, regenerateDraft: false).Invoice;
        var late = Assert.Single(november.Lines, l => l.Service == "sms");
        Assert.Equal((InvoiceLineKind.Adjustment, 4m, (decimal?)null, 0.00m), (late.Kind, late.Quantity, late.UnitPrice, late.Amount));
        Assert.EndsWith(" (unpriced: service 'sms' is not registered; Register-UsageService -Name sms -Unit <unit> prices it)", late.Description, StringComparison.Ordinal);
        var refused = Assert.Throws<UsageException>(() => invoicing.Complete(november.InvoiceId, TimeZoneInfo.Utc));
        Assert.Equal(ErrorIds.UnpricedUsage, refused.ErrorId);
    }

    [SkippableFact]
    public void UnregisteredService_WritingThroughTheModule_IsStillRefused()
    {
        var refused = Assert.Throws<UsageException>(() => Event("cus_a", "sms", 3, SmsAt));
        Assert.Equal((ErrorIds.InvalidService, (object?)"sms"), (refused.ErrorId, refused.Target));
    }
}
