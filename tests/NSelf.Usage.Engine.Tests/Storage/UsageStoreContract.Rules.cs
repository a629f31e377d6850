using System.Security.Cryptography;
using System.Text;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>Issue 24: the billing rules that need a store, each held by a test named after it, on every backend.</summary>
public abstract partial class UsageStoreContract
{
    [SkippableFact]
    public void Invoice_OfAFeeRangeCrossingAPeriodBoundary_ProratesEachPeriodsFee()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_cross", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        // October 16 to November 16 of a 29.00 plan: October's share is R(29) - R(29 x 15/31) =
        // 29.00 - 14.03 = 14.97, November's R(29 x 15/30) = 14.50: 29.47 for 16/31 + 15/30 =
        // 1.016129 periods (not one whole fee, nor 31 days of October's or November's length).
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_cross", Clock.Utc(2026, 10, 16), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice;
        var fee = Assert.Single(invoice.Lines);
        Assert.Equal((InvoiceLineKind.BaseFee, 1.016129m, 29.47m), (fee.Kind, fee.Quantity, fee.Amount));
        Assert.EndsWith(", 1.016129 of a billing period", fee.Description);
        Assert.Equal(29.47m, invoice.Total);
    }

    [SkippableFact]
    public void Invoice_WithAnEndPastAMidPeriodCancellation_BillsTheFeeOnlyUpToTheCancellation()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_cut", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 16));
        Book.Cancel("cus_cut", atPeriodEnd: false);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        // -Start 2026-11-01 -End 2026-12-01: canceled on November 16, so 15 of 30 days, 14.50, not 29.00.
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_cut", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)), (invoice.PeriodStart, invoice.PeriodEnd));
        var fee = Assert.Single(invoice.Lines);
        Assert.Equal((0.5m, 14.50m), (fee.Quantity, fee.Amount));
    }

    [SkippableFact]
    public void DefaultInvoice_AfterACancelAtPeriodEnd_IsTheLastPeriod_NotTheEmptyNextOne()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_end", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 10, 15));
        Book.Cancel("cus_end", atPeriodEnd: true);
        Use("cus_end", "api", 150_000, Clock.Utc(2026, 10, 12), events: 3);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3));
        Assert.Null(Book.LiveSubscription("cus_end"));
        // The subscription ended on November 1: its invoice is October's, 29.00 + 50,000 x 0.0001 = 34.00,
        // not November 1 to December 1, where it has no fee and no usage.
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_end", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1)), (invoice.PeriodStart, invoice.PeriodEnd));
        Assert.Equal((1m, 29.00m, 34.00m), (invoice.Lines[0].Quantity, invoice.Lines[0].Amount, invoice.Total));
    }

    [SkippableFact]
    public void FinalizedInvoice_IsDueThirtyDaysAfterItIsIssued_AndTwoCustomersGetTwoIds()
    {
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_due_a", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Book.Subscribe("cus_due_b", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 3, 9, 30));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var a = invoicing.Create("cus_due_a", null, null, TimeZoneInfo.Utc, false).Invoice;
        var b = invoicing.Create("cus_due_b", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal((a.PeriodStart, a.PeriodEnd), (b.PeriodStart, b.PeriodEnd));
        Assert.NotEqual(a.InvoiceId, b.InvoiceId);
        Assert.Equal(2, Store.GetInvoices("cus_due_a").Count + Store.GetInvoices("cus_due_b").Count);
        Assert.Null(a.DueDate); // a draft is not due

        Time.SetUtcNow(Clock.Utc(2026, 11, 5, 9, 30));
        var final = invoicing.Complete(a.InvoiceId, TimeZoneInfo.Utc);
        // Issued (finalized) November 5 09:30, due December 5 09:30.
        Assert.Equal((Clock.Utc(2026, 11, 5, 9, 30), Clock.Utc(2026, 12, 5, 9, 30)), (final.FinalizedAt, final.DueDate));
        Assert.True(final.DueDate > final.FinalizedAt);
        Assert.Equal(final.DueDate, Store.GetInvoice(a.InvoiceId)!.DueDate);
    }

    [SkippableFact]
    public void LateUsage_OnAEurPlan_OfAServiceDisplayPricedOnlyInUsd_IsCurrencyMismatch()
    {
        Store.SavePlan(new BillingPlan { Name = "team", PriceMonthly = 49, PriceYearly = 490, Currency = "EUR", IsActive = true, SortOrder = 5 });
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_late_eur", "team", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        var october = invoicing.Complete(invoicing.Create("cus_late_eur", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(("EUR", 49.00m), (october.Currency, october.Total));

        // Bandwidth used in October arrives late; the team plan has no bandwidth quota and its
        // display price (0.01) is in USD: there is no rate to bill it in EUR at.
        Time.SetUtcNow(Clock.Utc(2026, 11, 5));
        Use("cus_late_eur", "bandwidth", 3, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var error = Assert.Throws<UsageException>(() => invoicing.Create("cus_late_eur", null, null, TimeZoneInfo.Utc, false));
        Assert.Equal((ErrorIds.CurrencyMismatch, (object?)"bandwidth"), (error.ErrorId, error.Target));
        Assert.Single(Store.GetInvoices("cus_late_eur"));
    }

    [SkippableFact]
    public void LateUsage_OfAPeriodBilledInAnotherCurrency_IsCurrencyMismatch()
    {
        Store.SavePlan(new BillingPlan { Name = "team", PriceMonthly = 49, PriceYearly = 490, Currency = "EUR", IsActive = true, SortOrder = 5 });
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_switch", "starter", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        var invoicing = new Invoicing(Book, taxRate: 0);
        invoicing.Complete(invoicing.Create("cus_switch", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Book.ChangePlan("cus_switch", "team");
        // api usage of October (billed in USD) arrives while November is on the EUR plan.
        Use("cus_switch", "api", 200_000, Clock.Utc(2026, 10, 20));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var error = Assert.Throws<UsageException>(() => invoicing.Create("cus_switch", null, null, TimeZoneInfo.Utc, false));
        Assert.Equal((ErrorIds.CurrencyMismatch, (object?)"api"), (error.ErrorId, error.Target));
        Assert.Equal("Late api usage for 2026-10-01 to 2026-11-01 belongs to a billing period billed in USD (plan 'starter'), and this invoice is in EUR; "
            + "there is no exchange rate to apply, so it cannot go on this invoice.", error.Message);
    }

    [SkippableFact]
    public void InvoiceLine_EventsHash_IsOverTheIdsInOrdinalOrder()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        // Ordinal (UTF-16 code unit) order: "Req-1" < "a" < "req-10" < "req-9" < "é"; a natural,
        // case-insensitive or linguistic collation orders them otherwise.
        var ids = new[] { "req-9", "é", "a", "req-10", "Req-1" };
        Store.Ingest(ids.Select((id, i) => Event("cus_hash", "api", 1, Clock.Utc(2026, 11, 2).AddMinutes(i), id)).ToList());
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_hash", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 3), TimeZoneInfo.Utc, false).Invoice;
        var line = Assert.Single(invoice.Lines);
        var expected = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("Req-1\na\nreq-10\nreq-9\né\n"))).ToLowerInvariant();
        Assert.Equal((5L, expected), (line.Events, line.EventsHash));
        Assert.Equal(new[] { "Req-1", "a", "req-10", "req-9", "é" }, ids.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public void QuotaCheck_AtExactlyTheLimit_IsExceeded_WithNothingRemaining()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_full", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_full", "api", 10_000, Clock.Utc(2026, 11, 5), events: 4);
        var status = Assert.Single(CheckQuotas("cus_full", "api")).Status;
        Assert.Equal((10_000m, 10_000m, 0m, 100m, QuotaLevel.Exceeded), (status.Used, status.Limit!.Value, status.Remaining!.Value, status.Percent!.Value, status.Level));
        // A hard limit still allows nothing more, and exactly nothing.
        Assert.True(QuotaChecker.Allows(status, 0));
        Assert.False(QuotaChecker.Allows(status, 0.000001m));
    }

    [SkippableFact]
    public void QuotaCheck_Remaining_IsTheLimitLessTheUse_AndNeverBelowZero()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_rem", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_rem", "api", 9_499.5m, Clock.Utc(2026, 11, 5));
        // 10,000 - 9,499.5 = 500.5 remaining, 94.995% -> 95% shown (two places, half away from zero).
        var status = Assert.Single(CheckQuotas("cus_rem", "api")).Status;
        Assert.Equal((500.5m, 95m, QuotaLevel.Critical), (status.Remaining!.Value, status.Percent!.Value, status.Level));
        Use("cus_rem", "api", 1_000.5m, Clock.Utc(2026, 11, 6));
        // 10,500 used: 500 over, and Remaining is 0, not -500.
        Assert.Equal((0m, 105m), (Assert.Single(CheckQuotas("cus_rem", "api")).Status.Remaining!.Value, Assert.Single(CheckQuotas("cus_rem", "api")).Status.Percent!.Value));
        // An unlimited quota has no Remaining.
        Book.Subscribe("cus_rem_ent", "enterprise", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        var unlimited = Assert.Single(CheckQuotas("cus_rem_ent", "api")).Status;
        Assert.Equal(((decimal?)null, (decimal?)null, QuotaLevel.Unlimited), (unlimited.Remaining, unlimited.Percent, unlimited.Level));
    }

    [SkippableFact]
    public void QuotaCheck_OfAZeroLimit_HasNoPercent_AndAnyUseExceedsIt()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Store.SaveQuota(new BillingQuota
        {
            CustomerId = "cus_zero", Service = "api", Limit = 0, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0.001m,
        });
        var unused = Assert.Single(CheckQuotas("cus_zero", "api"));
        Assert.Equal((0m, (decimal?)null, 0m, QuotaLevel.Ok, (string?)null), (unused.Status.Used, unused.Status.Percent, unused.Status.Remaining!.Value, unused.Status.Level, unused.Warning));
        Use("cus_zero", "api", 5, Clock.Utc(2026, 11, 5));
        var used = Assert.Single(CheckQuotas("cus_zero", "api"));
        Assert.Equal((5m, (decimal?)null, 0m, QuotaLevel.Exceeded), (used.Status.Used, used.Status.Percent, used.Status.Remaining!.Value, used.Status.Level));
        Assert.Equal("QUOTA EXCEEDED: api - 5/0 (∞%)", used.Warning);
    }

    [SkippableFact]
    public void DryQuotaCheck_RecordsNoAlerts_AndTheNextRealCheckStillRaisesThem()
    {
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Book.Subscribe("cus_dry", "free", BillingCycle.Monthly, Clock.Utc(2026, 11, 1), null);
        Use("cus_dry", "api", 9_500, Clock.Utc(2026, 11, 5));
        var checker = new QuotaChecker(Book, Thresholds);
        var dry = Assert.Single(checker.Check(new[] { Book.Terms("cus_dry", TimeZoneInfo.Utc) }, "api", raiseAlerts: false));
        Assert.Equal((QuotaLevel.Critical, false, (string?)null), (dry.Status.Level, dry.Status.Alerted, dry.Warning));
        Assert.Empty(Store.GetAlerts("cus_dry", Clock.Utc(2026, 11, 1)));
        var real = Assert.Single(CheckQuotas("cus_dry", "api"));
        Assert.Equal((true, "CRITICAL: api usage at 95% - 9500/10000"), (real.Status.Alerted, real.Warning));
        Assert.Equal(QuotaLevel.Critical, Assert.Single(Store.GetAlerts("cus_dry", Clock.Utc(2026, 11, 1))).Level);
    }

    [SkippableFact]
    public void Invoice_TaxIsRoundedOnceToTheCurrencysMinorUnit()
    {
        Store.SavePlan(new BillingPlan { Name = "yen", PriceMonthly = 406, PriceYearly = 4_060, Currency = "JPY", IsActive = true, SortOrder = 6 });
        Time.SetUtcNow(Clock.Utc(2026, 10, 1));
        Book.Subscribe("cus_yen", "yen", BillingCycle.Monthly, Clock.Utc(2026, 10, 1), null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 2));
        // 8.25% of 406 yen is 33.495 yen: 33 (yen have no minor unit). Rounded to cents first it
        // would be 33.50, and 34 once shown in yen: a double rounding the store could not undo.
        var invoicing = new Invoicing(Book, taxRate: 8.25m);
        Assert.Equal(33m, invoicing.Preview("cus_yen", null, null, TimeZoneInfo.Utc).Invoice.Tax);
        var invoice = invoicing.Create("cus_yen", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(("JPY", 406m, 33m, 439m), (invoice.Currency, invoice.Subtotal, invoice.Tax, invoice.Total));
        Assert.Equal("33", Store.GetInvoice(invoice.InvoiceId)!.Tax.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [SkippableFact]
    public void Invoice_Lines_AreBuiltInServicesInCatalogOrder_ThenOthersByName()
    {
        Store.RegisterService(new UsageService { Name = "zeta", Unit = "calls", DisplayPrice = 0.5m, Currency = "USD", BuiltIn = false }, replace: false);
        Store.RegisterService(new UsageService { Name = "alpha", Unit = "calls", DisplayPrice = 0.25m, Currency = "USD", BuiltIn = false }, replace: false);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10));
        var at = Clock.Utc(2026, 11, 2);
        Store.Ingest(new[]
        {
            Event("cus_order", "zeta", 2, at), Event("cus_order", "functions", 10, at), Event("cus_order", "alpha", 3, at), Event("cus_order", "api", 100, at),
        });
        // No plan: each service at its display price. api 100 x 0.0001 = 0.01; functions 10 x 0.0002 =
        // 0.002 -> 0.00; alpha 3 x 0.25 = 0.75; zeta 2 x 0.5 = 1.00; total 1.76.
        var invoice = new Invoicing(Book, taxRate: 0).Create("cus_order", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 3), TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(new[] { (1, "api", 0.01m), (2, "functions", 0.00m), (3, "alpha", 0.75m), (4, "zeta", 1.00m) },
            invoice.Lines.Select(l => (l.LineNumber, l.Service!, l.Amount)));
        Assert.Equal(1.76m, invoice.Total);
    }
}
