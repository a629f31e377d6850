using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 24: what Test-UsageQuota reports and records, each rule held on every backend (the
/// checker reads the rollups and the recorded alerts from the store).
/// </summary>
public abstract partial class UsageStoreContract
{
    private static BillingQuota CustomerQuota(string customer, string service, decimal? limit, string limitType, QuotaEnforcement enforcement) => new()
    {
        CustomerId = customer, Service = service, Limit = limit, LimitType = limitType, UsageUnit = limitType, Enforcement = enforcement,
        ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0,
    };

    [SkippableFact]
    public void QuotaCheck_OfEveryService_IsOneStatusPerQuota_InOrdinalServiceOrder_WithItsPlanUnitEnforcementAndPeriod()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_every", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        // A customer override (soft, 500) replaces the free plan's functions quota (hard, 1000);
        // its own Plan is empty, so the status names the subscription's plan.
        Store.SaveQuota(CustomerQuota("cus_every", "functions", 500, "invocations", QuotaEnforcement.Soft));
        Use("cus_every", "api", 100, Clock.Utc(2026, 11, 5));
        Use("cus_every", "functions", 400, Clock.Utc(2026, 11, 5));

        var checks = new QuotaChecker(Book, Thresholds).Check(new[] { Book.Terms("cus_every", TimeZoneInfo.Utc) }, null, raiseAlerts: false);

        // The free plan's six quotas, each in its service's unit (database: queries). functions: 400 of 500 is 80%, a Warning (75 <= 80 < 90).
        Assert.Equal(new[]
        {
            ("api", "free", "requests", QuotaEnforcement.Hard, 100m, 10_000m, QuotaLevel.Ok),
            ("bandwidth", "free", "GB", QuotaEnforcement.Hard, 0m, 10m, QuotaLevel.Ok),
            ("compute", "free", "CPU-hours", QuotaEnforcement.Hard, 0m, 10m, QuotaLevel.Ok),
            ("database", "free", "queries", QuotaEnforcement.Hard, 0m, 1_000m, QuotaLevel.Ok),
            ("functions", "free", "invocations", QuotaEnforcement.Soft, 400m, 500m, QuotaLevel.Warning),
            ("storage", "free", QuotaUnits.AverageGb, QuotaEnforcement.Hard, 0m, 1m, QuotaLevel.Ok),
        }, checks.Select(c => (c.Status.Service, c.Status.Plan!, c.Status.Unit, c.Status.Enforcement, c.Status.Used, c.Status.Limit!.Value, c.Status.Level)));
        Assert.All(checks, c => Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), "cus_every"), (c.Status.PeriodStart, c.Status.PeriodEnd, c.Status.CustomerId)));
        // A dry check raises nothing, not even the Warning.
        Assert.All(checks, c => Assert.Equal((false, (string?)null), (c.Status.Alerted, c.Warning)));
        Assert.Empty(Store.GetAlerts(null, Clock.Utc(2026, 11, 1)));
    }

    [SkippableFact]
    public void QuotaCheck_OfManyCustomers_ReadsEachQuotaInItsOwnWindow_WhenACustomersQuotasShareOneRead()
    {
        // One read per customer and window serves every quota resetting in it (issue 21): each
        // status must still be its own service's use in its own window. cus_q1's api quota resets
        // daily (an override), its database quota with its period from Nov 1; cus_q2's period
        // starts Nov 5, so its use before then is not counted.
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_q1", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Book.Subscribe("cus_q2", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 5), null);
        Store.SaveQuota(new BillingQuota
        {
            CustomerId = "cus_q1", Service = "api", Limit = 50, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Hard,
            ResetPeriod = QuotaResetPeriod.Daily, PricingModel = PricingModel.PerUnit, OveragePrice = 0,
        });
        Use("cus_q1", "api", 7, Clock.Utc(2026, 11, 9));
        Use("cus_q1", "api", 4, Clock.Utc(2026, 11, 10, 1));
        Use("cus_q1", "database", 3, Clock.Utc(2026, 11, 2));
        Use("cus_q1", "database", 2, Clock.Utc(2026, 11, 10));
        Use("cus_q2", "api", 6, Clock.Utc(2026, 11, 3));
        Use("cus_q2", "api", 9, Clock.Utc(2026, 11, 6));
        Use("cus_q2", "database", 1, Clock.Utc(2026, 11, 10));

        var checks = new QuotaChecker(Book, Thresholds).Check(Book.TermsFor(new[] { "cus_q1", "cus_q2" }, TimeZoneInfo.Utc), null, raiseAlerts: false);

        var used = checks.Where(c => c.Status.Service is "api" or "database")
            .Select(c => (c.Status.CustomerId, c.Status.Service, c.Status.Used, c.Status.PeriodStart, c.Status.PeriodEnd));
        Assert.Equal(new[]
        {
            ("cus_q1", "api", 4m, Clock.Utc(2026, 11, 10), Clock.Utc(2026, 11, 11)),
            ("cus_q1", "database", 5m, Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)),
            ("cus_q2", "api", 9m, Clock.Utc(2026, 11, 5), Clock.Utc(2026, 12, 5)),
            ("cus_q2", "database", 1m, Clock.Utc(2026, 11, 5), Clock.Utc(2026, 12, 5)),
        }, used);
        Assert.All(checks.Where(c => c.Status.Service is not ("api" or "database")), c => Assert.Equal(0m, c.Status.Used));
    }

    [SkippableFact]
    public void QuotaCheck_OfACustomerWithoutQuotas_IsEmpty()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Use("cus_noquota", "api", 5, Clock.Utc(2026, 11, 5));
        Assert.Empty(CheckQuotas("cus_noquota"));
        Assert.Empty(CheckQuotas("cus_noquota", "api"));
    }

    [SkippableFact]
    public void StorageQuota_UsedRemainingAndPercent_AreRoundedHalfAwayFromZero()
    {
        // November has 720 hours; the free plan allows 1 GB on average.
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_avg", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_avg", "storage", 2, Clock.Utc(2026, 11, 5));
        // 2 GB-hours / 720 = 0.0027777... GB -> 0.002778 used (not 0.002777); 0.27777...% -> 0.28%;
        // 1 - 0.0027777... = 0.9972222... -> 0.997222 remaining.
        var first = Assert.Single(CheckQuotas("cus_avg", "storage")).Status;
        Assert.Equal((0.002778m, 0.997222m, 0.28m, QuotaLevel.Ok), (first.Used, first.Remaining!.Value, first.Percent!.Value, first.Level));
        Use("cus_avg", "storage", 5, Clock.Utc(2026, 11, 6));
        // 7 / 720 = 0.0097222... -> 0.009722; 1 - 0.0097222... = 0.9902777... -> 0.990278 (not 0.990277); 0.97222...% -> 0.97%.
        var second = Assert.Single(CheckQuotas("cus_avg", "storage")).Status;
        Assert.Equal((0.009722m, 0.990278m, 0.97m), (second.Used, second.Remaining!.Value, second.Percent!.Value));
    }

    [SkippableFact]
    public void QuotaAlert_IsRecordedWithTheUseLimitPercentPeriodAndMessage_AtTheCheckTimeToTheMicrosecond()
    {
        // 12:00:00.1234567: the store keeps microseconds, so the alert is raised at 12:00:00.123456.
        var now = Clock.Utc(2026, 11, 10, 12).AddTicks(1_234_567);
        Time.SetUtcNow(now);
        Book.Subscribe("cus_rec", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_rec", "api", 8_000, Clock.Utc(2026, 11, 5));
        var check = Assert.Single(CheckQuotas("cus_rec", "api"));
        Assert.Equal((true, "WARNING: api usage at 80% - 8000/10000"), (check.Status.Alerted, check.Warning));

        var alert = Assert.Single(Store.GetAlerts("cus_rec", Clock.Utc(2026, 11, 1)));
        Assert.Equal(("cus_rec", "api", QuotaLevel.Warning, 8_000m, 10_000m, 80m), (alert.CustomerId, alert.Service, alert.Level, alert.Used, alert.Limit, alert.Percent));
        Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), Clock.Utc(2026, 11, 10, 12).AddTicks(1_234_560)), (alert.PeriodStart, alert.PeriodEnd, alert.RaisedAt));
        Assert.Equal("WARNING: api usage at 80% - 8000/10000", alert.Message);
    }

    [SkippableFact]
    public void QuotaAlert_OfAZeroLimit_IsRecordedAtZeroPercent()
    {
        // A zero limit has no percent to show (∞ in the message); the store's column gets 0.
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Store.SaveQuota(CustomerQuota("cus_zero_alert", "api", 0, "requests", QuotaEnforcement.Hard));
        Use("cus_zero_alert", "api", 3, Clock.Utc(2026, 11, 5));
        Assert.Equal("QUOTA EXCEEDED: api - 3/0 (∞%)", Assert.Single(CheckQuotas("cus_zero_alert", "api")).Warning);
        var alert = Assert.Single(Store.GetAlerts("cus_zero_alert", Clock.Utc(2026, 11, 1)));
        Assert.Equal((QuotaLevel.Exceeded, 3m, 0m, 0m), (alert.Level, alert.Used, alert.Limit, alert.Percent));
    }

    [SkippableFact]
    public void QuotaCheck_OfManyCustomers_GivesEachWarningToItsOwnCustomer_Prefixed_AndRaisesNoneBelowWarningOrUnlimited()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        foreach (var (customer, plan, requests) in new[] { ("cus_m1", "free", 100m), ("cus_m2", "free", 9_000m), ("cus_m3", "enterprise", 20_000m), ("cus_m4", "free", 7_500m) })
        {
            Book.Subscribe(customer, plan, BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
            Use(customer, "api", requests, Clock.Utc(2026, 11, 3));
        }
        var checks = new QuotaChecker(Book, Thresholds).Check(Book.TermsFor(null, TimeZoneInfo.Utc), "api", prefixCustomer: true);
        // cus_m1 1% (Ok) and cus_m3 (unlimited) raise nothing; cus_m2 90% is Critical, cus_m4 75% a Warning.
        Assert.Equal(new[]
        {
            ("cus_m1", QuotaLevel.Ok, false, (string?)null),
            ("cus_m2", QuotaLevel.Critical, true, "[cus_m2] CRITICAL: api usage at 90% - 9000/10000"),
            ("cus_m3", QuotaLevel.Unlimited, false, null),
            ("cus_m4", QuotaLevel.Warning, true, "[cus_m4] WARNING: api usage at 75% - 7500/10000"),
        }, checks.Select(c => (c.Status.CustomerId, c.Status.Level, c.Status.Alerted, c.Warning)));
        // The recorded message has no prefix: it is the customer's own alert.
        Assert.Equal(new[] { ("cus_m2", "CRITICAL: api usage at 90% - 9000/10000"), ("cus_m4", "WARNING: api usage at 75% - 7500/10000") },
            Store.GetAlerts(null, Clock.Utc(2026, 11, 1)).Select(a => (a.CustomerId, a.Message)).Order());
    }

    [SkippableFact]
    public void ConfirmedQuotaCheck_DoesNotOfferAgain_AnAlertRecordedInAPeriodThatStartedBeforeAnotherCustomers()
    {
        // cus_early's period began Nov 1 and its Warning was recorded on Nov 10; cus_late's began
        // Nov 15. A check of both on Nov 20 must still see cus_early's Warning as recorded (the
        // read of recorded alerts goes back to the earliest period start of the check, Nov 1).
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Book.Subscribe("cus_early", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_early", "api", 8_000, Clock.Utc(2026, 11, 5));
        Assert.True(Assert.Single(CheckQuotas("cus_early", "api")).Status.Alerted);

        Time.SetUtcNow(Clock.Utc(2026, 11, 15));
        Book.Subscribe("cus_late", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 15), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Use("cus_late", "api", 8_000, Clock.Utc(2026, 11, 16));
        var offered = new List<UsageAlert>();
        var checks = new QuotaChecker(Book, Thresholds).Check(Book.TermsFor(new[] { "cus_early", "cus_late" }, TimeZoneInfo.Utc), "api",
            confirm: a => { offered.Add(a); return true; });
        Assert.Equal(new[] { ("cus_late", Clock.Utc(2026, 11, 15)) }, offered.Select(a => (a.CustomerId, a.PeriodStart)));
        Assert.Equal(new[] { false, true }, checks.Select(c => c.Status.Alerted));
    }

    [SkippableFact]
    public void ConfirmedQuotaCheck_WithNothingToAlert_AsksNothing()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Book.Subscribe("cus_quiet", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_quiet", "api", 10, Clock.Utc(2026, 11, 5));
        var check = Assert.Single(new QuotaChecker(Book, Thresholds).Check(new[] { Book.Terms("cus_quiet", TimeZoneInfo.Utc) }, "api",
            confirm: _ => throw new InvalidOperationException("nothing should be offered")));
        Assert.Equal((QuotaLevel.Ok, 0.1m, false), (check.Status.Level, check.Status.Percent!.Value, check.Status.Alerted));
    }

    [SkippableFact]
    public void QuotaStatus_OfAPastPeriod_NamesThePlanItsQuotaCameFrom_NotThePlanChangedToSince()
    {
        // Starter from October 1; on November 10 the customer moves to pro. Over October the terms
        // are starter's (the usage report checks that period's quotas so): each status must say
        // starter, the plan whose limit it shows (100,000 requests), not the subscription's pro.
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_was_starter", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Book.ChangePlan("cus_was_starter", "pro");
        var october = Book.TermsOver("cus_was_starter", Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1), TimeZoneInfo.Utc);
        Assert.Equal("pro", october.Subscription!.Plan);
        var status = Assert.Single(new QuotaChecker(Book, Thresholds).Check(new[] { october }, "api", raiseAlerts: false)).Status;
        Assert.Equal(("starter", 100_000m), (status.Plan!, status.Limit!.Value));
    }
}
