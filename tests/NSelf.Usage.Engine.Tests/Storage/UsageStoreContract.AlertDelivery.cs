using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Tests.Alerts;
using NSelf.Usage.Engine.Tests.Mail;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 20: alerts that reach people. A new alert is queued in the transaction that records it
/// (a trigger, for every writer), delivered by a sender holding a lease, retried with backoff, and
/// received once per webhook-id. Real receivers: an HTTP listener and an SMTP server.
/// </summary>
public abstract partial class UsageStoreContract
{
    private const string HookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private AlertActions AlertActions(IUsageStore? store = null) => new(store ?? Store, Time);

    private AlertDeliverer Deliverer(IUsageStore? store = null, EnvironmentSettings? environment = null) =>
        new(store ?? Store, Time, AlertDeliverySettings.Default with { Timeout = TimeSpan.FromSeconds(5) }, environment ?? NoEnvironment);

    /// <summary>A customer on the free plan (api: 10,000 requests a month, hard) with <paramref name="requests"/> api requests in December.</summary>
    private void ApiUse(string customer, int requests)
    {
        if (Store.GetSubscriptions(customer).Count == 0)
            Book.Subscribe(customer, "free", BillingCycle.Monthly, Clock.Utc(2026, 12, 1), null);
        Use(customer, "api", requests, Time.GetUtcNow().AddMinutes(-1));
    }

    private static bool SignatureHolds(ReceivedWebhook hook, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{hook.Headers["webhook-id"]}.{hook.Headers["webhook-timestamp"]}.").Concat(hook.Body).ToArray();
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
        return hook.Headers["webhook-signature"].Split(' ').Contains(expected);
    }

    [SkippableFact]
    public void Alerts_CrossingCriticalThenExceeded_ReachAWebhookTwice_SignedWithTheSecret()
    {
        using var receiver = new WebhookReceiver();
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", receiver.Url, HookSecret, null, null, null, null, replace: false);

        ApiUse("cus_hook", 9_100);
        CheckQuotas("cus_hook", "api");
        var first = Deliverer().Deliver(null, default).ToList();
        Time.SetUtcNow(Clock.Utc(2026, 12, 11, 12));
        ApiUse("cus_hook", 1_000);
        CheckQuotas("cus_hook", "api");
        // A check that raises nothing new sends nothing.
        CheckQuotas("cus_hook", "api");
        var second = Deliverer(Open()).Deliver(null, default).ToList();

        Assert.Equal([(AlertDeliveryStatus.Delivered, 1, QuotaLevel.Critical)], first.Select(d => (d.Status, d.Attempts, d.Level)));
        Assert.Equal([(AlertDeliveryStatus.Delivered, 1, QuotaLevel.Exceeded)], second.Select(d => (d.Status, d.Attempts, d.Level)));
        Assert.Equal(2, receiver.Received.Count);
        Assert.All(receiver.Received, hook => Assert.True(SignatureHolds(hook, HookSecret)));
        Assert.False(SignatureHolds(receiver.Received[0], "whsec_" + Convert.ToBase64String(new byte[24])));
        var alerts = Store.GetAlerts("cus_hook", Clock.Utc(2026, 12, 1));
        Assert.Equal(alerts.Select(a => $"alert_{a.AlertId}"), receiver.Received.Select(h => h.Headers["webhook-id"]));
        Assert.Equal("application/json", receiver.Received[0].Headers["content-type"]);
        Assert.Equal(Clock.Utc(2026, 12, 10, 12).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), receiver.Received[0].Headers["webhook-timestamp"]);

        using var body = JsonDocument.Parse(receiver.Received[1].Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(("usage.alert.exceeded", "cus_hook", "api", "Exceeded", 10_100m, 10_000m, 101m),
            (body.RootElement.GetProperty("type").GetString(), data.GetProperty("customerId").GetString(), data.GetProperty("service").GetString(),
             data.GetProperty("level").GetString(), data.GetProperty("used").GetDecimal(), data.GetProperty("limit").GetDecimal(), data.GetProperty("percent").GetDecimal()));
        Assert.Equal(("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", "2026-12-11T12:00:00Z"),
            (data.GetProperty("periodStart").GetString(), data.GetProperty("periodEnd").GetString(), data.GetProperty("raisedAt").GetString()));
        Assert.Equal(alerts[1].Message, data.GetProperty("message").GetString());
        Assert.Equal([AlertDeliveryStatus.Delivered, AlertDeliveryStatus.Delivered],
            Store.GetAlertDeliveries(new AlertDeliveryFilter { CustomerId = "cus_hook" }, Time.GetUtcNow()).Select(d => d.Status));
    }

