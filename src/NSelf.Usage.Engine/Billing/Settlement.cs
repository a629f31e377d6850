using System.Globalization;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// One row of the ledger as stored (see <see cref="BillingLedgerEntry"/> for what each field
/// means); <see cref="ExpiresAt"/> and <see cref="Priority"/> belong to a grant's row. A row to
/// write has <see cref="EntryId"/> 0; the store numbers it.
/// </summary>
public sealed record LedgerRow(long EntryId, string CustomerId, LedgerEntryKind Kind, string Currency, decimal Amount,
    DateTimeOffset EffectiveAt, DateTimeOffset RecordedAt, string RecordedBy)
{
    public string? InvoiceId { get; init; }
    public string? InvoiceNumber { get; init; }
    public long? GrantId { get; init; }
    public string? CreditNoteId { get; init; }
    public string? CreditNoteNumber { get; init; }
    public string? Reference { get; init; }
    public string? Reason { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public int? Priority { get; init; }
}

/// <summary>A payment to record: <see cref="Amount"/> null pays what is due.</summary>
public sealed record InvoicePayment(string InvoiceId, decimal? Amount, string? Currency, DateTimeOffset PaidAt, string? Reference, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>A void to record.</summary>
public sealed record InvoiceVoid(string InvoiceId, string Reason, string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>Prepaid credit to grant.</summary>
public sealed record CreditGrantRequest(string CustomerId, decimal Amount, string Currency, DateTimeOffset? ExpiresAt, int Priority, string? Description,
    string RecordedBy, DateTimeOffset RecordedAt);

/// <summary>Credit of one grant put on an invoice.</summary>
public readonly record struct CreditApplication(long GrantId, decimal Amount);

/// <summary>
/// The rules of what happens after an invoice, written once: what an invoice owes and a grant has
/// left are sums of the ledger; who may pay, void, grant and remove; and which credit an invoice
/// uses. The store calls them inside the transaction that holds the customer's lock, over the rows
/// it reads there: that is what keeps two hosts from spending the same credit.
/// </summary>
public static class Settlement
{
    /// <summary>The default of a grant's -Priority.</summary>
    public const int DefaultPriority = 50;

    /// <summary>
    /// An invoice with what its ledger entries say of it: credits applied, paid, credited and
    /// still due. The total is the invoice's own (an invoice finalized by another tool has no
    /// Invoiced entry); a paid or void invoice owes nothing whatever its entries say (nself's tools
    /// mark invoices paid without a ledger); a draft owes its total once it is finalized.
    /// </summary>
    public static BillingInvoice WithAccount(BillingInvoice invoice, IEnumerable<LedgerRow> entries)
    {
        var mine = entries.Where(e => e.InvoiceId == invoice.InvoiceId).ToList();
        var applied = Sum(mine, LedgerEntryKind.CreditApplied) - Sum(mine, LedgerEntryKind.CreditReturned);
        var paid = Sum(mine, LedgerEntryKind.Payment);
        var credited = Sum(mine, LedgerEntryKind.CreditNote);
        var due = invoice.Status switch
        {
            InvoiceStatus.Paid or InvoiceStatus.Void => 0m,
            InvoiceStatus.Draft => invoice.Total,
            _ => invoice.Total - applied - paid - credited,
        };
        return invoice with
        {
            CreditsApplied = Money.Round(applied, invoice.Currency),
            AmountPaid = Money.Round(paid, invoice.Currency),
            AmountCredited = Money.Round(credited, invoice.Currency),
            AmountDue = Money.Round(due, invoice.Currency),
        };
    }

    /// <summary>Whether an invoice is overdue at <paramref name="now"/>: open, owing, and past its due date.</summary>
    public static bool IsOverdue(BillingInvoice invoice, DateTimeOffset now) =>
        invoice.Status == InvoiceStatus.Open && invoice.AmountDue > 0 && invoice.DueDate is { } due && due < now;

    /// <summary>
    /// An amount of money as given: positive and in whole minor units of its currency (a payment
    /// of 10.005 USD is a typo, never rounded away).
    /// </summary>
    public static decimal Amount(decimal amount, string currency, string what)
    {
        if (amount <= 0)
            throw new UsageException(ErrorIds.InvalidAmount, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{what} is {amount}; it must be more than 0."), amount);
        if (decimal.Round(amount, Money.MinorUnitDigits(currency)) != amount)
            throw new UsageException(ErrorIds.InvalidAmount, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"{what} is {amount} {currency}, finer than a {currency} amount can be ({Money.MinorUnitDigits(currency)} decimal places)."), amount);
        return Money.Round(amount, currency);
    }

    /// <summary>
    /// What a payment records: the amount given, or what is due. Fails for a draft or void invoice
    /// (InvoiceNotPayable), one paid already (InvoiceAlreadyPaid), another currency than the
    /// invoice's (CurrencyMismatch), and more than is due (AmountExceedsDue).
    /// </summary>
    public static decimal CheckPayment(BillingInvoice invoice, InvoicePayment payment)
    {
        switch (invoice.Status)
        {
            case InvoiceStatus.Draft:
                throw new UsageException(ErrorIds.InvoiceNotPayable, UsageErrorKind.InvalidOperation,
                    $"Invoice '{invoice.InvoiceId}' is a draft: it has not been issued, so nothing is owed on it yet. Finalize it first (Complete-BillingInvoice).", invoice.InvoiceId);
            case InvoiceStatus.Void:
                throw new UsageException(ErrorIds.InvoiceNotPayable, UsageErrorKind.InvalidOperation,
                    $"Invoice '{Name(invoice)}' is void: nothing is owed on it.", invoice.InvoiceId);
            case InvoiceStatus.Paid:
                throw new UsageException(ErrorIds.InvoiceAlreadyPaid, UsageErrorKind.InvalidOperation,
                    $"Invoice '{Name(invoice)}' is paid already; nothing was recorded.", invoice.InvoiceId);
        }
        if (payment.Currency is { } currency && !string.Equals(currency, invoice.Currency, StringComparison.OrdinalIgnoreCase))
            throw new UsageException(ErrorIds.CurrencyMismatch, UsageErrorKind.InvalidArgument,
                $"The payment is in {currency.ToUpperInvariant()}, and invoice '{Name(invoice)}' is in {invoice.Currency}; record it in {invoice.Currency}.", currency);
        if (invoice.AmountDue <= 0)
            throw new UsageException(ErrorIds.InvoiceAlreadyPaid, UsageErrorKind.InvalidOperation,
                $"Invoice '{Name(invoice)}' owes nothing (total {Text(invoice.Total)} {invoice.Currency}); nothing was recorded.", invoice.InvoiceId);
        var amount = payment.Amount is { } given ? Amount(given, invoice.Currency, "The payment") : invoice.AmountDue;
        if (amount > invoice.AmountDue)
            throw new UsageException(ErrorIds.AmountExceedsDue, UsageErrorKind.InvalidArgument,
                $"The payment of {Text(amount)} {invoice.Currency} is more than invoice '{Name(invoice)}' owes ({Text(invoice.AmountDue)} {invoice.Currency}); "
                + "record what it owes, and hold the rest as credit (Add-BillingCredit).", amount);
        return amount;
    }

    /// <summary>
    /// Fails with InvoiceNotVoidable unless the invoice is finalized, unpaid, without payments or
    /// credit notes, and no other invoice billed late usage of its period (voiding it would make
    /// that usage billable twice); <paramref name="laterAdjustments"/> are those invoices.
    /// </summary>
    public static void CheckVoidable(BillingInvoice invoice, IReadOnlyCollection<string> laterAdjustments)
    {
        string? why = invoice.Status switch
        {
            InvoiceStatus.Draft => "is a draft: it was never issued. A new draft of its period replaces it (New-BillingInvoice -Force)",
            InvoiceStatus.Void => "is void already",
            InvoiceStatus.Paid => "is paid. Credit it instead (New-BillingCreditNote)",
            _ when invoice.AmountPaid > 0 => string.Create(CultureInfo.InvariantCulture, $"has payments ({invoice.AmountPaid} {invoice.Currency}). Credit it instead (New-BillingCreditNote)"),
            _ when invoice.AmountCredited > 0 => "has credit notes. Credit the rest instead (New-BillingCreditNote)",
            _ when laterAdjustments.Count > 0 => $"has late usage billed on {string.Join(", ", laterAdjustments)}; voiding it would bill that usage again. Void those first",
            _ => null,
        };
        if (why is not null)
            throw new UsageException(ErrorIds.InvoiceNotVoidable, UsageErrorKind.InvalidOperation, $"Invoice '{Name(invoice)}' {why}; nothing was changed.", invoice.InvoiceId);
    }

    /// <summary>
    /// The grants among <paramref name="rows"/> (a customer's grant rows and the rows that name
    /// them), each with what is left at <paramref name="now"/>, in the order credit is applied:
    /// soonest expiry first (no expiry last), then lower priority, then the older grant.
    /// </summary>
    public static IReadOnlyList<BillingCreditGrant> Grants(IEnumerable<LedgerRow> rows, DateTimeOffset now)
    {
        var all = rows.ToList();
        var used = all.Where(r => r.GrantId is not null && r.Kind != LedgerEntryKind.Grant).ToLookup(r => r.GrantId!.Value);
        return all.Where(r => r.Kind == LedgerEntryKind.Grant)
            .Select(g =>
            {
                var spend = used[g.EntryId].ToList();
                // A removal takes all that is left, so a removed grant has nothing left whatever it was.
                var left = g.Amount - Sum(spend, LedgerEntryKind.CreditApplied) + Sum(spend, LedgerEntryKind.CreditReturned);
                var status = spend.Any(r => r.Kind == LedgerEntryKind.GrantRemoved) ? CreditGrantStatus.Removed
                    : left <= 0 ? CreditGrantStatus.Spent
                    : g.ExpiresAt is { } expires && expires <= now ? CreditGrantStatus.Expired
                    : CreditGrantStatus.Active;
                return new BillingCreditGrant
                {
                    GrantId = g.EntryId, CustomerId = g.CustomerId, Currency = g.Currency, Amount = Money.Round(g.Amount, g.Currency),
                    Remaining = Money.Round(status == CreditGrantStatus.Active ? left : 0m, g.Currency), Status = status,
                    ExpiresAt = g.ExpiresAt, Priority = g.Priority ?? DefaultPriority, Description = g.Reason,
                    CreditNoteNumber = g.CreditNoteNumber, GrantedAt = g.EffectiveAt,
                };
            })
            .OrderBy(g => g.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(g => g.Priority).ThenBy(g => g.GrantId)
            .ToList();
    }

    /// <summary>
    /// The credit an invoice of <paramref name="amount"/> in <paramref name="currency"/> uses at
    /// <paramref name="at"/>: active grants of that currency, in the order of <see cref="Grants"/>,
    /// each as far as it goes, until the amount is covered. An expired grant is never used.
    /// </summary>
    public static IReadOnlyList<CreditApplication> Apply(IReadOnlyList<BillingCreditGrant> grants, string currency, decimal amount, DateTimeOffset at)
    {
        var applications = new List<CreditApplication>();
        var left = amount;
        foreach (var grant in grants)
        {
            if (left <= 0)
                break;
            if (grant.Status != CreditGrantStatus.Active || !string.Equals(grant.Currency, currency, StringComparison.OrdinalIgnoreCase)
                || (grant.ExpiresAt is { } expires && expires <= at))
                continue;
            var use = Math.Min(grant.Remaining, left);
            applications.Add(new CreditApplication(grant.GrantId, use));
            left -= use;
        }
        return applications;
    }

    /// <summary>
    /// What removing a grant takes away: its unused rest. Fails with CreditGrantNotFound when the
    /// customer has no such grant, and CreditGrantNotActive when nothing is left of it.
    /// </summary>
    public static decimal CheckRemovable(BillingCreditGrant? grant, long grantId)
    {
        if (grant is null)
            throw new UsageException(ErrorIds.CreditGrantNotFound, UsageErrorKind.ObjectNotFound,
                string.Create(CultureInfo.InvariantCulture, $"Credit grant {grantId} does not exist."), grantId);
        if (grant.Status != CreditGrantStatus.Active)
            throw new UsageException(ErrorIds.CreditGrantNotActive, UsageErrorKind.InvalidOperation,
                string.Create(CultureInfo.InvariantCulture, $"Credit grant {grantId} of '{grant.CustomerId}' is {grant.Status.ToString().ToLowerInvariant()}: it has nothing left to remove."), grantId);
        return grant.Remaining;
    }

    /// <summary>The customer's credit per currency, from its grants.</summary>
    public static IReadOnlyList<BillingBalance> Balances(string customerId, IReadOnlyList<BillingCreditGrant> grants) => grants
        .GroupBy(g => g.Currency, StringComparer.OrdinalIgnoreCase)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => new BillingBalance
        {
            CustomerId = customerId, Currency = g.Key,
            Balance = Money.Round(g.Where(x => x.Status == CreditGrantStatus.Active).Sum(x => x.Remaining), g.Key),
            Grants = g.ToList(),
        })
        .ToList();

    /// <summary>A credit note read back from a store with its lines, its amounts in the currency's minor unit again.</summary>
    public static BillingCreditNote InCurrency(BillingCreditNote n, IReadOnlyList<BillingCreditNoteLine> lines) => new()
    {
        CreditNoteId = n.CreditNoteId, CreditNoteNumber = n.CreditNoteNumber, InvoiceId = n.InvoiceId, InvoiceNumber = n.InvoiceNumber, CustomerId = n.CustomerId,
        Currency = n.Currency, Subtotal = Money.Round(n.Subtotal, n.Currency), TaxRate = Ingestion.Quantities.Normalize(n.TaxRate), Tax = Money.Round(n.Tax, n.Currency),
        Total = Money.Round(n.Total, n.Currency), AppliedToInvoice = Money.Round(n.AppliedToInvoice, n.Currency), CreditedToBalance = Money.Round(n.CreditedToBalance, n.Currency),
        Reason = n.Reason, IssuedAt = n.IssuedAt, IssuedBy = n.IssuedBy,
        Lines = lines.Select(l => new BillingCreditNoteLine
        {
            LineNumber = l.LineNumber, InvoiceLineNumber = l.InvoiceLineNumber, Description = l.Description,
            Quantity = l.Quantity is { } q ? Ingestion.Quantities.Normalize(q) : null, Unit = l.Unit,
            UnitPrice = l.UnitPrice is { } p ? Ingestion.Quantities.Normalize(p) : null, Amount = Money.Round(l.Amount, n.Currency),
        }).ToList(),
    };

    private static decimal Sum(IEnumerable<LedgerRow> rows, LedgerEntryKind kind) => rows.Where(r => r.Kind == kind).Sum(r => r.Amount);

    private static string Name(BillingInvoice invoice) => invoice.InvoiceNumber ?? invoice.InvoiceId;

    private static string Text(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);
}
