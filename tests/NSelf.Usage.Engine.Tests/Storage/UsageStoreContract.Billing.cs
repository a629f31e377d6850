using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>The billing half of the store contract, run against every backend.</summary>
public abstract partial class UsageStoreContract
{
    private static readonly AlertThresholds Thresholds = new(75, 90, 100);

    private Subscriptions Book => new(Store, Time);

    private void Use(string customer, string service, decimal quantity, DateTimeOffset at, int events = 1)
    {
        var each = quantity / events;
        Store.Ingest(Enumerable.Range(0, events).Select(i => Event(customer, service, each, at.AddMilliseconds(i))).ToList());
    }

    private IReadOnlyList<QuotaCheck> CheckQuotas(string customer, string? service = null) =>
        new QuotaChecker(Book, Thresholds).Check(new[] { Book.Terms(customer, TimeZoneInfo.Utc) }, service);

    [SkippableFact]
    public void Plans_AreNselfsSeededPlans()
    {
        Assert.Equal(new[] { ("free", 0m, 0m), ("starter", 29m, 290m), ("pro", 99m, 990m), ("enterprise", 499m, 4990m) },
            Store.GetPlans().Select(p => (p.Name, p.PriceMonthly, p.PriceYearly)));
        var free = Store.GetPlanQuotas("free").ToDictionary(q => q.Service);
        Assert.Equal((10000m, QuotaEnforcement.Hard, 0.0001m), (free["api"].Limit!.Value, free["api"].Enforcement, free["api"].OveragePrice));
        Assert.Null(Store.GetPlanQuotas("enterprise").First().Limit);
        Assert.Equal("queries", free["database"].UsageUnit);
        Assert.Equal("GB (average over the period)", free["storage"].UsageUnit);
    }

    [SkippableFact]
    public void Plans_AndQuotas_CanBeChanged_AndCustomerOverridesWin()
    {
        Store.SavePlan(new BillingPlan { Name = "team", PriceMonthly = 49, PriceYearly = 490, Currency = "EUR", IsActive = true, SortOrder = 5 });
        Store.SaveQuota(new BillingQuota
        {
            Plan = "team", Service = "api", Limit = 50_000, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.Graduated, OveragePrice = 0,
            Tiers = new[] { new PriceTier { UpTo = 10_000, UnitPrice = 0.0002m }, new PriceTier { UnitPrice = 0.0001m, FlatFee = 1 } },
        });
        Book.Subscribe("cus_t", "team", BillingCycle.Monthly, null, "Europe/Paris");
        Store.SaveQuota(new BillingQuota
        {
            CustomerId = "cus_t", Service = "api", Limit = 75_000, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Hard,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0.0003m,
        });
        var terms = Book.Terms("cus_t", TimeZoneInfo.Utc);
        Assert.Equal(("EUR", 49m, 75_000m, QuotaEnforcement.Hard), (terms.Currency, terms.BaseFee, terms.Quotas["api"].Limit!.Value, terms.Quotas["api"].Enforcement));
        var planQuota = Store.GetPlanQuotas("team").Single();
        Assert.Equal((PricingModel.Graduated, 2, 1m), (planQuota.PricingModel, planQuota.Tiers.Count, planQuota.Tiers[1].FlatFee));
    }

    [SkippableFact]
    public void CustomerQuota_ForACustomerNotSeenYet_RegistersTheCustomer_AndARemovedOneIsRefused()
    {
        // Issue 14 fix 6: this was StoreWriteFailed (SQLite: FOREIGN KEY constraint failed).
        BillingQuota Quota(string customer, decimal limit) => new()
        {
            CustomerId = customer, Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0,
        };
        Assert.Null(Store.GetCustomer("cus_new"));
        Store.SaveQuota(Quota("cus_new", 5));
        var registered = Store.GetCustomer("cus_new");
        Assert.NotNull(registered);
        Assert.Equal("cus_new", registered!.ProjectName);
        Assert.Equal(5m, Store.GetCustomerQuotas("cus_new").Single().Limit);
        Assert.Equal(5m, Book.Terms("cus_new", TimeZoneInfo.Utc).Quotas["api"].Limit);
        // Saving again changes the quota and keeps the one customer.
        Store.SaveQuota(Quota("cus_new", 7));
        Assert.Equal(7m, Store.GetCustomerQuotas("cus_new").Single().Limit);
        Assert.Single(Store.GetCustomers(), c => c.CustomerId == "cus_new");

        Use("cus_gone_q", "api", 1, Time.GetUtcNow().AddMinutes(-1));
        Store.RemoveCustomer("cus_gone_q");
        var refused = Assert.Throws<UsageException>(() => Store.SaveQuota(Quota("cus_gone_q", 5)));
        Assert.Equal((ErrorIds.CustomerRemoved, (object)"cus_gone_q"), (refused.ErrorId, refused.Target!));
        Assert.Empty(Store.GetCustomerQuotas("cus_gone_q"));
    }

