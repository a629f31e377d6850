using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 19: what happens after an invoice. Payments, voids and prepaid credit, all written as
/// ledger entries under the customer's lock; what an invoice owes and a customer holds is summed
/// from the ledger. Every case runs on both stores.
/// </summary>
public abstract partial class UsageStoreContract
{
    private CustomerAccounts Accounts(IUsageStore? store = null) => new(new Subscriptions(store ?? Store, Time), "tester@contract");

    /// <summary>A metered customer with <paramref name="requests"/> api requests at 0.01 in November: a November invoice of requests / 100 USD, drafted on Dec 2.</summary>
    private Invoicing NovemberUsage(string customer, int requests)
    {
        var invoicing = MeteredPlan(customer, Api(0, overage: 0.01m));
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        Use(customer, "api", requests, Clock.Utc(2026, 11, 10));
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));
        return invoicing;
    }

    private long LedgerRows() => CountSql("SELECT count(*) FROM billing_ledger");

    [SkippableFact]
    public void Credits_ExpiringGrantSpentFirst_ThenAPaymentACreditNoteAndAPayment_LeaveTheInvoicePaid_AndTheBalanceZero()
    {
        var invoicing = NovemberUsage("cus_pre", 11_560);
        var accounts = Accounts();
        var forever = accounts.Grant("cus_pre", 20.00m, "usd", null, null, "Welcome credit");
        var expiring = accounts.Grant("cus_pre", 50.00m, "USD", Clock.Utc(2027, 1, 2), null, "Prepaid December");
        Assert.Equal(("USD", 20.00m, CreditGrantStatus.Active, 50), (forever.Currency, forever.Remaining, forever.Status, forever.Priority));

        var invoice = Finalize(invoicing, "cus_pre");

        Assert.Equal((InvoiceStatus.Open, 115.60m, 70.00m, 45.60m), (invoice.Status, invoice.Total, invoice.CreditsApplied, invoice.AmountDue));
        var applied = Store.GetLedger("cus_pre").Where(e => e.Kind == LedgerEntryKind.CreditApplied).ToList();
        Assert.Equal([(expiring.GrantId, 50.00m), (forever.GrantId, 20.00m)], applied.Select(e => (e.GrantId!.Value, e.Amount)).ToList());

        var partly = accounts.Pay(invoice.InvoiceId, 20.00m, null, null, "SEPA-1");
        Assert.Equal((InvoiceStatus.Open, 20.00m, 25.60m, (DateTimeOffset?)null), (partly.Status, partly.AmountPaid, partly.AmountDue, partly.PaidAt));
        var note = accounts.CreditNote(invoice.InvoiceId, 5.60m, null, null, "Goodwill: outage on Nov 12");
        Assert.Equal(("INV-CN-000001", 5.60m, 5.60m, 0.00m), (note.CreditNoteNumber, note.Total, note.AppliedToInvoice, note.CreditedToBalance));
        Assert.Equal(20.00m, Store.GetInvoice(invoice.InvoiceId)!.AmountDue);
        var paid = accounts.Pay(invoice.InvoiceId, 20.00m, "USD", Clock.Utc(2026, 12, 1, 9), "SEPA-2");
        Assert.Equal((InvoiceStatus.Paid, 40.00m, 5.60m, 0.00m, (DateTimeOffset?)Clock.Utc(2026, 12, 1, 9)), (paid.Status, paid.AmountPaid, paid.AmountCredited, paid.AmountDue, paid.PaidAt));

        // Another host reads the same account from the ledger.
        var balance = Assert.Single(Accounts(Open("main")).Balances("cus_pre", TimeZoneInfo.Utc));
        Assert.Equal(("USD", 0.00m), (balance.Currency, balance.Balance));
        Assert.All(balance.Grants, g => Assert.Equal((CreditGrantStatus.Spent, 0.00m), (g.Status, g.Remaining)));
        var ledger = accounts.Ledger("cus_pre");
        Assert.Equal([LedgerEntryKind.Grant, LedgerEntryKind.Grant, LedgerEntryKind.Invoiced, LedgerEntryKind.CreditApplied, LedgerEntryKind.CreditApplied,
            LedgerEntryKind.Payment, LedgerEntryKind.CreditNote, LedgerEntryKind.Payment], ledger.Select(e => e.Kind).ToList());
        Assert.Equal(("INV-CN-000001", "Goodwill: outage on Nov 12"), (ledger[6].CreditNoteNumber, ledger[6].Reason));
        Assert.All(ledger.Skip(2), e => Assert.Equal(invoice.InvoiceNumber, e.InvoiceNumber));
        Assert.Equal(["SEPA-1", "SEPA-2"], ledger.Where(e => e.Kind == LedgerEntryKind.Payment).Select(e => e.Reference).ToList());
        // Payments and grants by whoever recorded them; the finalization's entries by the finalizing process.
        Assert.All(ledger.Where(e => e.Kind is LedgerEntryKind.Grant or LedgerEntryKind.Payment or LedgerEntryKind.CreditNote), e => Assert.StartsWith("tester@contract", e.RecordedBy, StringComparison.Ordinal));
        Assert.All(ledger.Where(e => e.Kind is LedgerEntryKind.Invoiced or LedgerEntryKind.CreditApplied), e => Assert.StartsWith(CustomerAccounts.Writer, e.RecordedBy, StringComparison.Ordinal));
        Assert.Equal(0.00m, Book.Store.GetInvoices("cus_pre").Single().AmountDue);
    }

    [SkippableFact]
    public void Credits_AnExpiredGrantIsNeverApplied_NorOneInAnotherCurrency_AndPriorityOrdersTheRest()
    {
        var invoicing = NovemberUsage("cus_exp", 10_000);
        var accounts = Accounts();
        Time.SetUtcNow(Clock.Utc(2026, 11, 25));
        var expired = accounts.Grant("cus_exp", 30.00m, "USD", Clock.Utc(2026, 12, 1), null, null);
        var euros = accounts.Grant("cus_exp", 30.00m, "EUR", null, null, null);
        var later = accounts.Grant("cus_exp", 60.00m, "USD", null, 10, null);
        var first = accounts.Grant("cus_exp", 60.00m, "USD", null, 5, null);
        Time.SetUtcNow(Clock.Utc(2026, 12, 2));

        var invoice = Finalize(invoicing, "cus_exp");

        Assert.Equal((100.00m, 100.00m, 0.00m, InvoiceStatus.Paid), (invoice.Total, invoice.CreditsApplied, invoice.AmountDue, invoice.Status));
        var grants = accounts.Grants("cus_exp").ToDictionary(g => g.GrantId);
        Assert.Equal((CreditGrantStatus.Expired, 0.00m), (grants[expired.GrantId].Status, grants[expired.GrantId].Remaining));
        Assert.Equal((CreditGrantStatus.Active, 30.00m), (grants[euros.GrantId].Status, grants[euros.GrantId].Remaining));
        Assert.Equal((CreditGrantStatus.Spent, 0.00m), (grants[first.GrantId].Status, grants[first.GrantId].Remaining));
        Assert.Equal((CreditGrantStatus.Active, 20.00m), (grants[later.GrantId].Status, grants[later.GrantId].Remaining));
        var balances = accounts.Balances("cus_exp", TimeZoneInfo.Utc);
        Assert.Equal([("EUR", 30.00m), ("USD", 20.00m)], balances.Select(b => (b.Currency, b.Balance)).ToList());
    }

    [SkippableFact]
    public void Void_ReturnsCredit_MakesThePeriodBillableAgain_UnderANewNumber_AndReconciles()
    {
        var invoicing = NovemberUsage("cus_void", 10_000);
        var accounts = Accounts();
        var grant = accounts.Grant("cus_void", 40.00m, "USD", null, null, null);
        var first = Finalize(invoicing, "cus_void");
        Assert.Equal(("INV-000001", 40.00m, 60.00m), (first.InvoiceNumber, first.CreditsApplied, first.AmountDue));

        var voided = accounts.Void(first.InvoiceId, "Billed on the wrong plan");

        Assert.Equal((InvoiceStatus.Void, 0.00m, 0.00m), (voided.Status, voided.AmountDue, voided.CreditsApplied));
        Assert.Equal(40.00m, accounts.Grants("cus_void").Single(g => g.GrantId == grant.GrantId).Remaining);
        var again = Finalize(invoicing, "cus_void");
        Assert.Equal(first.InvoiceId + "-2", again.InvoiceId);
        Assert.Equal(("INV-000002", 100.00m, 40.00m, 60.00m), (again.InvoiceNumber, again.Total, again.CreditsApplied, again.AmountDue));
        Assert.Equal(first.Lines.Single(l => l.Service == "api").Events, again.Lines.Single(l => l.Service == "api").Events);
        Assert.Empty(new InvoiceReconciliation(Store).Check("cus_void", null, null));
        Assert.Equal("INV-000001", Store.GetInvoice(first.InvoiceId)!.InvoiceNumber);
        var kinds = accounts.Ledger("cus_void").Where(e => e.InvoiceId == first.InvoiceId).Select(e => (e.Kind, e.Amount)).ToList();
        Assert.Equal([(LedgerEntryKind.Invoiced, 100.00m), (LedgerEntryKind.CreditApplied, 40.00m), (LedgerEntryKind.CreditReturned, 40.00m), (LedgerEntryKind.Void, 100.00m)], kinds);
        Assert.Equal("Billed on the wrong plan", accounts.Ledger("cus_void").Single(e => e.Kind == LedgerEntryKind.Void).Reason);
    }

    [SkippableFact]
    public void Void_IsRefused_WhenALaterInvoiceBilledItsLateUsage()
    {
        var invoicing = NovemberUsage("cus_late", 1_000);
        var november = Finalize(invoicing, "cus_late");
        Use("cus_late", "api", 500, Clock.Utc(2026, 11, 15)); // late November usage
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        var december = Finalize(invoicing, "cus_late");
        Assert.Contains(december.Lines, l => l.Kind == InvoiceLineKind.Adjustment);
        var before = LedgerRows();

        var refused = Assert.Throws<UsageException>(() => Accounts().Void(november.InvoiceId, "mistake"));

        Assert.Equal(ErrorIds.InvoiceNotVoidable, refused.ErrorId);
        Assert.Contains(december.InvoiceNumber!, refused.Message, StringComparison.Ordinal);
        Assert.Equal((before, InvoiceStatus.Open), (LedgerRows(), Store.GetInvoice(november.InvoiceId)!.Status));
    }

    [SkippableFact]
    public void BadInput_GetsOneClearError_AndChangesNothing()
    {
        var invoicing = NovemberUsage("cus_bad", 10_000);
        var accounts = Accounts();
        var draft = invoicing.Create("cus_bad", null, null, TimeZoneInfo.Utc, false).Invoice;
        var grant = accounts.Grant("cus_bad", 5.00m, "USD", null, null, null);
        var before = LedgerRows();
        void Refused(string errorId, Action action)
        {
            Assert.Equal(errorId, Assert.Throws<UsageException>(action).ErrorId);
            Assert.Equal(before, LedgerRows());
        }

        Refused(ErrorIds.InvoiceNotPayable, () => accounts.Pay(draft.InvoiceId, null, null, null, null));
        Refused(ErrorIds.InvoiceNotVoidable, () => accounts.Void(draft.InvoiceId, "draft"));
        Refused(ErrorIds.InvoiceNotFound, () => accounts.Pay("INV-nope", null, null, null, null));
        Refused(ErrorIds.InvalidAmount, () => accounts.Grant("cus_bad", -5m, "USD", null, null, null));
        Refused(ErrorIds.InvalidAmount, () => accounts.Grant("cus_bad", 0m, "USD", null, null, null));
        Refused(ErrorIds.InvalidAmount, () => accounts.Grant("cus_bad", 1.005m, "USD", null, null, null));
        Refused(ErrorIds.InvalidArgument, () => accounts.Grant("cus_bad", 5m, "US", null, null, null));
        Refused(ErrorIds.InvalidTimestamp, () => accounts.Grant("cus_bad", 5m, "USD", Clock.Utc(2026, 12, 1), null, null));
        Refused(ErrorIds.CustomerNotFound, () => accounts.Grant("cus_nobody", 5m, "USD", null, null, null));
        Refused(ErrorIds.CreditGrantNotFound, () => accounts.RemoveGrant(grant.GrantId + 1000, null));

        var invoice = Finalize(invoicing, "cus_bad");
        before = LedgerRows();
        Assert.Equal(95.00m, invoice.AmountDue);
        Refused(ErrorIds.InvalidAmount, () => accounts.Pay(invoice.InvoiceId, -1m, null, null, null));
        Refused(ErrorIds.InvalidAmount, () => accounts.Pay(invoice.InvoiceId, 10.001m, null, null, null));
        Refused(ErrorIds.AmountExceedsDue, () => accounts.Pay(invoice.InvoiceId, 95.01m, null, null, null));
        Refused(ErrorIds.CurrencyMismatch, () => accounts.Pay(invoice.InvoiceId, 10m, "EUR", null, null));
        Refused(ErrorIds.InvalidTimestamp, () => accounts.Pay(invoice.InvoiceId, 10m, null, Clock.Utc(2026, 12, 3), null));
        Refused(ErrorIds.InvalidArgument, () => accounts.Void(invoice.InvoiceId, "  "));
        Refused(ErrorIds.CreditGrantNotActive, () => accounts.RemoveGrant(grant.GrantId, "spent already"));

        accounts.Pay(invoice.InvoiceId, 10m, null, null, null);
        before = LedgerRows();
        Refused(ErrorIds.InvoiceNotVoidable, () => accounts.Void(invoice.InvoiceId, "partly paid"));
        accounts.Pay(invoice.InvoiceId, null, null, null, null);
        before = LedgerRows();
        Refused(ErrorIds.InvoiceAlreadyPaid, () => accounts.Pay(invoice.InvoiceId, 1m, null, null, null));
        Refused(ErrorIds.InvoiceNotVoidable, () => accounts.Void(invoice.InvoiceId, "paid"));
        Assert.Equal(InvoiceStatus.Paid, Store.GetInvoice(invoice.InvoiceId)!.Status);
    }

    [SkippableFact]
    public void RemoveCredit_TakesTheUnusedRest_AndKeepsWhatWasApplied()
    {
        var invoicing = NovemberUsage("cus_rm", 3_000);
        var accounts = Accounts();
        var grant = accounts.Grant("cus_rm", 50.00m, "USD", null, null, "Promo");
        Finalize(invoicing, "cus_rm");

        var removed = accounts.RemoveGrant(grant.GrantId, "Promo ended");

        Assert.Equal((CreditGrantStatus.Removed, 0.00m, 50.00m), (removed.Status, removed.Remaining, removed.Amount));
        var entry = accounts.Ledger("cus_rm").Last();
        Assert.Equal((LedgerEntryKind.GrantRemoved, 20.00m, "Promo ended", (long?)grant.GrantId), (entry.Kind, entry.Amount, entry.Reason, entry.GrantId));
        Assert.Equal(0.00m, accounts.Balances("cus_rm", TimeZoneInfo.Utc).Single().Balance);
        Assert.Equal(ErrorIds.CreditGrantNotActive, Assert.Throws<UsageException>(() => accounts.RemoveGrant(grant.GrantId, null)).ErrorId);
    }

    [SkippableFact]
    public void Ledger_IsAppendOnly_EvenForPlainSql()
    {
        var accounts = Accounts();
        MeteredPlan("cus_sql", Api(0, overage: 0.01m));
        accounts.Grant("cus_sql", 10.00m, "USD", null, null, null);

        Assert.ThrowsAny<Exception>(() => ExecuteSql("UPDATE billing_ledger SET amount = 1000"));
        Assert.ThrowsAny<Exception>(() => ExecuteSql("DELETE FROM billing_ledger"));

        Assert.Equal(10.00m, accounts.Balances("cus_sql", TimeZoneInfo.Utc).Single().Balance);
    }

    [SkippableFact]
    public void Balance_OfACustomerWithoutGrants_IsZeroInItsBillingCurrency()
    {
        MeteredPlan("cus_none", Api(0, overage: 0.01m));
        var balance = Assert.Single(Accounts().Balances("cus_none", TimeZoneInfo.Utc));
        Assert.Equal(("USD", 0.00m, 0), (balance.Currency, balance.Balance, balance.Grants.Count));
    }

    [SkippableFact]
    public void Overdue_FollowsTheDueDate_AndOnlyWhileSomethingIsOwed()
    {
        var invoicing = new Invoicing(Book, 0m, dueDays: 14);
        NovemberUsage("cus_due", 10_000);
        var invoice = invoicing.Complete(invoicing.Create("cus_due", null, null, TimeZoneInfo.Utc, false).Invoice.InvoiceId, TimeZoneInfo.Utc);
        Assert.Equal(Clock.Utc(2026, 12, 16), invoice.DueDate);
        var accounts = Accounts();
        Assert.False(accounts.IsOverdue(invoice));
        Time.SetUtcNow(Clock.Utc(2026, 12, 16, 0, 0, 1));
        Assert.True(accounts.IsOverdue(Store.GetInvoice(invoice.InvoiceId)!));
        var summary = invoicing.Summary("cus_due", TimeZoneInfo.Utc, Thresholds);
        Assert.Equal((100.00m, 100.00m), (summary.AmountDue, summary.OverdueAmount));
        accounts.Pay(invoice.InvoiceId, null, null, null, null);
        Assert.False(accounts.IsOverdue(Store.GetInvoice(invoice.InvoiceId)!));
        Assert.Equal((0m, 0m), (invoicing.Summary("cus_due", TimeZoneInfo.Utc, Thresholds).AmountDue, invoicing.Summary("cus_due", TimeZoneInfo.Utc, Thresholds).OverdueAmount));
    }

    /// <summary>
    /// Two hosts finalize two invoices of one customer at the same instant, with credit for one
    /// of them: the credit is spent once, whichever wins, and the total applied is what was granted.
    /// </summary>
    [SkippableFact]
    public async Task Credits_TwoHostsFinalizingAtOnce_NeverSpendTheSameCredit()
    {
        var invoicing = NovemberUsage("cus_race", 8_000);
        Use("cus_race", "api", 8_000, Clock.Utc(2026, 11, 20));
        Accounts().Grant("cus_race", 100.00m, "USD", null, null, null);
        // November in two parts, 80.00 each: two invoices of one customer.
        var first = invoicing.Create("cus_race", Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 16), TimeZoneInfo.Utc, false).Invoice;
        var second = invoicing.Create("cus_race", Clock.Utc(2026, 11, 16), Clock.Utc(2026, 12, 1), TimeZoneInfo.Utc, false).Invoice;
        var hosts = new[] { Open("main"), Open("main") };
        using var start = new Barrier(2);
        var finalized = await Task.WhenAll(new[] { first.InvoiceId, second.InvoiceId }.Select((id, n) => Task.Run(() =>
        {
            var host = new Invoicing(new Subscriptions(hosts[n], Time), 0m);
            start.SignalAndWait();
            return host.Complete(id, TimeZoneInfo.Utc);
        })));
        Assert.Equal((80.00m, 80.00m), (finalized[0].Total, finalized[1].Total));
        Assert.Equal(100.00m, finalized.Sum(i => i.CreditsApplied));
        Assert.Equal(60.00m, finalized.Sum(i => i.AmountDue));
        var applied = Store.GetLedger("cus_race").Where(e => e.Kind == LedgerEntryKind.CreditApplied).Sum(e => e.Amount);
        Assert.Equal(100.00m, applied);
        Assert.Equal(0.00m, Accounts().Balances("cus_race", TimeZoneInfo.Utc).Single().Balance);
    }

    [SkippableFact]
    public void CreditNote_OfUnits_ReversesTheTaxAtTheInvoicesRate_AndNeverTakesBackMoreThanWasInvoiced()
    {
        GermanSeller();
        var invoicing = HundredNet("cus_cn", new CustomerChange(Name: "Max Mustermann", Country: "DE"));
        var invoice = Finalize(invoicing, "cus_cn");
        Assert.Equal((100.00m, 19.00m, 119.00m), (invoice.Subtotal, invoice.Tax, invoice.Total));
        var api = invoice.Lines.Single(l => l.Service == "api");
        var accounts = Accounts();

        var quarter = accounts.CreditNote(invoice.InvoiceId, null, api.LineNumber, 2_500m, "Duplicate requests");

        Assert.Equal(("BSP-CN-000001", 25.00m, 19m, 4.75m, 29.75m), (quarter.CreditNoteNumber, quarter.Subtotal, quarter.TaxRate, quarter.Tax, quarter.Total));
        var line = Assert.Single(quarter.Lines);
        Assert.Equal(((int?)api.LineNumber, (decimal?)2_500m, (decimal?)0.01m, 25.00m), (line.InvoiceLineNumber, line.Quantity, line.UnitPrice, line.Amount));
        Assert.Equal(89.25m, Store.GetInvoice(invoice.InvoiceId)!.AmountDue);

        var before = LedgerRows();
        Assert.Equal(ErrorIds.CreditExceedsInvoice, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, null, api.LineNumber, 7_501m, "too many")).ErrorId);
        Assert.Equal(ErrorIds.CreditExceedsInvoice, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, 89.26m, null, null, "too much")).ErrorId);
        Assert.Equal(ErrorIds.InvoiceLineNotFound, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, null, 9, 1m, "no line")).ErrorId);
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, null, api.LineNumber, -1m, "negative")).ErrorId);
        Assert.Equal(ErrorIds.InvalidAmount, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, -5m, null, null, "negative")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, 5m, null, null, "")).ErrorId);
        Assert.Equal((before, 1), (LedgerRows(), Store.GetCreditNotes("cus_cn", null).Count));

        // The rest of the line, then the rest of the invoice: together exactly what was invoiced.
        var rest = accounts.CreditNote(invoice.InvoiceId, null, api.LineNumber, 7_500m, "Duplicate requests");
        Assert.Equal((75.00m, 14.25m, 89.25m, "BSP-CN-000002"), (rest.Subtotal, rest.Tax, rest.Total, rest.CreditNoteNumber));
        var after = Store.GetInvoice(invoice.InvoiceId)!;
        Assert.Equal((InvoiceStatus.Paid, 0.00m, 119.00m), (after.Status, after.AmountDue, after.AmountCredited));
        Assert.Equal(ErrorIds.CreditExceedsInvoice, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, 0.01m, null, null, "nothing left")).ErrorId);
        Assert.Equal(["BSP-CN-000001", "BSP-CN-000002"], Store.GetCreditNotes(null, invoice.InvoiceNumber).Select(n => n.CreditNoteNumber).ToList());
    }

    [SkippableFact]
    public void CreditNote_OfAPaidInvoice_BecomesCredit_ThatTheNextInvoiceUses()
    {
        var invoicing = NovemberUsage("cus_paidcn", 10_000);
        var accounts = Accounts();
        var november = Finalize(invoicing, "cus_paidcn");
        accounts.Pay(november.InvoiceId, null, null, null, null);

        var note = accounts.CreditNote(november.InvoiceId, 30.00m, null, null, "SLA credit");

        Assert.Equal((0.00m, 30.00m), (note.AppliedToInvoice, note.CreditedToBalance));
        var grant = Assert.Single(accounts.Grants("cus_paidcn"));
        Assert.Equal((30.00m, note.CreditNoteNumber, (DateTimeOffset?)null), (grant.Remaining, grant.CreditNoteNumber, grant.ExpiresAt));
        Time.SetUtcNow(Clock.Utc(2027, 1, 2));
        Use("cus_paidcn", "api", 5_000, Clock.Utc(2026, 12, 10));
        var december = Finalize(invoicing, "cus_paidcn");
        Assert.Equal((50.00m, 30.00m, 20.00m), (december.Total, december.CreditsApplied, december.AmountDue));
        Assert.Equal(ErrorIds.InvoiceNotVoidable, Assert.Throws<UsageException>(() => accounts.Void(november.InvoiceId, "paid")).ErrorId);
    }

    [SkippableFact]
    public void CreditNote_OfADraftOrAVoidInvoice_IsRefused()
    {
        var invoicing = NovemberUsage("cus_nocn", 10_000);
        var accounts = Accounts();
        var draft = invoicing.Create("cus_nocn", null, null, TimeZoneInfo.Utc, false).Invoice;
        Assert.Equal(ErrorIds.InvoiceNotCreditable, Assert.Throws<UsageException>(() => accounts.CreditNote(draft.InvoiceId, 1m, null, null, "draft")).ErrorId);
        var invoice = Finalize(invoicing, "cus_nocn");
        accounts.Void(invoice.InvoiceId, "mistake");
        Assert.Equal(ErrorIds.InvoiceNotCreditable, Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, 1m, null, null, "void")).ErrorId);
        Assert.Empty(Store.GetCreditNotes("cus_nocn", null));
        Assert.Equal(ErrorIds.CreditNoteNotFound, Assert.Throws<UsageException>(() => accounts.FindCreditNote("INV-CN-000404")).ErrorId);
    }

    [SkippableFact]
    public void PrepaidQuota_IsExceeded_OnceTheCreditIsUsedUp_AndStoredAsHardForNself()
    {
        MeteredPlan("cus_prepaid", Api(0, overage: 0.01m));
        Store.SaveQuota(new BillingQuota
        {
            CustomerId = "cus_prepaid", Service = "api", Limit = 50, LimitType = "requests", UsageUnit = "requests", Enforcement = QuotaEnforcement.Prepaid,
            ResetPeriod = QuotaResetPeriod.Monthly, PricingModel = PricingModel.PerUnit, OveragePrice = 0.01m,
        });
        Assert.Equal(1L, CountSql("SELECT count(*) FROM usage_customer_quotas WHERE customer_id = 'cus_prepaid' AND enforcement_mode = 'hard'"));
        Assert.Equal(QuotaEnforcement.Prepaid, Store.GetCustomerQuotas("cus_prepaid").Single().Enforcement);
        Accounts().Grant("cus_prepaid", 1.00m, "USD", null, null, null);
        Time.SetUtcNow(Clock.Utc(2026, 11, 20));
        QuotaStatus Check() => new QuotaChecker(Book, Thresholds).Check(new[] { Book.Terms("cus_prepaid", TimeZoneInfo.Utc) }, "api").Single().Status;

        Use("cus_prepaid", "api", 30, Clock.Utc(2026, 11, 10));
        var allowance = Check();
        Assert.Equal((QuotaLevel.Ok, (decimal?)1.00m, true), (allowance.Level, allowance.CreditLeft, QuotaChecker.Allows(allowance, 1_000)));

        Use("cus_prepaid", "api", 80, Clock.Utc(2026, 11, 11)); // 60 past the allowance: 0.60
        var paying = Check();
        Assert.Equal((QuotaLevel.Critical, (decimal?)0.40m, true), (paying.Level, paying.CreditLeft, QuotaChecker.Allows(paying, 1)));

        Use("cus_prepaid", "api", 40, Clock.Utc(2026, 11, 12)); // 100 past: 1.00, all of it
        var spent = Check();
        Assert.Equal((QuotaLevel.Exceeded, (decimal?)0.00m, false), (spent.Level, spent.CreditLeft, QuotaChecker.Allows(spent, 1)));
        Assert.Contains(Store.GetAlerts("cus_prepaid", Clock.Utc(2026, 11, 1)), a => a.Level == QuotaLevel.Exceeded && a.Message.Contains("no prepaid credit left", StringComparison.Ordinal));

        // More credit lets usage go on.
        Accounts().Grant("cus_prepaid", 5.00m, "USD", null, null, null);
        var topped = Check();
        Assert.Equal((QuotaLevel.Critical, (decimal?)5.00m, true), (topped.Level, topped.CreditLeft, QuotaChecker.Allows(topped, 1)));
    }

    [SkippableFact]
    public void CreditNote_OfUnits_AfterTheWholeInvoiceWasCredited_IsRefused()
    {
        var invoicing = NovemberUsage("cus_cnall", 10_000);
        var accounts = Accounts();
        var invoice = Finalize(invoicing, "cus_cnall");
        var api = invoice.Lines.Single(l => l.Service == "api");
        accounts.CreditNote(invoice.InvoiceId, invoice.Total, null, null, "All of it");
        var before = LedgerRows();

        var refused = Assert.Throws<UsageException>(() => accounts.CreditNote(invoice.InvoiceId, null, api.LineNumber, 1_000m, "and the line again"));

        Assert.Equal(ErrorIds.CreditExceedsInvoice, refused.ErrorId);
        Assert.Equal((before, 1), (LedgerRows(), Store.GetCreditNotes("cus_cnall", null).Count));
    }
}
