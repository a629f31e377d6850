using System.Reflection;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 24: the rules of New-BillingInvoice -WhatIf, Complete-BillingInvoice and
/// Get-BillingSummary (<see cref="Invoicing"/>), each held by a test named after it, on every backend.
/// </summary>
public abstract partial class UsageStoreContract
{
    /// <summary>
    /// The real store, with something done right after each SealUsage returns: another host
    /// finalizing between this finalization's seal and its save, at a moment a test chooses.
    /// (Not sealed: DispatchProxy derives from it.)
    /// </summary>
    public class AfterSealStore : DispatchProxy
    {
        private IUsageStore _inner = null!;
        private Action<int> _afterSeal = null!;

        public int Seals { get; private set; }

        public static (IUsageStore Store, AfterSealStore Hook) Over(IUsageStore inner, Action<int> afterSeal)
        {
            var store = DispatchProxy.Create<IUsageStore, AfterSealStore>();
            var hook = (AfterSealStore)(object)store;
            (hook._inner, hook._afterSeal) = (inner, afterSeal);
            return (store, hook);
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            object? result;
            try
            {
                result = targetMethod!.Invoke(_inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
            if (targetMethod.Name == nameof(IUsageStore.SealUsage))
                _afterSeal(++Seals);
            return result;
        }
    }

    [SkippableFact]
    public void Preview_OfAPeriodOverlappingAnotherInvoice_IsRefused_ButAnAdjoiningSameOrVoidOneIsNot()
    {
        var invoicing = MeteredPlan("cus_ov", Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        var held = invoicing.Create("cus_ov", Clock.Utc(2026, 11, 10), Clock.Utc(2026, 11, 20), TimeZoneInfo.Utc, false).Invoice;
        InvoiceDraft Preview(int fromDay, int toDay) => invoicing.Preview("cus_ov", Clock.Utc(2026, 11, fromDay),
            toDay > 30 ? Clock.Utc(2026, 12, 1) : Clock.Utc(2026, 11, toDay), TimeZoneInfo.Utc);

        // Adjoining on either side ([Nov 1, Nov 10), [Nov 20, Dec 1)) and the same period are not overlaps.
        Assert.Equal(Clock.Utc(2026, 11, 10), Preview(1, 10).Invoice.PeriodEnd);
        Assert.Equal(Clock.Utc(2026, 11, 20), Preview(20, 31).Invoice.PeriodStart);
        Assert.Equal(held.InvoiceId, Preview(10, 20).Invoice.InvoiceId);
        // Overlapping: the same start with a later end, and a start inside it.
        foreach (var (from, to) in new[] { (10, 31), (15, 31), (1, 11) })
        {
            var error = Assert.Throws<UsageException>(() => Preview(from, to));
            Assert.Equal((ErrorIds.InvoicePeriodOverlap, (object?)Clock.Utc(2026, 11, from)), (error.ErrorId, error.Target));
            Assert.Contains($"already has invoice {held.InvoiceId} (draft) for 2026-11-10 00:00 to 2026-11-20 00:00 UTC", error.Message);
        }
        // A void invoice bills nothing, so it overlaps nothing.
        ExecuteSql(Sql($"UPDATE billing_invoices SET status = 'void' WHERE invoice_id = '{held.InvoiceId}'"));
        Assert.Equal(Clock.Utc(2026, 12, 1), Preview(10, 31).Invoice.PeriodEnd);
    }

    [SkippableFact]
    public void Complete_OfAMissingInvoice_IsNotFound_AndOfAFinalizedOne_IsRefused_AndSealsNothing()
    {
        var invoicing = MeteredPlan("cus_fin", Api(0, overage: 0.01m));
        var missing = Assert.Throws<UsageException>(() => invoicing.Complete("INV-20261101-NOPE", TimeZoneInfo.Utc));
        Assert.Equal((ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, (object?)"INV-20261101-NOPE", "Invoice 'INV-20261101-NOPE' does not exist."),
            (missing.ErrorId, missing.Kind, missing.Target, missing.Message));

        Time.SetUtcNow(Clock.Utc(2026, 12, 1, 12));
        var november = invoicing.Complete(invoicing.Create("cus_fin", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        // Late usage for November, stored after its finalization: unsealed, waiting for the next invoice.
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Store.Ingest(new[] { Event("cus_fin", "api", 5, Clock.Utc(2026, 11, 20), "late") });
        // Finalized at 0.00, it is paid at once; set open by hand too, it is refused all the same.
        foreach (var (status, word) in new[] { ((string?)null, "paid"), ("open", "open") })
        {
            if (status is not null)
                ExecuteSql(Sql($"UPDATE billing_invoices SET status = '{status}' WHERE invoice_id = '{november.InvoiceId}'"));
            var refused = Assert.Throws<UsageException>(() => invoicing.Complete(november.InvoiceId, TimeZoneInfo.Utc));
            Assert.Equal((ErrorIds.InvoiceFinalized, UsageErrorKind.InvalidOperation, (object?)november.InvoiceId), (refused.ErrorId, refused.Kind, refused.Target));
            Assert.Equal($"Invoice '{november.InvoiceId}' is already {word}; a finalized invoice never changes.", refused.Message);
        }
        // Refused before anything was written: the late event is still unsealed.
        var late = Assert.Single(Store.ReadBillingAudit("cus_fin", Clock.Utc(2026, 11, 20), Clock.Utc(2026, 11, 21)));
        Assert.Equal(("late", (long?)null), (late.EventId, late.Seal));
    }

    /// <summary>Drafts of the customer for November 1-2, 2-3, ... (one a day, <paramref name="days"/> of them), 1 request each at 0.01.</summary>
    private (Invoicing Invoicing, List<string> Drafts) DailyDrafts(string customer, int days)
    {
        var invoicing = MeteredPlan(customer, Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        Store.Ingest(Enumerable.Range(1, days).Select(d => Event(customer, "api", 1, Clock.Utc(2026, 11, d, 6), $"day-{d}")).ToList());
        var drafts = Enumerable.Range(1, days)
            .Select(d => invoicing.Create(customer, Clock.Utc(2026, 11, d), Clock.Utc(2026, 11, d + 1), TimeZoneInfo.Utc, false).Invoice.InvoiceId).ToList();
        return (invoicing, drafts);
    }

    [SkippableFact]
    public void Complete_WhenAnotherInvoiceIsFinalizedBetweenItsSealAndItsSave_IsWorkedOutAgain()
    {
        var (invoicing, drafts) = DailyDrafts("cus_retry", 2);
        // Another host finalizes November 2 right after this finalization of November 1 sealed.
        var (store, hook) = AfterSealStore.Over(Store, seal =>
        {
            if (seal == 1)
                invoicing.Complete(drafts[1], TimeZoneInfo.Utc);
        });
        var first = new Invoicing(new Subscriptions(store, Time), taxRate: 0).Complete(drafts[0], TimeZoneInfo.Utc);
        Assert.Equal((2, InvoiceStatus.Open, 0.01m), (hook.Seals, first.Status, first.Total));
        Assert.Equal(InvoiceStatus.Open, Store.GetInvoice(drafts[1])!.Status);
        Assert.Empty(Reconcile("cus_retry", null, null));
    }

    [SkippableFact]
    public void Complete_ThatMeetsAnotherFinalizationFiveTimesOver_GivesUp_WithFinalizationConflict_AndSavesNothing()
    {
        // Each of the first six seals is followed by another host finalizing one more day: five
        // attempts meet a conflict, and the sixth would not.
        var (invoicing, drafts) = DailyDrafts("cus_giveup", 7);
        var (store, hook) = AfterSealStore.Over(Store, seal =>
        {
            if (seal <= 6)
                invoicing.Complete(drafts[seal], TimeZoneInfo.Utc);
        });
        var error = Assert.Throws<UsageException>(() => new Invoicing(new Subscriptions(store, Time), taxRate: 0).Complete(drafts[0], TimeZoneInfo.Utc));
        Assert.Equal((ErrorIds.FinalizationConflict, (object?)drafts[0]), (error.ErrorId, error.Target));
        Assert.Equal(5, hook.Seals);
        Assert.Equal(InvoiceStatus.Draft, Store.GetInvoice(drafts[0])!.Status);
    }

    [SkippableFact]
    public void Summary_CostSoFar_AddsTheServices_LeavesOutUsageAfterNow_AndNamesServicesPricedInAnotherCurrency()
    {
        // Metered (USD): api 100 free, then 0.01 a request. Bandwidth has no quota: its display price,
        // 0.01 USD a GB. "pixels" is priced only in EUR (1.00 each), "freebies" in EUR at nothing.
        var invoicing = MeteredPlan("cus_sum", Api(100, overage: 0.01m));
        Store.RegisterService(new UsageService { Name = "pixels", Unit = "pixels", DisplayPrice = 1, Currency = "EUR", BuiltIn = false }, replace: true);
        Store.RegisterService(new UsageService { Name = "freebies", Unit = "freebies", DisplayPrice = 0, Currency = "EUR", BuiltIn = false }, replace: true);
        Time.SetUtcNow(Clock.Utc(2026, 11, 10, 12));
        Store.Ingest(new[]
        {
            Event("cus_sum", "api", 150, Clock.Utc(2026, 11, 2)), Event("cus_sum", "bandwidth", 30, Clock.Utc(2026, 11, 3)),
            Event("cus_sum", "pixels", 2, Clock.Utc(2026, 11, 4)), Event("cus_sum", "freebies", 9, Clock.Utc(2026, 11, 4)),
            // Stamped tomorrow morning (within the day of clock skew ingestion allows): not used yet.
            Event("cus_sum", "api", 1000, Clock.Utc(2026, 11, 11, 6)),
        });
        // A finalized invoice of November 1 (open; its total set to 12.34 so that the amount due tells
        // it from the draft of November 2, 0.50) and that draft.
        var open = invoicing.Complete(invoicing.Create("cus_sum", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 2), TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        invoicing.Create("cus_sum", Clock.Utc(2026, 11, 2), Clock.Utc(2026, 11, 3), TimeZoneInfo.Utc, false);
        // (Finalized at 0.00 it was settled at once: the foreign writer makes it an open 12.34 invoice.)
        ExecuteSql(Sql($"UPDATE billing_invoices SET {(Sqlite ? "total" : "total_amount")} = '12.34', status = 'open' WHERE invoice_id = '{open.InvoiceId}'"));

        var summary = invoicing.Summary("cus_sum", TimeZoneInfo.Utc, Thresholds);
        // api: 150 - 100 = 50 over, 0.50; bandwidth 30 x 0.01 = 0.30: 0.80 (the 1,000 of tomorrow would add 10.00).
        Assert.Equal((0.80m, 0.80m, 0m), (summary.UsageCost, summary.EstimatedTotal, summary.BaseFee));
        Assert.Equal(new[] { "pixels" }, summary.UnpricedServices);
        Assert.Equal((2, 1, 12.34m), (summary.Invoices, summary.OpenInvoices, summary.AmountDue));
        Assert.Equal((Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1)), (summary.PeriodStart, summary.PeriodEnd));
        // The api quota is at 150% of its limit: the summary says so, and records no alert (a look, not a check).
        Assert.Equal(QuotaLevel.Exceeded, Assert.Single(summary.Quotas, q => q.Service == "api").Level);
        Assert.Empty(Store.GetAlerts("cus_sum", Clock.Utc(2026, 1, 1)));
    }
}