    [SkippableFact]
    public void Subscriptions_AreOneLivePerCustomer()
    {
        Book.Subscribe("cus_s", "starter", BillingCycle.Monthly, null, null);
        Assert.Equal(ErrorIds.SubscriptionExists, Assert.Throws<UsageException>(() => Book.Subscribe("cus_s", "pro", BillingCycle.Monthly, null, null)).ErrorId);
        Book.Cancel("cus_s", atPeriodEnd: false);
        Assert.Null(Book.LiveSubscription("cus_s"));
        Assert.Equal("pro", Book.Subscribe("cus_s", "pro", BillingCycle.Yearly, null, null).Plan);
        Assert.Equal(2, Store.GetSubscriptions("cus_s", includeEnded: true).Count);
        Assert.Equal(ErrorIds.PlanNotFound, Assert.Throws<UsageException>(() => Book.Subscribe("cus_x", "platinum", BillingCycle.Monthly, null, null)).ErrorId);
    }

    [SkippableFact]
    public void Subscription_PeriodsRollForwardWhenRead()
    {
        Time.SetUtcNow(Clock.Utc(2026, 1, 31, 10));
        Book.Subscribe("cus_r", "pro", BillingCycle.Monthly, Clock.Utc(2026, 1, 31), null);
        Time.SetUtcNow(Clock.Utc(2026, 3, 15));
        var live = Book.LiveSubscription("cus_r")!;
        Assert.Equal((Clock.Utc(2026, 2, 28), Clock.Utc(2026, 3, 31)), (live.CurrentPeriodStart, live.CurrentPeriodEnd));
        Assert.Equal(live.CurrentPeriodEnd, Store.GetSubscriptions("cus_r").Single().CurrentPeriodEnd);
    }

