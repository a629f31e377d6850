using NSelf.Usage.Engine.Storage;
using System.Text;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Engine.Configuration;

namespace NSelf.Usage.Engine.Tests.Alerts;

/// <summary>The rules of alert actions, delivery timing and the messages, each pinned with its words.</summary>
public sealed class AlertRuleTests
{
    private static UsageAlert Alert(QuotaLevel level = QuotaLevel.Critical, string service = "api", string customer = "cus_a") => new()
    {
        AlertId = 42, CustomerId = customer, Service = service, Level = level, Used = 9_100.000000m, Limit = 10_000m, Percent = 91.00m,
        PeriodStart = Clock.Utc(2026, 12, 1), PeriodEnd = Clock.Utc(2027, 1, 1), RaisedAt = Clock.Utc(2026, 12, 10, 12, 0, 0).AddTicks(12_340),
        Message = "CRITICAL: api usage at 91% - 9100/10000",
    };

    private static UsageException Refused(Action call) => Assert.Throws<UsageException>(call);

    [Fact]
    public void AnAction_TakesAnAlert_OfOneOfItsLevels_AndItsServiceAndCustomer_IfItNamesThem()
    {
        var every = new AlertActionRecord("a", AlertActionKind.Webhook, "https://x", AlertActionRules.AlertLevels, null, null);
        var narrow = new AlertActionRecord("b", AlertActionKind.Email, "x@y.z", [QuotaLevel.Exceeded], "api", "cus_a");
        Assert.True(every.Takes(Alert(QuotaLevel.Warning, "storage", "cus_b")));
        Assert.True(narrow.Takes(Alert(QuotaLevel.Exceeded)));
        Assert.False(narrow.Takes(Alert(QuotaLevel.Critical)));
        Assert.False(narrow.Takes(Alert(QuotaLevel.Exceeded, service: "storage")));
        Assert.False(narrow.Takes(Alert(QuotaLevel.Exceeded, customer: "cus_b")));
        Assert.False(new AlertActionRecord("c", AlertActionKind.Webhook, "https://x", [QuotaLevel.Exceeded], null, "cus_a").Takes(Alert(QuotaLevel.Exceeded, customer: "cus_b")));
        Assert.True(new AlertActionRecord("d", AlertActionKind.Webhook, "https://x", [QuotaLevel.Exceeded], "api", null).Takes(Alert(QuotaLevel.Exceeded, customer: "cus_b")));
    }