    [SkippableFact]
    public void Delivery_ToAReceiverThatIsDown_IsRetriedWithBackoff_AndArrivesOnceWhenItIsBack()
    {
        using var receiver = new WebhookReceiver(start: false);
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", receiver.Url, HookSecret, null, null, null, null, replace: false);
        ApiUse("cus_down", 9_500);
        CheckQuotas("cus_down", "api");

        var refused = Assert.Single(Deliverer().Deliver(null, default));
        Assert.Equal((AlertDeliveryStatus.Pending, 1, Clock.Utc(2026, 12, 10, 12, 0, 30)), (refused.Status, refused.Attempts, refused.NextAttemptAt!.Value));
        Assert.StartsWith($"Could not reach http://127.0.0.1:{receiver.Port}", refused.LastError);
        // Not due before its backoff ends.
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12, 0, 29));
        Assert.Empty(Deliverer().Deliver(null, default));
        Assert.False(Store.HasDueAlertDeliveries(Time.GetUtcNow()));

        // The receiver answers 503: the second wait is twice the first.
        receiver.Start();
        receiver.Status = HttpStatusCode.ServiceUnavailable;
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12, 0, 30));
        Assert.True(Store.HasDueAlertDeliveries(Time.GetUtcNow()));
        var unavailable = Assert.Single(Deliverer().Deliver(null, default));
        Assert.Equal((AlertDeliveryStatus.Pending, 2, Clock.Utc(2026, 12, 10, 12, 1, 30), "HTTP 503 Service Unavailable: down for maintenance"),
            (unavailable.Status, unavailable.Attempts, unavailable.NextAttemptAt!.Value, unavailable.LastError));

        receiver.Status = HttpStatusCode.NoContent;
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12, 1, 30));
        var delivered = Assert.Single(Deliverer().Deliver(null, default));
        Assert.Equal((AlertDeliveryStatus.Delivered, 3, (DateTimeOffset?)Clock.Utc(2026, 12, 10, 12, 1, 30)), (delivered.Status, delivered.Attempts, delivered.DeliveredAt));
        Assert.Empty(Deliverer().Deliver(null, default));
        Assert.Equal(2, receiver.Received.Count);
        Assert.Single(receiver.Received.Select(h => h.Headers["webhook-id"]).Distinct());
        // Every attempt sends the same body (the alert's), signed anew.
        Assert.Equal(receiver.Received[0].Body, receiver.Received[1].Body);
    }

    [SkippableFact]
    public void Delivery_GivesUpAfterTheLastAttempt_AndIsTriedAgainOnlyWhenAskedFor()
    {
        using var receiver = new WebhookReceiver { Status = HttpStatusCode.InternalServerError };
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", receiver.Url, HookSecret, null, null, null, null, replace: false);
        ApiUse("cus_fail", 9_500);
        CheckQuotas("cus_fail", "api");
        var settings = AlertDeliverySettings.Default with { MaxAttempts = 3, FirstRetry = TimeSpan.FromSeconds(10) };
        var deliverer = new AlertDeliverer(Store, Time, settings, NoEnvironment);

        var attempts = new List<UsageAlertDelivery>();
        for (var i = 0; i < 3; i++)
        {
            attempts.AddRange(deliverer.Deliver(null, default));
            Time.SetUtcNow(Time.GetUtcNow().AddMinutes(5));
        }

        Assert.Equal([(AlertDeliveryStatus.Pending, 1), (AlertDeliveryStatus.Pending, 2), (AlertDeliveryStatus.Failed, 3)], attempts.Select(a => (a.Status, a.Attempts)));
        Assert.Null(attempts[2].NextAttemptAt);
        Assert.Empty(deliverer.Deliver(null, default));
        receiver.Status = HttpStatusCode.OK;
        var again = Assert.Single(deliverer.Deliver([attempts[2].DeliveryId], default));
        Assert.Equal((AlertDeliveryStatus.Delivered, 4), (again.Status, again.Attempts));
        // A delivered one is not sent again, even when asked for.
        Assert.Empty(deliverer.Deliver([attempts[2].DeliveryId], default));
        Assert.Equal(4, receiver.Received.Count);
    }

    [SkippableFact]
    public void Claims_AreHeldUnderALease_TwoSendersNeverHoldTheSameDelivery_AndAnExpiredClaimIsTakenOver()
    {
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", "http://127.0.0.1:9/hook", HookSecret, null, null, null, null, replace: false);
        ApiUse("cus_lease", 9_500);
        CheckQuotas("cus_lease", "api");
        var now = Time.GetUtcNow();
        var other = Open();

        var first = Store.ClaimAlertDelivery(now, "host-a", now.AddSeconds(30));
        Assert.NotNull(first);
        Assert.Null(other.ClaimAlertDelivery(now.AddSeconds(29), "host-b", now.AddSeconds(59)));
        Assert.True(Assert.Single(Store.GetAlertDeliveries(new AlertDeliveryFilter(), now.AddSeconds(1))).Leased);
        // host-a was killed: at the end of its lease host-b takes the delivery over, as attempt 2.
        var taken = other.ClaimAlertDelivery(now.AddSeconds(30), "host-b", now.AddSeconds(60));
        Assert.Equal((first.DeliveryId, 2), (taken!.DeliveryId, taken.Attempt));
        // host-a's late answer changes nothing: the lease is host-b's.
        Store.CompleteAlertDelivery(first.DeliveryId, "host-a", new AlertAttemptResult(AlertDeliveryStatus.Delivered, now.AddSeconds(31), null, null));
        Assert.Equal(AlertDeliveryStatus.Pending, Assert.Single(Store.GetAlertDeliveries(new AlertDeliveryFilter(), now.AddSeconds(31))).Status);
        var done = other.CompleteAlertDelivery(first.DeliveryId, "host-b", new AlertAttemptResult(AlertDeliveryStatus.Delivered, now.AddSeconds(32), null, null));
        Assert.Equal((AlertDeliveryStatus.Delivered, 2, false), (done!.Status, done.Attempts, done.Leased));
    }

    [SkippableFact]
    public void Claims_FromTwoHostsAtOnce_TakeEachDeliveryOnce()
    {
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", "http://127.0.0.1:9/hook", HookSecret, null, null, null, null, replace: false);
        for (var i = 0; i < 12; i++)
            ApiUse($"cus_race{i:00}", 9_500);
        Book.TermsFor(null, TimeZoneInfo.Utc).ToList().ForEach(t => CheckQuotas(t.CustomerId, "api"));
        var now = Time.GetUtcNow();
        var hosts = new[] { Open(), Open() };
        using var barrier = new Barrier(2);

        var claimed = hosts.AsParallel().WithDegreeOfParallelism(2).SelectMany((store, h) =>
        {
            barrier.SignalAndWait();
            var mine = new List<long>();
            while (store.ClaimAlertDelivery(now, $"host{h}", now.AddMinutes(1)) is { } work)
                mine.Add(work.DeliveryId);
            return mine;
        }).ToList();

        Assert.Equal(12, claimed.Count);
        Assert.Equal(12, claimed.Distinct().Count());
    }

    [SkippableFact]
    public void AnAlertRecordedByPlainSql_IsQueuedForTheActionsThatTakeIt_AndDelivered()
    {
        using var receiver = new WebhookReceiver();
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        var actions = AlertActions();
        actions.Register("everything", receiver.Url, HookSecret, null, null, null, null, replace: false);
        actions.Register("critical-api-of-a", receiver.Url + "?critical", HookSecret, null, [QuotaLevel.Critical, QuotaLevel.Exceeded], "api", "cus_sql_a", replace: false);
        actions.Register("warnings", receiver.Url + "?warnings", HookSecret, null, [QuotaLevel.Warning], null, null, replace: false);

        // An operator (or nself's tools) records alerts with plain SQL: each goes to every action that takes it.
        ExecuteSql(InsertAlertSql("cus_sql_a", "api", "critical", Clock.Utc(2026, 12, 10, 11)));
        ExecuteSql(InsertAlertSql("cus_sql_b", "api", "critical", Clock.Utc(2026, 12, 10, 11)));
        ExecuteSql(InsertAlertSql("cus_sql_a", "storage", "warning", Clock.Utc(2026, 12, 10, 11)));

        var queued = Store.GetAlertDeliveries(new AlertDeliveryFilter(), Time.GetUtcNow());
        Assert.Equal(["cus_sql_a api Critical everything", "cus_sql_a api Critical critical-api-of-a", "cus_sql_b api Critical everything",
                "cus_sql_a storage Warning everything", "cus_sql_a storage Warning warnings"],
            queued.Select(d => $"{d.CustomerId} {d.Service} {d.Level} {d.Action}"));
        Assert.Equal(5, Deliverer().Deliver(null, default).Count(d => d.Status == AlertDeliveryStatus.Delivered));
        Assert.Equal(["/hook", "/hook?critical", "/hook", "/hook", "/hook?warnings"], receiver.Received.Select(h => h.Path));
    }

    private string InsertAlertSql(string customer, string service, string level, DateTimeOffset at) =>
        "INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message) "
        + $"VALUES ('{customer}', '{service}', '{level}', 95, 100, 95, {TimeSql(Clock.Utc(2026, 12, 1))}, {TimeSql(Clock.Utc(2027, 1, 1))}, {TimeSql(at)}, "
        + $"'{level.ToUpperInvariant()}: {service} usage at 95%')";

    /// <summary>An instant as this database's SQL writes it: SQLite's microseconds, PostgreSQL's timestamptz literal.</summary>
    protected abstract string TimeSql(DateTimeOffset at);

    [SkippableFact]
    public void RemovingAnAction_CancelsWhatItHadNotDelivered_AndKeepsWhatItHad()
    {
        using var receiver = new WebhookReceiver();
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        AlertActions().Register("ops", receiver.Url, HookSecret, null, null, null, null, replace: false);
        ApiUse("cus_rm", 8_000);
        CheckQuotas("cus_rm", "api");
        Assert.Single(Deliverer().Deliver(null, default));
        ApiUse("cus_rm", 1_500);
        CheckQuotas("cus_rm", "api");

        AlertActions().Remove("ops");

        Assert.Equal([("ops", AlertDeliveryStatus.Delivered), ("ops", AlertDeliveryStatus.Cancelled)],
            Store.GetAlertDeliveries(new AlertDeliveryFilter(), Time.GetUtcNow()).Select(d => (d.Action, d.Status)));
        Assert.Empty(Deliverer().Deliver(null, default));
        Assert.Empty(Store.GetAlertActions());
        Assert.Equal(0, CountSql("SELECT count(*) FROM usage_alert_action_secrets"));
        var gone = Assert.Throws<UsageException>(() => AlertActions().Remove("ops"));
        Assert.Equal(ErrorIds.AlertActionNotFound, gone.ErrorId);
    }

    [SkippableFact]
    public void Actions_AreSavedChecked_ReplacedOnlyWithForce_AndNeverShowTheirSecret()
    {
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        var actions = AlertActions();
        var hook = actions.Register(" ops ", "HTTPS://Hooks.Example.com/usage", HookSecret, null, [QuotaLevel.Exceeded, QuotaLevel.Critical], "API", null, replace: false);
        Assert.Equal(("ops", AlertActionKind.Webhook, "https://hooks.example.com/usage", "Critical,Exceeded", "api", true),
            (hook.Name, hook.Kind, hook.Target, string.Join(",", hook.Level), hook.Service, hook.SecretSet));
        Assert.DoesNotContain(typeof(UsageAlertAction).GetProperties(), p => p.Name.Contains("Secret", StringComparison.Ordinal) && p.PropertyType == typeof(string));

        var exists = Assert.Throws<UsageException>(() => actions.Register("ops", "https://other.example/", HookSecret, null, null, null, null, replace: false));
        Assert.Equal(ErrorIds.AlertActionExists, exists.ErrorId);
        var mail = actions.Register("ops", null, null, ["ops@example.com", "Pager <pager@example.com>", "OPS@example.com"], null, null, "cus_x", replace: true);
        Assert.Equal((AlertActionKind.Email, "ops@example.com, Pager <pager@example.com>", "Warning,Critical,Exceeded", "cus_x", false),
            (mail.Kind, mail.Target, string.Join(",", mail.Level), mail.CustomerId, mail.SecretSet));
        Assert.Equal(0, CountSql("SELECT count(*) FROM usage_alert_action_secrets"));
        Assert.Equal(["ops"], Store.GetAlertActions().Select(a => a.Name));

        foreach (var (call, id) in new (Action Call, string Id)[]
        {
            (() => actions.Register("a", "ftp://example.com/hook", HookSecret, null, null, null, null, false), ErrorIds.InvalidWebhookUri),
            (() => actions.Register("a", "/relative/hook", HookSecret, null, null, null, null, false), ErrorIds.InvalidWebhookUri),
            (() => actions.Register("a", "", HookSecret, null, null, null, null, false), ErrorIds.InvalidWebhookUri),
            (() => actions.Register("a", "https://example.com/", "", null, null, null, null, false), ErrorIds.InvalidSecret),
            (() => actions.Register("a", "https://example.com/", "short", null, null, null, null, false), ErrorIds.InvalidSecret),
            (() => actions.Register("a", "https://example.com/", "whsec_not base64!", null, null, null, null, false), ErrorIds.InvalidSecret),
            (() => actions.Register("a", null, null, ["not-an-address"], null, null, null, false), ErrorIds.InvalidArgument),
            (() => actions.Register("a", null, null, [], null, null, null, false), ErrorIds.InvalidArgument),
            (() => actions.Register("a", "https://example.com/", HookSecret, null, [QuotaLevel.Ok], null, null, false), ErrorIds.InvalidArgument),
            (() => actions.Register("", "https://example.com/", HookSecret, null, null, null, null, false), ErrorIds.InvalidArgument),
            (() => actions.Register("a", "https://example.com/", HookSecret, null, null, "nosuchservice", null, false), ErrorIds.InvalidService),
            (() => actions.Register("a", "https://example.com/", HookSecret, null, null, null, "bad id!", false), ErrorIds.InvalidCustomerId),
        })
            Assert.Equal(id, Assert.Throws<UsageException>(call).ErrorId);
        Assert.Equal(["ops"], Store.GetAlertActions().Select(a => a.Name));
    }

    [SkippableFact]
    public async Task AnEmailAction_MailsTheAlert_ThroughTheSmtpServer_OnceWithTheDeliverysMessageId()
    {
        await using var server = await LocalSmtpServer.StartAsync();
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        Store.SaveProfile(new ProfileChange(LegalName: "Beispiel GmbH", Email: "alerts@beispiel.example"));
        AlertActions().Register("ops-mail", null, null, ["ops@beispiel.example", "Pager <pager@beispiel.example>"], [QuotaLevel.Exceeded, QuotaLevel.Critical], null, null, replace: false);
        ApiUse("cus_mail", 9_200);
        CheckQuotas("cus_mail", "api");

        var delivery = Assert.Single(Deliverer(environment: Smtp(server)).Deliver(null, default));

        Assert.Equal((AlertDeliveryStatus.Delivered, 1), (delivery.Status, delivery.Attempts));
        var mail = Assert.Single(server.Received);
        Assert.Equal("alerts@beispiel.example", mail.EnvelopeFrom);
        Assert.Equal(["ops@beispiel.example", "pager@beispiel.example"], mail.EnvelopeTo);
        var alert = Assert.Single(Store.GetAlerts("cus_mail", Clock.Utc(2026, 12, 1)));
        Assert.Equal($"[cus_mail] {alert.Message}", mail.Message.Subject);
        Assert.Equal($"alert-{alert.AlertId}.{delivery.DeliveryId}@beispiel.example", mail.Message.MessageId);
        Assert.Contains("Used:      9200", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("Limit:     10000", mail.Message.TextBody, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void AnEmailAction_WithoutAnSmtpServer_WaitsForARetry_SayingWhy()
    {
        Time.SetUtcNow(Clock.Utc(2026, 12, 10, 12));
        Store.SaveProfile(new ProfileChange(LegalName: "Beispiel GmbH", Email: "alerts@beispiel.example"));
        AlertActions().Register("ops-mail", null, null, ["ops@beispiel.example"], null, null, null, replace: false);
        ApiUse("cus_nosmtp", 9_200);
        CheckQuotas("cus_nosmtp", "api");

        var delivery = Assert.Single(Deliverer().Deliver(null, default));

        Assert.Equal((AlertDeliveryStatus.Pending, 1), (delivery.Status, delivery.Attempts));
        Assert.StartsWith("No SMTP server is set", delivery.LastError);
    }
}