    [SkippableFact]
    public void FreePlan_RaisesWarningCriticalAndExceeded_OneAlertEach()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_free", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_free", "api", 8000, Clock.Utc(2026, 11, 5), events: 8000);
        var first = Assert.Single(CheckQuotas("cus_free", "api"));
        Assert.Equal((QuotaLevel.Warning, 80m, true), (first.Status.Level, first.Status.Percent!.Value, first.Status.Alerted));
        Assert.Equal("WARNING: api usage at 80% - 8000/10000", first.Warning);
        Assert.Null(Assert.Single(CheckQuotas("cus_free", "api")).Warning); // nothing new on a second run

        Use("cus_free", "api", 1500, Clock.Utc(2026, 11, 6), events: 1500);
        Assert.Equal("CRITICAL: api usage at 95% - 9500/10000", Assert.Single(CheckQuotas("cus_free", "api")).Warning);
        Use("cus_free", "api", 1000, Clock.Utc(2026, 11, 7), events: 1000);
        var exceeded = Assert.Single(CheckQuotas("cus_free", "api"));
        Assert.Equal("QUOTA EXCEEDED: api - 10500/10000 (105%)", exceeded.Warning);
        Assert.False(QuotaChecker.Allows(exceeded.Status, 1));
        Assert.DoesNotContain(CheckQuotas("cus_free", "api"), c => c.Warning is not null);

        var alerts = Store.GetAlerts("cus_free", Clock.Utc(2026, 11, 1));
        Assert.Equal(new[] { QuotaLevel.Warning, QuotaLevel.Critical, QuotaLevel.Exceeded }, alerts.Select(a => a.Level));
    }

    [SkippableFact]
    public void QuotaCheck_RecordsOnlyTheAlertsConfirmed_AndOffersOnlyNewOnes()
    {
        // Test-UsageQuota -WhatIf (issue 14 fix 15): the check still measures, and records nothing declined.
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_wi", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_wi", "api", 9500, Clock.Utc(2026, 11, 5), events: 10);
        var checker = new QuotaChecker(Book, Thresholds);
        var offered = new List<UsageAlert>();
        var declined = Assert.Single(checker.Check(new[] { Book.Terms("cus_wi", TimeZoneInfo.Utc) }, "api", confirm: a => { offered.Add(a); return false; }));
        Assert.Equal((QuotaLevel.Critical, 9500m, false, (string?)null), (declined.Status.Level, declined.Status.Used, declined.Status.Alerted, declined.Warning));
        Assert.Equal(("cus_wi", "api", QuotaLevel.Critical), (Assert.Single(offered).CustomerId, offered[0].Service, offered[0].Level));
        Assert.Empty(Store.GetAlerts("cus_wi", Clock.Utc(2026, 11, 1)));

        var confirmed = Assert.Single(checker.Check(new[] { Book.Terms("cus_wi", TimeZoneInfo.Utc) }, "api", confirm: _ => true));
        Assert.Equal((true, "CRITICAL: api usage at 95% - 9500/10000"), (confirmed.Status.Alerted, confirmed.Warning));
        Assert.Single(Store.GetAlerts("cus_wi", Clock.Utc(2026, 11, 1)));

        offered.Clear();
        checker.Check(new[] { Book.Terms("cus_wi", TimeZoneInfo.Utc) }, "api", confirm: a => { offered.Add(a); return true; });
        Assert.Empty(offered); // already recorded for the period: not offered again
    }

    [SkippableFact]
    public void RaiseAlerts_RecordsABatchInOneGo_AndSaysWhichWereNew()
    {
        UsageAlert Alert(string customer, QuotaLevel level, int day) => new()
        {
            AlertId = 0, CustomerId = customer, Service = "api", Level = level, Used = 80.5m, Limit = 100, Percent = 80.5m,
            PeriodStart = Clock.Utc(2026, 11, day), PeriodEnd = Clock.Utc(2026, 12, 1), RaisedAt = Clock.Utc(2026, 11, 10), Message = $"{customer} {level}",
        };
        Assert.Empty(Store.RaiseAlerts([]));
        Assert.Equal([true], Store.RaiseAlerts([Alert("cus_x", QuotaLevel.Warning, 1)]));
        var batch = new[]
        {
            Alert("cus_x", QuotaLevel.Warning, 1),   // already raised
            Alert("cus_x", QuotaLevel.Critical, 1),  // another level
            Alert("cus_y", QuotaLevel.Warning, 1),   // another customer
            Alert("cus_x", QuotaLevel.Warning, 2),   // another period
        };
        Assert.Equal([false, true, true, true], Store.RaiseAlerts(batch));
        Assert.Equal([false, false, false, false], Store.RaiseAlerts(batch));
        var stored = Store.GetAlerts(null, Clock.Utc(2026, 11, 1));
        Assert.Equal(4, stored.Count);
        Assert.Equal(80.5m, stored[0].Used);
    }

    [SkippableFact]
    public void Levels_CompareExactly_So995PercentIsCritical()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_e", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_e", "api", 9950, Clock.Utc(2026, 11, 5), events: 1);
        var status = Assert.Single(CheckQuotas("cus_e", "api")).Status;
        Assert.Equal((QuotaLevel.Critical, 99.5m), (status.Level, status.Percent!.Value));
        Assert.True(QuotaChecker.Allows(status, 50));
        Assert.False(QuotaChecker.Allows(status, 51));
    }

    [SkippableFact]
    public void StorageQuota_InGb_IsTheAverageStoredOverThePeriod()
    {
        // November has 720 hours: 1 GB all month is 720 GB-hours.
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Book.Subscribe("cus_st", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_st", "storage", 540, Clock.Utc(2026, 11, 5));
        var status = Assert.Single(CheckQuotas("cus_st", "storage")).Status;
        Assert.Equal((0.75m, QuotaLevel.Warning), (status.Used, status.Level));
        Assert.Equal(new[] { QuotaLevel.Ok }, CheckQuotas("cus_st", "database").Select(c => c.Status.Level));
    }

    [SkippableFact]
    public void AllCustomers_AreCheckedInOnePass()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        foreach (var (customer, requests) in new[] { ("cus_1", 100m), ("cus_2", 9_000m), ("cus_3", 20_000m) })
        {
            Book.Subscribe(customer, "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
            Use(customer, "api", requests, Clock.Utc(2026, 11, 3));
        }
        var checks = new QuotaChecker(Book, Thresholds).Check(Book.TermsFor(null, TimeZoneInfo.Utc), "api");
        Assert.Equal(new[] { ("cus_1", QuotaLevel.Ok), ("cus_2", QuotaLevel.Critical), ("cus_3", QuotaLevel.Exceeded) },
            checks.Select(c => (c.Status.CustomerId, c.Status.Level)));
    }

    [SkippableFact]
    public void StarterInvoice_BillsOverageToTheCent_OnceOnly_AndLateUsageAsAnAdjustment()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_starter", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 10, 31));
        Use("cus_starter", "api", 150_000, Clock.Utc(2026, 10, 10), events: 1500);
        Use("cus_starter", "bandwidth", 12.5m, Clock.Utc(2026, 10, 12), events: 5);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        var invoicing = new Invoicing(Book, taxRate: 0);

        var first = invoicing.Create("cus_starter", null, null, TimeZoneInfo.Utc, regenerateDraft: false);
        Assert.True(first.Written);
        var invoice = first.Invoice;
        Assert.Equal((Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1), InvoiceStatus.Draft), (invoice.PeriodStart, invoice.PeriodEnd, invoice.Status));
        Assert.Equal(new[]
        {
            (InvoiceLineKind.BaseFee, (string?)null, 1m, 0m, 1m, 29.00m),
            (InvoiceLineKind.Usage, "api", 150_000m, 100_000m, 50_000m, 5.00m),
            (InvoiceLineKind.Usage, "bandwidth", 12.5m, 100m, 0m, 0.00m),
        }, invoice.Lines.Select(l => (l.Kind, l.Service, l.Quantity, l.Included, l.Billable, l.Amount)));
        Assert.Equal((34.00m, 1500L), (invoice.Total, invoice.Lines[1].Events));
        Assert.Matches("^[0-9a-f]{64}$", invoice.Lines[1].EventsHash!);

        var again = invoicing.Create("cus_starter", null, null, TimeZoneInfo.Utc, regenerateDraft: false);
        Assert.False(again.Written);
        Assert.Equal(invoice.InvoiceId, again.Invoice.InvoiceId);
        Assert.Single(Store.GetInvoices("cus_starter"));
        // Tab completion of -InvoiceId: by prefix, of one customer or all.
        Assert.Equal(new[] { invoice.InvoiceId }, Store.FindInvoiceIds("cus_starter", invoice.InvoiceId[..3].ToLowerInvariant(), 10));
        Assert.Equal(new[] { invoice.InvoiceId }, Store.FindInvoiceIds(null, "", 10));
        Assert.Empty(Store.FindInvoiceIds("cus_other", "", 10));
        Assert.Empty(Store.FindInvoiceIds(null, invoice.InvoiceId + "x", 10));

        var final = invoicing.Complete(invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((InvoiceStatus.Open, 34.00m, invoice.Lines[1].EventsHash), (final.Status, final.Total, final.Lines[1].EventsHash));
        Assert.Equal(ErrorIds.InvoiceFinalized, Assert.Throws<UsageException>(() => invoicing.Complete(invoice.InvoiceId, TimeZoneInfo.Utc)).ErrorId);
        Assert.False(invoicing.Create("cus_starter", null, null, TimeZoneInfo.Utc, regenerateDraft: true).Written);

        // An event backdated into October arrives after the invoice was finalized.
        Time.SetUtcNow(Clock.Utc(2026, 11, 4));
        Use("cus_starter", "api", 10_000, Clock.Utc(2026, 10, 20), events: 100);
        Assert.Equal(34.00m, Store.GetInvoice(invoice.InvoiceId)!.Total);

        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var december = invoicing.Create("cus_starter", null, null, TimeZoneInfo.Utc, regenerateDraft: false).Invoice;
        Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)), (december.PeriodStart, december.PeriodEnd));
        var adjustment = Assert.Single(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        Assert.Equal(("api", 10_000m, 1.00m, 100L, Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)),
            (adjustment.Service, adjustment.Quantity, adjustment.Amount, adjustment.Events, adjustment.PeriodStart, adjustment.PeriodEnd));
        Assert.Contains(invoice.InvoiceId, adjustment.Description);
        Assert.Equal(30.00m, december.Total);

        // Billed once: finalizing December, then invoicing January, bills those late events no more.
        invoicing.Complete(december.InvoiceId, TimeZoneInfo.Utc);
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        Assert.DoesNotContain(invoicing.Create("cus_starter", null, null, TimeZoneInfo.Utc, false).Invoice.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
    }

    [SkippableFact]
    public void Invoice_TaxIsOnTheSumOfRoundedLines()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_tax", "pro", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoice = new Invoicing(Book, taxRate: 8.25m).Create("cus_tax", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((99.00m, 8.17m, 107.17m), (invoice.Subtotal, invoice.Tax, invoice.Total));
    }

    [SkippableFact]
    public void Invoice_ThatOverlapsAnother_IsRefused_SoNoUsageIsBilledTwice()
    {
        Time.SetUtcNow(Clock.Utc(2026, 9, 1));
        Book.Subscribe("cus_o", "starter", BillingCycle.Monthly, Clock.Utc(2026, 9, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Use("cus_o", "api", 150_000, Clock.Utc(2026, 10, 20), events: 10);
        var invoicing = new Invoicing(Book, taxRate: 0);
        var october = invoicing.Complete(invoicing.Create("cus_o", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(34.00m, october.Total);

        foreach (var (start, end) in new[] { (Clock.Utc(2026, 10, 15), Clock.Utc(2026, 11, 3)), (Clock.Utc(2026, 9, 20), Clock.Utc(2026, 10, 2)), (Clock.Utc(2026, 10, 5), Clock.Utc(2026, 10, 6)) })
        {
            Assert.Equal(ErrorIds.InvoicePeriodOverlap, Assert.Throws<UsageException>(() => invoicing.Create("cus_o", start, end, TimeZoneInfo.Utc, false)).ErrorId);
            Assert.Equal(ErrorIds.InvoicePeriodOverlap, Assert.Throws<UsageException>(() => Store.SaveDraft(
                invoicing.Preview("cus_o", Clock.Utc(2026, 12, 1), Clock.Utc(2026, 12, 2), TimeZoneInfo.Utc).Invoice is var d ? WithPeriod(d, start, end) : null!, Array.Empty<SealRange>(), false)).ErrorId);
        }
        Assert.Single(Store.GetInvoices("cus_o"));
        // Adjoining periods are fine: the first half of November pays half of November's fee.
        var half = invoicing.Create("cus_o", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((0.5m, 14.50m), (half.Lines[0].Quantity, half.Lines[0].Amount));
        var rest = invoicing.Create("cus_o", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(29.00m, half.Lines[0].Amount + rest.Lines[0].Amount);
    }

    private static BillingInvoice WithPeriod(BillingInvoice i, DateTimeOffset start, DateTimeOffset end) => new()
    {
        InvoiceId = "INV-TEST-" + start.ToUnixTimeSeconds(), CustomerId = i.CustomerId, Plan = i.Plan, Status = i.Status, Currency = i.Currency, Subtotal = 0, TaxRate = 0,
        Tax = 0, Total = 0, PeriodStart = start, PeriodEnd = end, CreatedAt = i.CreatedAt, Lines = Array.Empty<BillingInvoiceLine>(),
    };

    [SkippableFact]
    public void Invoice_OfAClosedPeriod_UsesThePlanInForceThen()
    {
        Time.SetUtcNow(Clock.Utc(2026, 9, 1));
        Book.Subscribe("cus_p", "pro", BillingCycle.Monthly, Clock.Utc(2026, 9, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Use("cus_p", "api", 10, Clock.Utc(2026, 10, 20));
        Book.ChangePlan("cus_p", "free");
        var invoicing = new Invoicing(Book, taxRate: 0);
        var october = invoicing.Create("cus_p", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(("pro", 99.00m), (october.Plan, october.Lines[0].Amount));
        var change = Assert.Single(Store.GetPlanChanges("cus_p"));
        Assert.Equal(("pro", "free", Clock.Utc(2026, 11, 1)), (change.FromPlan, change.ToPlan, change.EffectiveFrom));
        // November, the period the change was made in, is priced with the new plan.
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Assert.Equal("free", invoicing.Create("cus_p", null, null, TimeZoneInfo.Utc, false).Invoice.Plan);
        Assert.Equal("free", Book.Terms("cus_p", TimeZoneInfo.Utc).Plan!.Name);
    }

    [SkippableFact]
    public void Invoice_AfterCancellation_BillsTheLastPartOfAPeriodProRata_AtTheDraftsTaxRate()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_c", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 16));
        var invoicing = new Invoicing(Book, taxRate: 10m);
        invoicing.Complete(invoicing.Create("cus_c", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Book.Cancel("cus_c", atPeriodEnd: false);
        var last = invoicing.Create("cus_c", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), 0.5m, 14.50m), (last.PeriodStart, last.PeriodEnd, last.Lines[0].Quantity, last.Lines[0].Amount));
        // Finalized elsewhere with no tax rate set: the draft's 10% stands.
        var final = new Invoicing(Book, taxRate: 0).Complete(last.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal((10m, 1.45m, 15.95m), (final.TaxRate, final.Tax, final.Total));
    }

    [SkippableFact]
    public void Invoice_InAnotherCurrency_RefusesDisplayPricesItCannotConvert()
    {
        Store.SavePlan(new BillingPlan { Name = "team", PriceMonthly = 49, PriceYearly = 490, Currency = "EUR", IsActive = true, SortOrder = 5 });
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_eur", "team", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        Use("cus_eur", "bandwidth", 3, Clock.Utc(2026, 10, 10));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var error = Assert.Throws<UsageException>(() => invoicing.Create("cus_eur", null, null, TimeZoneInfo.Utc, false));
        Assert.Equal((ErrorIds.CurrencyMismatch, (object?)"bandwidth"), (error.ErrorId, error.Target));
        // The message says which currencies differ and the command that prices the service in the plan's.
        Assert.Equal("Plan 'team' bills in EUR, but service 'bandwidth' has no quota on it and its display price is in USD. "
            + "Price it in EUR: Set-UsageQuota -Plan team -Service bandwidth -Limit 0 -OveragePrice <price>.", error.Message);
        Assert.Empty(Store.GetInvoices("cus_eur"));
        Store.SaveQuota(new BillingQuota
        {
            Plan = "team", Service = "bandwidth", Limit = 0, LimitType = "GB", UsageUnit = "GB", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0.05m,
        });
        var invoice = invoicing.Create("cus_eur", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(("EUR", 49.15m), (invoice.Currency, invoice.Total));
    }

    [SkippableFact]
    public void Invoice_StorageLine_IsInAverageGigabytes_LikeItsLimit()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_gb", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_gb", "storage", 14_400, Clock.Utc(2026, 11, 10)); // GB-hours: 20 GB kept for 30 days
        var line = Assert.Single(new Invoicing(Book, 0).Create("cus_gb", null, null, TimeZoneInfo.Utc, false).Invoice.Lines, l => l.Service == "storage");
        Assert.Equal((20m, 1m, 19m, "GB (average over the period)"), (line.Quantity, line.Included, line.Billable, line.Unit));
        Assert.Contains("14400 GB-hours", line.Description);
    }

    [SkippableFact]
    public void Subscription_StartedAtAFractionOfASecond_HasTheSamePeriodsWhenReadBack()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 27, 12).AddTicks(1_234_567));
        var start = Time.GetUtcNow().AddMonths(-3).AddDays(-1);
        var made = Book.Subscribe("cus_frac", "starter", BillingCycle.Monthly, start, null);
        var read = Book.LiveSubscription("cus_frac")!;
        Assert.Equal((made.CurrentPeriodStart, made.CurrentPeriodEnd, made.Anchor), (read.CurrentPeriodStart, read.CurrentPeriodEnd, read.Anchor));
        var invoicing = new Invoicing(Book, 0);
        var earlier = read.CurrentPeriodStart.AddMonths(-2);
        invoicing.Create("cus_frac", earlier, read.CurrentPeriodStart.AddMonths(-1), TimeZoneInfo.Utc, false);
        var last = invoicing.Create("cus_frac", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((1m, "Starter plan (monthly)"), (last.Lines[0].Quantity, last.Lines[0].Description));
    }
}

/// <summary>
/// Issue 14, fixes 2, 5 and 13: parts of a period price at the margin of the period's usage, daily
/// allowances cover each day, and to-date figures price as the invoice will. Every amount below is
/// worked out by hand in the comment beside it.
/// </summary>
public abstract partial class UsageStoreContract
{
    private static readonly TimeZoneInfo NewYork = NSelf.Usage.Engine.Time.TimeZones.Find("America/New_York");

    /// <summary>A plan "metered" with no base fee and one api quota, and a customer on it from November 1 (UTC, or a zone).</summary>
    private Invoicing MeteredPlan(string customer, BillingQuota api, string? zone = null)
    {
        Store.SavePlan(new BillingPlan { Name = "metered", PriceMonthly = 0, PriceYearly = 0, Currency = "USD", IsActive = true, SortOrder = 9 });
        Store.SaveQuota(Quota(api));
        Time.SetUtcNow(Clock.Utc(2026, 11, 1, 12));
        Book.Subscribe(customer, "metered", BillingCycle.Monthly, zone is null ? Clock.Utc(2026, 11, 1) : BillingPeriods.AtLocal(new DateTime(2026, 11, 1), NSelf.Usage.Engine.Time.TimeZones.Find(zone)), zone);
        return new Invoicing(Book, taxRate: 0);
    }

    private static BillingQuota Quota(BillingQuota q) => new()
    {
        Plan = "metered", Service = "api", Limit = q.Limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
        ResetPeriod = q.ResetPeriod, PricingModel = q.PricingModel, OveragePrice = q.OveragePrice, Tiers = q.Tiers, PackageSize = q.PackageSize, PackagePrice = q.PackagePrice,
    };

    private static BillingQuota Api(decimal? limit, PricingModel model = PricingModel.PerUnit, decimal overage = 0, PriceTier[]? tiers = null,
        decimal? packageSize = null, decimal? packagePrice = null, QuotaResetPeriod reset = QuotaResetPeriod.Monthly) => new()
    {
        Service = "api", Limit = limit, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft, ResetPeriod = reset,
        PricingModel = model, OveragePrice = overage, Tiers = tiers ?? Array.Empty<PriceTier>(), PackageSize = packageSize, PackagePrice = packagePrice,
    };

    /// <summary>
    /// November invoiced in two parts, split on the 16th, and (for a twin customer with the same
    /// usage) as a whole. Returns the api amounts of the two parts and of the whole.
    /// </summary>
    private (BillingInvoiceLine First, BillingInvoiceLine Second, decimal Whole) SplitNovember(BillingQuota api, decimal before, decimal after)
    {
        var invoicing = MeteredPlan("cus_split", api);
        Book.Subscribe("cus_whole", "metered", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        foreach (var customer in new[] { "cus_split", "cus_whole" })
        {
            Use(customer, "api", before, Clock.Utc(2026, 11, 5));
            Use(customer, "api", after, Clock.Utc(2026, 11, 20));
        }
        BillingInvoiceLine ApiLine(BillingInvoice i) => Assert.Single(i.Lines, l => l.Service == "api");
        var first = ApiLine(invoicing.Create("cus_split", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice);
        var second = ApiLine(invoicing.Create("cus_split", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice);
        var whole = ApiLine(invoicing.Create("cus_whole", null, null, TimeZoneInfo.Utc, false).Invoice);
        return (first, second, whole.Amount);
    }

    [SkippableFact]
    public void SplitPeriod_GivesTheAllowanceOnce_SoTheSecondPartBillsWhatTheWholeWould()
    {
        // 10 free, 1.00 a unit after. 5 before the split (all free), 15 after: 20 in all, 10 billable.
        var (first, second, whole) = SplitNovember(Api(10, overage: 1m), before: 5, after: 15);
        Assert.Equal((5m, 0.00m), (first.Quantity, first.Amount));
        // The second part uses the 5 units of allowance left and bills 10.
        Assert.Equal((15m, 5m, 10m, 10.00m), (second.Quantity, second.Included, second.Billable, second.Amount));
        Assert.Equal(10.00m, whole);
        Assert.Equal(whole, first.Amount + second.Amount);
    }

    [SkippableFact]
    public void SplitPeriod_Graduated_DoesNotRestartTiersOrChargeTheFlatFeeTwice()
    {
        // No allowance; the first 10 at 1.00, beyond that 0.50 plus a flat 5.00 once.
        // Whole: 14 units = 10 x 1.00 + 4 x 0.50 + 5.00 = 17.00. First part: 8 x 1.00 = 8.00. Second: 17.00 - 8.00 = 9.00.
        var tiers = new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.5m, FlatFee = 5m } };
        var (first, second, whole) = SplitNovember(Api(0, PricingModel.Graduated, tiers: tiers), before: 8, after: 6);
        Assert.Equal((8.00m, 9.00m, 17.00m), (first.Amount, second.Amount, whole));
        // The second part's tiers: 2 units finishing the first tier (2.00), 4 in the second (2.00 + 5.00).
        Assert.Equal(new[] { (2m, 2.00m), (4m, 7.00m) }, second.Tiers.Select(t => (t.Quantity, t.Amount)));
    }

    [SkippableFact]
    public void SplitPeriod_Volume_PricesThePeriodsTotalAtItsTier()
    {
        // Up to 10 at 1.00 each, more than 10 all at 0.80. First part 8 = 8.00; whole 14 x 0.80 = 11.20; second 11.20 - 8.00 = 3.20.
        var tiers = new[] { new PriceTier { UpTo = 10, UnitPrice = 1m }, new PriceTier { UnitPrice = 0.8m } };
        var (first, second, whole) = SplitNovember(Api(0, PricingModel.Volume, tiers: tiers), before: 8, after: 6);
        Assert.Equal((8.00m, 3.20m, 11.20m), (first.Amount, second.Amount, whole));
    }

    [SkippableFact]
    public void SplitPeriod_Package_CountsPackagesOverThePeriod()
    {
        // 2 free, then packages of 5 at 3.00. First part 6: 4 billable, 1 package = 3.00.
        // Whole 8: 6 billable, 2 packages = 6.00. Second part: 6.00 - 3.00 = 3.00 (from zero it would be 0: 2 units, all free).
        var (first, second, whole) = SplitNovember(Api(2, PricingModel.Package, packageSize: 5, packagePrice: 3m), before: 6, after: 2);
        Assert.Equal((3.00m, 3.00m, 6.00m), (first.Amount, second.Amount, whole));
    }

    [SkippableFact]
    public void BaseFee_InThirds_AddsUpToTheFee()
    {
        // Starter, 29.00 a month; November has 30 days, split on the 11th and the 21st.
        // R(29 x 1/3) = 9.67, R(29 x 2/3) = 19.33: the thirds bill 9.67, 19.33 - 9.67 = 9.66 and 29.00 - 19.33 = 9.67.
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_thirds", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var cuts = new[] { Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 11), Clock.Utc(2026, 11, 21), Clock.Utc(2026, 12, 1) };
        var fees = cuts.Zip(cuts.Skip(1)).Select(p => invoicing.Create("cus_thirds", p.First, p.Second, TimeZoneInfo.Utc, false).Invoice.Lines[0].Amount).ToList();
        Assert.Equal(new[] { 9.67m, 9.66m, 9.67m }, fees);
        Assert.Equal(29.00m, fees.Sum());
    }

    [SkippableFact]
    public void DailyAllowance_CoversEachLocalDay_OnAMonthlyInvoice()
    {
        // 10 a day free, 1.00 a unit after, days in New York. Nov 2, 3 and 4 (local) have 10 each, and
        // 5 more arrive at 03:00 UTC on Nov 5, which is 22:00 on Nov 4 in New York: Nov 4 has 15.
        // Billable: 0 + 0 + 5 = 5, 5.00 (one allowance for the month would bill 35 - 10 = 25.00).
        var invoicing = MeteredPlan("cus_daily", Api(10, overage: 1m, reset: QuotaResetPeriod.Daily), "America/New_York");
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        Use("cus_daily", "api", 10, Clock.Utc(2026, 11, 2, 12));
        Use("cus_daily", "api", 10, Clock.Utc(2026, 11, 3, 12));
        Use("cus_daily", "api", 10, Clock.Utc(2026, 11, 4, 12));
        Use("cus_daily", "api", 5, Clock.Utc(2026, 11, 5, 3));

        // So far (Nov 10): Get-Usage over the period and Get-BillingSummary say what the invoice will.
        var start = BillingPeriods.AtLocal(new DateTime(2026, 11, 1), NewYork);
        var summaries = new Reporting.UsageReports(Store, new PlanCosts(Book, TimeZoneInfo.Utc)).Summaries(new UsageFilter("cus_daily"), start, Time.GetUtcNow());
        Assert.Equal(5m, Assert.Single(summaries).Cost);
        Assert.Equal(5.00m, invoicing.Summary("cus_daily", TimeZoneInfo.Utc, Thresholds).UsageCost);

        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var line = Assert.Single(invoicing.Create("cus_daily", null, null, TimeZoneInfo.Utc, false).Invoice.Lines, l => l.Service == "api");
        Assert.Equal((35m, 5m, 5.00m), (line.Quantity, line.Billable, line.Amount));
    }

    [SkippableFact]
    public void DailyAllowance_AcrossASplit_BillsTheMarginOfEachDay()
    {
        // 10 a day, 1.00 after. Nov 15 has 8 before noon and 6 after: the split at noon bills 0, then (14 - 10) = 4.00.
        var invoicing = MeteredPlan("cus_dsplit", Api(10, overage: 1m, reset: QuotaResetPeriod.Daily));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_dsplit", "api", 8, Clock.Utc(2026, 11, 15, 9));
        Use("cus_dsplit", "api", 6, Clock.Utc(2026, 11, 15, 15));
        var first = invoicing.Create("cus_dsplit", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 15, 12), TimeZoneInfo.Utc, false).Invoice;
        var second = invoicing.Create("cus_dsplit", Clock.Utc(2026, 11, 15, 12), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        var line = Assert.Single(second.Lines, l => l.Service == "api");
        Assert.Equal((0.00m, 6m, 2m, 4m, 4.00m), (Assert.Single(first.Lines, l => l.Service == "api").Amount, line.Quantity, line.Included, line.Billable, line.Amount));
    }

    [SkippableFact]
    public void BillingSummary_EarlyInAPeriod_AveragesStorageOverThePeriod_AsTheInvoiceWill()
    {
        // Starter: 10 GB included, 0.10 per GB over. November has 720 hours; 8,640 GB-hours is 12 GB on
        // average over it: 2 GB over, 0.20. An hour into the period the summary said 8,640 GB, 863.00.
        Time.SetUtcNow(Clock.Utc(2026, 11, 1));
        Book.Subscribe("cus_early", "starter", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 1, 1));
        Use("cus_early", "storage", 8640, Clock.Utc(2026, 11, 1, 0, 30));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var summary = invoicing.Summary("cus_early", TimeZoneInfo.Utc, Thresholds);
        Assert.Equal((0.20m, 29.20m), (summary.UsageCost, summary.EstimatedTotal));
        var usage = new Reporting.UsageReports(Store, new PlanCosts(Book, TimeZoneInfo.Utc)).Summaries(new UsageFilter("cus_early"), Clock.Utc(2026, 11, 1), Time.GetUtcNow());
        Assert.Equal(0.2m, Assert.Single(usage).Cost);

        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var line = Assert.Single(invoicing.Create("cus_early", null, null, TimeZoneInfo.Utc, false).Invoice.Lines, l => l.Service == "storage");
        Assert.Equal(0.20m, line.Amount);
    }
}

public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void SplitPeriod_LateUsageForTheFirstPart_IsAnAdjustmentAtTheMargin_AndTheWholeStillAddsUp()
    {
        // 10 free, 1.00 after. The first half (5 used) is invoiced and finalized on Nov 16: 0.00.
        // 6 more for Nov 10 arrive on Nov 17, and 3 are used on Nov 20. The second half's invoice:
        //   usage line: 11 before it, 14 after: R(4.00) - R(1.00) = 3.00;
        //   adjustment for the first half: 5 billed, 11 with the late 6: 1.00 - 0.00 = 1.00.
        // In all 4.00: what November's 14 units cost as a whole (14 - 10 = 4).
        var invoicing = MeteredPlan("cus_late", Api(10, overage: 1m));
        Time.SetUtcNow(Clock.Utc(2026, 11, 16));
        Use("cus_late", "api", 5, Clock.Utc(2026, 11, 5));
        var first = invoicing.Complete(invoicing.Create("cus_late", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(0.00m, first.Total);
        Time.SetUtcNow(Clock.Utc(2026, 11, 17));
        Use("cus_late", "api", 6, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Use("cus_late", "api", 3, Clock.Utc(2026, 11, 20));
        var second = invoicing.Create("cus_late", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { (InvoiceLineKind.Usage, 3m, 3.00m), (InvoiceLineKind.Adjustment, 6m, 1.00m) },
            second.Lines.Where(l => l.Service == "api").Select(l => (l.Kind, l.Quantity, l.Amount)));
        Assert.Equal(4.00m, first.Total + second.Total);
    }
}
