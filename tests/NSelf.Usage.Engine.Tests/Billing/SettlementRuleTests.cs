using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 19's rules, one by one and by their words: what an invoice owes, who may pay and void,
/// which credit an invoice uses, and what a credit note takes back. (The stores' contract tests
/// run the same rules through both stores; these pin each edge.)
/// </summary>
public sealed class SettlementRuleTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 10, 12, 0, 0, TimeSpan.Zero);

    private static BillingInvoice Invoice(InvoiceStatus status = InvoiceStatus.Open, decimal due = 119m, string? number = "INV-000001", decimal taxRate = 19m,
        decimal subtotal = 100m, decimal tax = 19m, decimal paid = 0m, decimal credited = 0m) => new()
    {
        InvoiceId = "INV-20261101-ABCDE", InvoiceNumber = number, CustomerId = "cus_a", PeriodStart = Now.AddDays(-40), PeriodEnd = Now.AddDays(-10),
        Status = status, Currency = "USD", Subtotal = subtotal, TaxRate = taxRate, Tax = tax, Total = subtotal + tax, CreatedAt = Now.AddDays(-9),
        DueDate = Now.AddDays(-1), AmountDue = due, AmountPaid = paid, AmountCredited = credited,
        Lines =
        [
            new BillingInvoiceLine
            {
                LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "api", Description = "api: 10000 requests", Quantity = 10_000m, Included = 0, Billable = 10_000m,
                Unit = "requests", UnitPrice = 0.006m, Amount = 60m, PeriodStart = Now, PeriodEnd = Now,
            },
            new BillingInvoiceLine
            {
                LineNumber = 2, Kind = InvoiceLineKind.Usage, Service = "storage", Description = "storage: 30 GB", Quantity = 30m, Included = 0, Billable = 30m,
                Unit = "GB", UnitPrice = null, Amount = 40m, PeriodStart = Now, PeriodEnd = Now,
            },
            new BillingInvoiceLine
            {
                LineNumber = 3, Kind = InvoiceLineKind.Usage, Service = "bandwidth", Description = "bandwidth: 5 GB", Quantity = 5m, Included = 5m, Billable = 5m,
                Unit = "GB", UnitPrice = 0m, Amount = 0m, PeriodStart = Now, PeriodEnd = Now,
            },
        ],
    };

    private static CreditNoteRequest Request(decimal? amount = null, int? line = null, decimal? quantity = null) =>
        new("INV-20261101-ABCDE", amount, line, quantity, "Goodwill", "t@h", Now);

    private static UsageException Refused(Action action) => Assert.Throws<UsageException>(action);

    private static BillingCreditNote Work(BillingInvoice invoice, IReadOnlyList<BillingCreditNote> earlier, CreditNoteRequest request) =>
        CreditNotes.Work(invoice, earlier, request, "INV-CN-000009");

    // ------------------------------------------------------------------ overdue

    [Fact]
    public void Overdue_IsOpen_Owing_AndPastTheDueDate_Only()
    {
        Assert.True(Settlement.IsOverdue(Invoice(), Now));
        Assert.False(Settlement.IsOverdue(Invoice() with { DueDate = Now }, Now));
        Assert.False(Settlement.IsOverdue(Invoice() with { DueDate = null }, Now));
        Assert.False(Settlement.IsOverdue(Invoice(due: 0m), Now));
        Assert.False(Settlement.IsOverdue(Invoice(status: InvoiceStatus.Paid), Now));
        Assert.False(Settlement.IsOverdue(Invoice(status: InvoiceStatus.Draft), Now));
    }

    // ------------------------------------------------------------------ amounts and payments

    [Fact]
    public void Amount_IsPositive_AndInWholeMinorUnits_SaidInWords()
    {
        Assert.Equal("The credit is -5; it must be more than 0.", Refused(() => Settlement.Amount(-5m, "USD", "The credit")).Message);
        Assert.Equal(ErrorIds.InvalidAmount, Refused(() => Settlement.Amount(0m, "USD", "The credit")).ErrorId);
        Assert.Equal("The payment is 10.005 USD, finer than a USD amount can be (2 decimal places).", Refused(() => Settlement.Amount(10.005m, "USD", "The payment")).Message);
        Assert.Equal(ErrorIds.InvalidAmount, Refused(() => Settlement.Amount(1.5m, "JPY", "The payment")).ErrorId);
        Assert.Equal("10.00", Settlement.Amount(10m, "USD", "x").ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(1.234m, Settlement.Amount(1.234m, "KWD", "x"));
    }

    [Fact]
    public void Payment_OfWhatIsDue_OrAPart_AndEachRefusalInItsWords()
    {
        var pay = (decimal? amount, string? currency) => new InvoicePayment("INV-20261101-ABCDE", amount, currency, Now, null, "t@h", Now);
        Assert.Equal(119m, Settlement.CheckPayment(Invoice(), pay(null, null)));
        Assert.Equal(20m, Settlement.CheckPayment(Invoice(), pay(20m, "usd")));
        Assert.Equal(119m, Settlement.CheckPayment(Invoice(), pay(119m, null)));

        var draft = Refused(() => Settlement.CheckPayment(Invoice(InvoiceStatus.Draft, number: null), pay(null, null)));
        Assert.Equal((ErrorIds.InvoiceNotPayable, "Invoice 'INV-20261101-ABCDE' is a draft: it has not been issued, so nothing is owed on it yet. Finalize it first (Complete-BillingInvoice)."), (draft.ErrorId, draft.Message));
        var isVoid = Refused(() => Settlement.CheckPayment(Invoice(InvoiceStatus.Void), pay(null, null)));
        Assert.Equal((ErrorIds.InvoiceNotPayable, "Invoice 'INV-000001' is void: nothing is owed on it."), (isVoid.ErrorId, isVoid.Message));
        var paid = Refused(() => Settlement.CheckPayment(Invoice(InvoiceStatus.Paid), pay(null, null)));
        Assert.Equal((ErrorIds.InvoiceAlreadyPaid, "Invoice 'INV-000001' is paid already; nothing was recorded."), (paid.ErrorId, paid.Message));
        var euros = Refused(() => Settlement.CheckPayment(Invoice(), pay(10m, "eur")));
        Assert.Equal((ErrorIds.CurrencyMismatch, "The payment is in EUR, and invoice 'INV-000001' is in USD; record it in USD."), (euros.ErrorId, euros.Message));
        var nothing = Refused(() => Settlement.CheckPayment(Invoice(due: 0m), pay(null, null)));
        Assert.Equal((ErrorIds.InvoiceAlreadyPaid, "Invoice 'INV-000001' owes nothing (total 119 USD); nothing was recorded."), (nothing.ErrorId, nothing.Message));
        var more = Refused(() => Settlement.CheckPayment(Invoice(), pay(119.01m, null)));
        Assert.Equal((ErrorIds.AmountExceedsDue, "The payment of 119.01 USD is more than invoice 'INV-000001' owes (119 USD); record what it owes, and hold the rest as credit (Add-BillingCredit)."),
            (more.ErrorId, more.Message));
    }

    [Fact]
    public void Void_OfAFinalizedUnpaidInvoice_Only_EachRefusalSaysWhy()
    {
        Settlement.CheckVoidable(Invoice(), []);
        Settlement.CheckVoidable(Invoice(InvoiceStatus.Uncollectible), []);
        string Why(BillingInvoice invoice, params string[] later)
        {
            var refused = Refused(() => Settlement.CheckVoidable(invoice, later));
            Assert.Equal(ErrorIds.InvoiceNotVoidable, refused.ErrorId);
            return refused.Message;
        }
        Assert.Equal("Invoice 'INV-20261101-ABCDE' is a draft: it was never issued. A new draft of its period replaces it (New-BillingInvoice -Force); nothing was changed.", Why(Invoice(InvoiceStatus.Draft, number: null)));
        Assert.Equal("Invoice 'INV-000001' is void already; nothing was changed.", Why(Invoice(InvoiceStatus.Void)));
        Assert.Equal("Invoice 'INV-000001' is paid. Credit it instead (New-BillingCreditNote); nothing was changed.", Why(Invoice(InvoiceStatus.Paid)));
        Assert.Equal("Invoice 'INV-000001' has payments (0.01 USD). Credit it instead (New-BillingCreditNote); nothing was changed.", Why(Invoice(paid: 0.01m)));
        Assert.Equal("Invoice 'INV-000001' has credit notes. Credit the rest instead (New-BillingCreditNote); nothing was changed.", Why(Invoice(credited: 0.01m)));
        Assert.Equal("Invoice 'INV-000001' has late usage billed on INV-000002, INV-000003; voiding it would bill that usage again. Void those first; nothing was changed.",
            Why(Invoice(), "INV-000002", "INV-000003"));
    }

    // ------------------------------------------------------------------ grants

    private static LedgerRow GrantRow(long id, decimal amount, DateTimeOffset? expires = null, int? priority = null, string currency = "USD") =>
        new(id, "cus_a", LedgerEntryKind.Grant, currency, amount, Now.AddDays(-id), Now.AddDays(-id), "t@h") { ExpiresAt = expires, Priority = priority };

    private static LedgerRow Spend(LedgerEntryKind kind, long grant, decimal amount) =>
        new(100 + grant, "cus_a", kind, "USD", amount, Now, Now, "t@h") { GrantId = grant, InvoiceId = "INV-x" };

    [Fact]
    public void Grants_AreOrdered_SoonestExpiryFirst_ThenPriority_ThenTheOlder_WithWhatIsLeft()
    {
        var grants = Settlement.Grants(
        [
            GrantRow(1, 10m), GrantRow(2, 10m), GrantRow(3, 10m, priority: 5), GrantRow(4, 10m, expires: Now.AddDays(3)), GrantRow(5, 10m, expires: Now.AddDays(1), priority: 90),
            GrantRow(6, 10m, expires: Now), Spend(LedgerEntryKind.CreditApplied, 1, 4m), Spend(LedgerEntryKind.CreditReturned, 1, 1m),
        ], Now);
        Assert.Equal([6L, 5, 4, 3, 1, 2], grants.Select(g => g.GrantId).ToList());
        var first = grants.Single(g => g.GrantId == 1);
        Assert.Equal((7.00m, CreditGrantStatus.Active, 50), (first.Remaining, first.Status, first.Priority));
        Assert.Equal((0.00m, CreditGrantStatus.Expired), (grants[0].Remaining, grants[0].Status));
    }

    [Fact]
    public void Grants_Spent_AndRemoved_HaveNothingLeft()
    {
        var grants = Settlement.Grants([GrantRow(1, 10m), GrantRow(2, 10m), Spend(LedgerEntryKind.CreditApplied, 1, 10m), Spend(LedgerEntryKind.GrantRemoved, 2, 10m)], Now);
        Assert.Equal([(CreditGrantStatus.Spent, 0.00m), (CreditGrantStatus.Removed, 0.00m)], grants.Select(g => (g.Status, g.Remaining)).ToList());
        Assert.Equal(ErrorIds.CreditGrantNotActive, Refused(() => Settlement.CheckRemovable(grants[0], 1)).ErrorId);
        Assert.Equal("Credit grant 2 of 'cus_a' is removed: it has nothing left to remove.", Refused(() => Settlement.CheckRemovable(grants[1], 2)).Message);
        Assert.Equal("Credit grant 9 does not exist.", Refused(() => Settlement.CheckRemovable(null, 9)).Message);
        Assert.Equal(10.00m, Settlement.CheckRemovable(Settlement.Grants([GrantRow(3, 10m)], Now)[0], 3));
    }

    [Fact]
    public void Apply_SpendsGrantsInOrder_OnlyActiveOnesOfTheCurrency_AndStopsWhenCovered()
    {
        var grants = Settlement.Grants(
        [
            GrantRow(1, 30m, expires: Now.AddDays(5)), GrantRow(2, 50m), GrantRow(3, 99m, currency: "EUR"), GrantRow(4, 99m, expires: Now.AddDays(2)),
            GrantRow(5, 10m, expires: Now.AddHours(1)), Spend(LedgerEntryKind.CreditApplied, 4, 99m),
        ], Now);
        // Grant 5 expires before the finalization at Now + 2 h; grant 4 is spent; grant 3 is in euros.
        Assert.Equal([new CreditApplication(1, 30m), new CreditApplication(2, 20m)], Settlement.Apply(grants, "usd", 50m, Now.AddHours(2)));
        Assert.Equal([new CreditApplication(5, 10m), new CreditApplication(1, 30m), new CreditApplication(2, 10m)], Settlement.Apply(grants, "USD", 50m, Now));
        // Covered by the first grant exactly: no application of 0 from the next.
        Assert.Equal([new CreditApplication(5, 10m)], Settlement.Apply(grants, "USD", 10m, Now));
        Assert.Equal([new CreditApplication(3, 5m)], Settlement.Apply(grants, "EUR", 5m, Now));
        Assert.Empty(Settlement.Apply(grants, "JPY", 5m, Now));
    }

    [Fact]
    public void Balances_SumTheActiveGrants_PerCurrency()
    {
        var balances = Settlement.Balances("cus_a", Settlement.Grants([GrantRow(1, 30m), GrantRow(2, 5m, currency: "EUR"), GrantRow(3, 7m, expires: Now), GrantRow(4, 20m)], Now));
        Assert.Equal([("EUR", 5.00m, 1), ("USD", 50.00m, 3)], balances.Select(b => (b.Currency, b.Balance, b.Grants.Count)).ToList());
    }

    // ------------------------------------------------------------------ credit notes

    [Fact]
    public void CreditNote_NumbersAndIds()
    {
        Assert.Equal("INV-CN-000001", CreditNotes.Number("INV-", 1));
        Assert.Equal("credit_note:BSP-", CreditNotes.Series("BSP-"));
        Assert.Equal("CN-INV-x-1", CreditNotes.Id("INV-x", 0));
        Assert.Equal("CN-INV-x-3", CreditNotes.Id("INV-x", 2));
    }

    [Fact]
    public void CreditNote_OfADraftOrAVoidInvoice_IsRefused_InWords()
    {
        var draft = Refused(() => Work(Invoice(InvoiceStatus.Draft, number: null), [], Request(10m)));
        Assert.Equal((ErrorIds.InvoiceNotCreditable, "Invoice 'INV-20261101-ABCDE' is a draft: it was never issued, so there is nothing to credit. Change the draft instead (New-BillingInvoice -Force)."),
            (draft.ErrorId, draft.Message));
        var isVoid = Refused(() => Work(Invoice(InvoiceStatus.Void), [], Request(10m)));
        Assert.Equal((ErrorIds.InvoiceNotCreditable, "Invoice 'INV-000001' is void: nothing on it is owed, so there is nothing to credit."), (isVoid.ErrorId, isVoid.Message));
        Assert.Equal(ErrorIds.InvoiceLineNotFound, Refused(() => Work(Invoice(), [], Request(line: 9, quantity: 1m))).ErrorId);
        Assert.Equal("Invoice 'INV-000001' has no line 9; its lines are 1, 2, 3.", Refused(() => Work(Invoice(), [], Request(line: 9, quantity: 1m))).Message);
        Assert.Equal("A credit of a quantity names the line it credits (-Line).", Refused(() => Work(Invoice(), [], Request(quantity: 1m))).Message);
        Assert.Equal("Give the amount to credit (-Amount), or the line and the quantity (-Line -Quantity).", Refused(() => Work(Invoice(), [], Request())).Message);
        Assert.Equal(ErrorIds.InvalidQuantity, Refused(() => Work(Invoice(), [], Request(line: 1, quantity: 0m))).ErrorId);
    }

    [Fact]
    public void CreditNote_OfAnAmount_IsSplitAtTheInvoicesRate_AndTheRestTakesBackExactlyTheRest()
    {
        var part = Work(Invoice(), [], Request(11.90m));
        Assert.Equal((10.00m, 1.90m, 11.90m, 19m), (part.Subtotal, part.Tax, part.Total, part.TaxRate));
        Assert.Equal(("Credit of invoice INV-000001", (int?)null, (string?)null, (decimal?)null), (part.Lines[0].Description, part.Lines[0].InvoiceLineNumber, part.Lines[0].Unit, part.Lines[0].UnitPrice));
        Assert.Equal((11.90m, 0.00m, "CN-INV-20261101-ABCDE-1", "Goodwill"), (part.AppliedToInvoice, part.CreditedToBalance, part.CreditNoteId, part.Reason));
        // 33.33 at 19 %: net 28.01, the tax is the rest (5.32).
        var odd = Work(Invoice(), [], Request(33.33m));
        Assert.Equal((28.01m, 5.32m), (odd.Subtotal, odd.Tax));
        var rest = Work(Invoice(), [part, odd], Request(119m - 11.90m - 33.33m));
        Assert.Equal((100m - 10m - 28.01m, 19m - 1.90m - 5.32m), (rest.Subtotal, rest.Tax));
        Assert.Equal("CN-INV-20261101-ABCDE-3", rest.CreditNoteId);
        var refused = Refused(() => Work(Invoice(), [part], Request(107.11m)));
        Assert.Equal((ErrorIds.CreditExceedsInvoice, "A credit note never takes back more than was invoiced: on invoice 'INV-000001', 107.10 USD of its 119 USD is left to credit; 107.11 USD was asked. Nothing was issued."),
            (refused.ErrorId, refused.Message));
    }

    [Fact]
    public void CreditNote_OnAPaidInvoice_BecomesCredit_AndOnAPartlyPaidOne_ReducesWhatIsOwedFirst()
    {
        var paid = Work(Invoice(InvoiceStatus.Paid, due: 0m), [], Request(20m));
        Assert.Equal((0.00m, 20.00m), (paid.AppliedToInvoice, paid.CreditedToBalance));
        var partly = Work(Invoice(due: 15m), [], Request(20m));
        Assert.Equal((15.00m, 5.00m), (partly.AppliedToInvoice, partly.CreditedToBalance));
    }

    [Fact]
    public void CreditNote_OfAnAmountOfALine_FitsWhatIsLeftOfTheLine()
    {
        var fits = Work(Invoice(), [], Request(35.70m, line: 2));
        Assert.Equal((30.00m, 5.70m, (int?)2, "storage: 30 GB (credit)", (string?)null), (fits.Subtotal, fits.Tax, fits.Lines[0].InvoiceLineNumber, fits.Lines[0].Description, fits.Lines[0].Unit));
        var refused = Refused(() => Work(Invoice(), [fits], Request(11.91m, line: 2)));
        Assert.Equal("A credit note never takes back more than was invoiced: on invoice 'INV-000001', line 2 billed 40 USD net and 10.00 USD of it is left to credit; 10.01 USD net was asked. Nothing was issued.", refused.Message);
        // What another line's credit took back does not count against this one.
        var other = Work(Invoice(), [fits], Request(47.60m, line: 1));
        Assert.Equal(40.00m, other.Subtotal);
    }

    [Fact]
    public void CreditNote_OfUnits_AtTheUnitPrice_OrTheAveragePrice_TheLastUnitsTakingWhatIsLeft()
    {
        var units = Work(Invoice(), [], Request(line: 1, quantity: 2_500m));
        Assert.Equal((15.00m, 2.85m, 17.85m), (units.Subtotal, units.Tax, units.Total));
        Assert.Equal(("api: 10000 requests (credit of 2500 requests)", (decimal?)2_500m, "requests", (decimal?)0.006m), (units.Lines[0].Description, units.Lines[0].Quantity, units.Lines[0].Unit, units.Lines[0].UnitPrice));
        // Storage has no one unit price: its average, 40 / 30 a GB; 7 GB is 9.33.
        var average = Work(Invoice(), [], Request(line: 2, quantity: 7m));
        Assert.Equal((9.33m, 1.77m), (average.Subtotal, average.Tax));
        var more = Work(Invoice(), [average], Request(line: 2, quantity: 13m));
        Assert.Equal(17.33m, more.Subtotal);
        var last = Work(Invoice(), [average, more], Request(line: 2, quantity: 10m));
        Assert.Equal(40m - 9.33m - 17.33m, last.Subtotal);
        var over = Refused(() => Work(Invoice(), [average, more], Request(line: 2, quantity: 10.5m)));
        Assert.Equal("A credit note never takes back more than was invoiced: on invoice 'INV-000001', line 2 billed 30 GB and 10 of them are left to credit; 10.5 were asked. Nothing was issued.", over.Message);
        // A line that cost nothing has nothing to take back.
        Assert.Equal(ErrorIds.CreditExceedsInvoice, Refused(() => Work(Invoice(), [], Request(line: 3, quantity: 1m))).ErrorId);
    }

    [Fact]
    public void CreditNote_TheTaxOfUnits_IsAtTheRate_AndTheLastNetTakesTheLastTax()
    {
        // An invoice whose tax was rounded up as a whole: 3 x 0.05 net, tax 0.03 (19 % of 0.15 is 0.0285).
        var invoice = Invoice(subtotal: 0.15m, tax: 0.03m) with
        {
            Lines = [new BillingInvoiceLine { LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "sms", Description = "sms", Quantity = 3m, Included = 0, Billable = 3m, Unit = "sms", UnitPrice = 0.05m, Amount = 0.15m, PeriodStart = Now, PeriodEnd = Now }],
        };
        var one = Work(invoice, [], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.01m), (one.Subtotal, one.Tax));
        var two = Work(invoice, [one], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.01m), (two.Subtotal, two.Tax));
        var three = Work(invoice, [one, two], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.01m, 0.06m), (three.Subtotal, three.Tax, three.Total));
        Assert.Equal(0.03m, one.Tax + two.Tax + three.Tax);
    }

    [Fact]
    public void CreditNote_CarriesItsNumber_AndRefusesAnAmountInItsWords()
    {
        Assert.Equal("INV-CN-000009", Work(Invoice(), [], Request(1m)).CreditNoteNumber);
        Assert.Equal("The credit is -1; it must be more than 0.", Refused(() => Work(Invoice(), [], Request(-1m))).Message);
        Assert.Equal("The payment is -1; it must be more than 0.",
            Refused(() => Settlement.CheckPayment(Invoice(), new InvoicePayment("INV-20261101-ABCDE", -1m, null, Now, null, "t@h", Now))).Message);
        Assert.Equal("A credit note never takes back more than was invoiced: on invoice 'INV-000001', nothing of it is left to credit. Nothing was issued.",
            Refused(() => Work(Invoice(), [], Request(line: 3, quantity: 1m))).Message);
    }

    [Fact]
    public void CreditNote_TheWholeRest_TakesBackExactlyTheRestOfNetAndTax_WhateverTheEarlierSplit()
    {
        // An earlier credit note that took net without tax (as a capped one can): the rest is the rest, not a split at the rate.
        var earlier = Work(Invoice(), [], Request(1m)) is var n ? new BillingCreditNote
        {
            CreditNoteId = n.CreditNoteId, CreditNoteNumber = n.CreditNoteNumber, InvoiceId = n.InvoiceId, CustomerId = n.CustomerId, Currency = "USD",
            Subtotal = 50m, TaxRate = 19m, Tax = 0m, Total = 50m, AppliedToInvoice = 50m, CreditedToBalance = 0m, Reason = "x", Lines = n.Lines, IssuedAt = Now, IssuedBy = "t@h",
        } : null!;
        var rest = Work(Invoice(), [earlier], Request(69m));
        Assert.Equal((50.00m, 19.00m), (rest.Subtotal, rest.Tax));
    }

    [Fact]
    public void CreditNote_OfAnAmountOfALine_MayTakeTheWholeLine_AndCarriesNoUnitPrice()
    {
        var whole = Work(Invoice(), [], Request(47.60m, line: 2));
        Assert.Equal((40.00m, (decimal?)null, (decimal?)null), (whole.Subtotal, whole.Lines[0].UnitPrice, whole.Lines[0].Quantity));
        // A line with a unit price: a credit of an amount names no price all the same.
        Assert.Null(Work(Invoice(), [], Request(1.19m, line: 1)).Lines[0].UnitPrice);
    }

    [Fact]
    public void CreditNote_TheLastUnits_TakeTheRestOfTheTax_AndNoCreditTakesMoreTaxThanIsLeft()
    {
        // 25 % of each 0.05 is 0.0125, 0.01; the invoice's tax on 0.15 is 0.04: the last unit takes 0.02.
        var invoice = Invoice(subtotal: 0.15m, tax: 0.04m, taxRate: 25m) with
        {
            Lines = [new BillingInvoiceLine { LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "sms", Description = "sms", Quantity = 3m, Included = 0, Billable = 3m, Unit = null, UnitPrice = 0.05m, Amount = 0.15m, PeriodStart = Now, PeriodEnd = Now }],
        };
        var one = Work(invoice, [], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.01m, "sms (credit of 1)", (string?)null), (one.Subtotal, one.Tax, one.Lines[0].Description, one.Lines[0].Unit));
        var two = Work(invoice, [one], Request(line: 1, quantity: 1m));
        var three = Work(invoice, [one, two], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.02m), (three.Subtotal, three.Tax));
        // An earlier credit note that took all the tax leaves none for the next units.
        var taxed = new BillingCreditNote
        {
            CreditNoteId = one.CreditNoteId, CreditNoteNumber = one.CreditNoteNumber, InvoiceId = one.InvoiceId, CustomerId = one.CustomerId, Currency = "USD",
            Subtotal = 0.05m, TaxRate = 25m, Tax = 0.04m, Total = 0.09m, AppliedToInvoice = 0.09m, CreditedToBalance = 0m, Reason = "x", Lines = one.Lines, IssuedAt = Now, IssuedBy = "t@h",
        };
        var untaxed = Work(invoice, [taxed], Request(line: 1, quantity: 1m));
        Assert.Equal((0.05m, 0.00m), (untaxed.Subtotal, untaxed.Tax));
    }

    [Fact]
    public void CreditNote_OfUnits_AfterTheWholeNetWasCredited_IsRefused()
    {
        var whole = Work(Invoice(), [], Request(119m));
        var refused = Refused(() => Work(Invoice(), [whole], Request(line: 1, quantity: 1_000m)));
        Assert.Equal("A credit note never takes back more than was invoiced: on invoice 'INV-000001', 0.00 USD of its 100 USD net is left to credit; 6.00 USD net was asked. Nothing was issued.", refused.Message);
    }

    [Fact]
    public void DueDays_AreWholeDaysFromZeroTo365_Thirty_WhenNotSet()
    {
        static int Days(string? text) => NSelf.Usage.Engine.Accounts.InvoiceBuilder.DueDays(new NSelf.Usage.Engine.Configuration.EnvironmentSettings(name => name == "INVOICE_DUE_DAYS" ? text : null));
        // Set but empty is not set, as for every BILLING_* variable.
        Assert.Equal((30, 30, 14, 0, 365, 7), (Days(null), Days(""), Days("14"), Days("0"), Days("365"), Days(" 7 ")));
        foreach (var bad in new[] { "366", "-1", "1.5", "two weeks", "1e2" })
        {
            var refused = Refused(() => Days(bad));
            Assert.Equal((ErrorIds.InvalidArgument, (object?)"INVOICE_DUE_DAYS"), (refused.ErrorId, refused.Target));
            Assert.Equal($"$INVOICE_DUE_DAYS is '{bad}'; it must be a whole number of days from 0 to 365 such as 14.", refused.Message);
        }
    }

    [Fact]
    public void FreshId_OfAPeriodInvoicedAgain_TakesTheNextFreeSuffix()
    {
        Assert.Equal("INV-x", InvoiceRules.FreshId("INV-x", []));
        Assert.Equal("INV-x", InvoiceRules.FreshId("INV-x", ["INV-y"]));
        Assert.Equal("INV-x-2", InvoiceRules.FreshId("INV-x", ["INV-x"]));
        Assert.Equal("INV-x-3", InvoiceRules.FreshId("INV-x", ["INV-x-2", "INV-x"]));
    }
}