    [Fact]
    public void Names_AreTrimmed_AndRefusedEmpty_TooLong_OrWithControlCharacters()
    {
        Assert.Equal("ops hook", AlertActionRules.Name("  ops hook "));
        Assert.Equal(new string('n', 100), AlertActionRules.Name(new string('n', 100)));
        var empty = Refused(() => AlertActionRules.Name(" "));
        Assert.Equal((ErrorIds.InvalidArgument, "-Name is empty: give the action a name (for example ops-webhook)."), (empty.ErrorId, empty.Message));
        var tooLong = Refused(() => AlertActionRules.Name(new string('n', 101)));
        Assert.StartsWith("-Name 'nnnn", tooLong.Message);
        Assert.EndsWith("' is not a name the module keeps: up to 100 characters, no control characters.", tooLong.Message);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => AlertActionRules.Name("ops\u0007")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => AlertActionRules.Name(null)).ErrorId);
    }

    [Fact]
    public void Webhooks_AreAbsoluteHttpOrHttpsUrls_KeptNormalized()
    {
        Assert.Equal("https://hooks.example.com/usage?x=1", AlertActionRules.Webhook(" HTTPS://Hooks.Example.com/usage?x=1 "));
        Assert.Equal("http://127.0.0.1:9/hook", AlertActionRules.Webhook("http://127.0.0.1:9/hook"));
        foreach (var bad in new[] { "ftp://example.com/x", "/relative", "", "mailto:ops@example.com", "https://exa\nmple.com/", "file:///etc/passwd" })
        {
            var e = Refused(() => AlertActionRules.Webhook(bad));
            Assert.Equal(ErrorIds.InvalidWebhookUri, e.ErrorId);
            Assert.Equal($"-Webhook '{bad}' is not an http or https URL: give the receiver's full address, for example https://hooks.example.com/usage.", e.Message);
        }
        Assert.Equal("-Webhook '' is not an http or https URL: give the receiver's full address, for example https://hooks.example.com/usage.",
            Refused(() => AlertActionRules.Webhook(null)).Message);
    }

    [Fact]
    public void Keys_AreAWhsecSecretsBytes_OrTheTextsBytes_AtLeastSixteen()
    {
        Assert.Equal(Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), AlertActionRules.Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
        Assert.Equal(Encoding.UTF8.GetBytes("sixteen-bytes-ok"), AlertActionRules.Key("sixteen-bytes-ok"));
        Assert.Equal(("-Secret is empty: give the secret the receiver verifies signatures with (for example a whsec_ secret).", ErrorIds.InvalidSecret),
            (Refused(() => AlertActionRules.Key("")).Message, Refused(() => AlertActionRules.Key(null)).ErrorId));
        Assert.Equal("-Secret is too short to sign with: give at least 16 bytes of key (16 characters, or a whsec_ secret); it has 15.",
            Refused(() => AlertActionRules.Key("fifteen-bytes-x")).Message);
        Assert.Equal("-Secret is too short to sign with: give at least 16 bytes of key (16 characters, or a whsec_ secret); it has 12.",
            Refused(() => AlertActionRules.Key("whsec_" + Convert.ToBase64String(new byte[12]))).Message);
        Assert.Equal("-Secret starts with whsec_ but the rest is not base64: a whsec_ secret is the key's bytes in base64.",
            Refused(() => AlertActionRules.Key("whsec_not base64!")).Message);
    }

    [Fact]
    public void Levels_DefaultToAllThree_InOrder_EachOnce()
    {
        Assert.Equal([QuotaLevel.Warning, QuotaLevel.Critical, QuotaLevel.Exceeded], AlertActionRules.Levels(null));
        Assert.Equal([QuotaLevel.Critical, QuotaLevel.Exceeded], AlertActionRules.Levels([QuotaLevel.Exceeded, QuotaLevel.Critical, QuotaLevel.Exceeded]));
        Assert.Equal("-Level is empty: give Warning, Critical or Exceeded, or leave -Level out for all three.", Refused(() => AlertActionRules.Levels([])).Message);
        Assert.Equal("-Level Ok is not a level alerts are raised at: give Warning, Critical or Exceeded.", Refused(() => AlertActionRules.Levels([QuotaLevel.Ok])).Message);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => AlertActionRules.Levels([QuotaLevel.Unlimited])).ErrorId);
    }

    [Fact]
    public void Addresses_AreCheckedAndJoined_EachOnce()
    {
        Assert.Equal("ops@example.com, Pager <pager@example.com>", AlertActionRules.Email(["ops@example.com", "Pager <pager@example.com>", "OPS@example.com"]));
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => AlertActionRules.Email(["not an address"])).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => AlertActionRules.Email(null)).ErrorId);
    }

    [Fact]
    public void Attempts_WaitTheFirstRetry_ThenTwiceAsLongEachTime_AtMostSixHours_UntilTheLast()
    {
        var settings = AlertDeliverySettings.Default;
        Assert.Equal((TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), 10, TimeSpan.FromSeconds(30)),
            (settings.Timeout, settings.FirstRetry, settings.MaxAttempts, settings.Lease));
        Assert.Equal([30, 60, 120, 240, 480, 960, 1920, 3840, 7680], Enumerable.Range(1, 9).Select(a => settings.WaitAfter(a).TotalSeconds));
        Assert.Equal(TimeSpan.FromHours(6), (settings with { FirstRetry = TimeSpan.FromHours(2) }).WaitAfter(3));
        Assert.Equal(TimeSpan.FromHours(6), (settings with { FirstRetry = TimeSpan.FromHours(2) }).WaitAfter(40));
        var now = Clock.Utc(2026, 12, 10, 12);
        Assert.Equal((AlertDeliveryStatus.Pending, (DateTimeOffset?)now.AddSeconds(60)), settings.AfterFailure(2, now));
        Assert.Equal((AlertDeliveryStatus.Pending, (DateTimeOffset?)now.AddSeconds(7680)), settings.AfterFailure(9, now));
        Assert.Equal((AlertDeliveryStatus.Failed, (DateTimeOffset?)null), settings.AfterFailure(10, now));
        Assert.Equal((AlertDeliveryStatus.Failed, (DateTimeOffset?)null), settings.AfterFailure(11, now));
    }

    [Fact]
    public void Settings_ComeFromUsageAlertVariables_WholeNumbersWithinTheirRange()
    {
        static EnvironmentSettings With(params (string, string)[] values) => new(name => values.FirstOrDefault(v => v.Item1 == name).Item2);
        var set = AlertDeliverySettings.From(With(("USAGE_ALERT_TIMEOUT", "2"), ("USAGE_ALERT_RETRY_SECONDS", "1"), ("USAGE_ALERT_MAX_ATTEMPTS", "100")));
        Assert.Equal((TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 100, TimeSpan.FromSeconds(6)), (set.Timeout, set.FirstRetry, set.MaxAttempts, set.Lease));
        Assert.Equal(AlertDeliverySettings.Default, AlertDeliverySettings.From(With()));
        Assert.Equal((TimeSpan.FromSeconds(300), TimeSpan.FromSeconds(86_400), 1),
            AlertDeliverySettings.From(With(("USAGE_ALERT_TIMEOUT", "300"), ("USAGE_ALERT_RETRY_SECONDS", "86400"), ("USAGE_ALERT_MAX_ATTEMPTS", "1"))) is var max
                ? (max.Timeout, max.FirstRetry, max.MaxAttempts) : default);
        foreach (var (name, text, range) in new[] { ("USAGE_ALERT_TIMEOUT", "0", "1 to 300"), ("USAGE_ALERT_TIMEOUT", "301", "1 to 300"), ("USAGE_ALERT_RETRY_SECONDS", "86401", "1 to 86400"),
                     ("USAGE_ALERT_MAX_ATTEMPTS", "0", "1 to 100"), ("USAGE_ALERT_MAX_ATTEMPTS", "101", "1 to 100"), ("USAGE_ALERT_TIMEOUT", "2.5", "1 to 300"), ("USAGE_ALERT_TIMEOUT", "-1", "1 to 300") })
        {
            var e = Refused(() => AlertDeliverySettings.From(With((name, text))));
            Assert.Equal((ErrorIds.InvalidArgument, $"${name} is '{text}': it must be a whole number from {range}."), (e.ErrorId, e.Message));
        }
    }

    [Fact]
    public void TheSignature_IsStandardWebhooks_AsItsSpecificationsExampleSignsIt()
    {
        // The example of https://www.standardwebhooks.com (spec, "Verifying the signature").
        var key = AlertActionRules.Key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        var signature = AlertMessages.Signature(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, Encoding.UTF8.GetBytes("{\"test\": 2432232314}"));
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void TheWebhookBody_IsTheAlert_WithQuantitiesExact_AndTimesInUtc()
    {
        Assert.Equal("alert_42", AlertMessages.WebhookId(42));
        Assert.Equal("usage.alert.exceeded", AlertMessages.EventType(QuotaLevel.Exceeded));
        Assert.Equal("""
            {"type":"usage.alert.critical","timestamp":"2026-12-10T12:00:00.001234Z","data":{"alertId":42,"customerId":"cus_a","service":"api","level":"Critical","used":9100,"limit":10000,"percent":91,"periodStart":"2026-12-01T00:00:00Z","periodEnd":"2027-01-01T00:00:00Z","raisedAt":"2026-12-10T12:00:00.001234Z","message":"CRITICAL: api usage at 91% - 9100/10000"}}
            """, Encoding.UTF8.GetString(AlertMessages.WebhookBody(Alert())));
    }

    [Fact]
    public void TheEmail_IsFromTheSeller_ToEachAddress_WithTheAlertsDetails_AndADeliveryMessageId()
    {
        var mail = AlertMessages.Mail(Alert(), 7, "Beispiel <alerts@beispiel.example>", ["ops@example.com", "Pager <pager@example.com>"], Clock.Utc(2026, 12, 10, 12, 1));
        Assert.Equal(("[cus_a] CRITICAL: api usage at 91% - 9100/10000", "alert-42.7@beispiel.example", "alerts@beispiel.example"),
            (mail.Subject, mail.MessageId, mail.From.Mailboxes.Single().Address));
        Assert.Equal(["ops@example.com", "pager@example.com"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("""
            CRITICAL: api usage at 91% - 9100/10000

            Customer:  cus_a
            Service:   api
            Level:     Critical
            Used:      9100
            Limit:     10000
            Percent:   91 %
            Period:    2026-12-01T00:00:00Z to 2027-01-01T00:00:00Z (UTC)
            Raised:    2026-12-10T12:00:00.001234Z
            Alert id:  42

            This alert is raised once per level and period. Get-UsageQuota and Test-UsageQuota show where the quota stands now.

            """.ReplaceLineEndings("\n"), AlertMessages.MailText(Alert()));
    }
}
