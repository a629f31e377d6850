using System.Globalization;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>
/// What happens after an invoice, over a store: payments, voids, prepaid credit and the ledger
/// that records them all (Set-BillingInvoice, Add-/Remove-BillingCredit, Get-BillingBalance,
/// Get-BillingLedger). The rules are <see cref="Settlement"/>'s; the store applies them under the
/// customer's lock.
/// </summary>
public sealed class CustomerAccounts
{
    private readonly Subscriptions _book;
    private readonly string _recordedBy;

    /// <param name="recordedBy">Who the entries are written by; the process's user@host by default.</param>
    public CustomerAccounts(Subscriptions book, string? recordedBy = null)
    {
        _book = book;
        _recordedBy = recordedBy ?? Writer;
    }

    /// <summary>The user and host of this process: who a ledger entry says wrote it.</summary>
    public static string Writer => $"{Environment.UserName}@{Environment.MachineName}";

    private DateTimeOffset Now => Time.Micros.Truncate(_book.Now);

    /// <summary>
    /// Records a payment: <paramref name="amount"/> (null: what is due) paid at
    /// <paramref name="paidAt"/> (null: now). Paying what is due marks the invoice paid.
    /// </summary>
    public BillingInvoice Pay(string invoiceId, decimal? amount, string? currency, DateTimeOffset? paidAt, string? reference)
    {
        var now = Now;
        var at = paidAt is { } given ? Time.Micros.Truncate(given) : now;
        if (at > now)
            throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"-PaidAt is {at:yyyy-MM-dd HH:mm:ss} UTC, in the future; record a payment once it is made."), paidAt);
        return _book.Store.RecordPayment(new InvoicePayment(invoiceId, amount, currency is null ? null : Money.Currency(currency), at,
            Optional(reference, "The payment reference", 500), _recordedBy, now));
    }

    /// <summary>Voids a finalized unpaid invoice: its period can be invoiced again, under a new number.</summary>
    public BillingInvoice Void(string invoiceId, string reason) =>
        _book.Store.VoidInvoice(new InvoiceVoid(invoiceId, Required(reason, "The reason"), _recordedBy, Now));

    /// <summary>Grants prepaid credit. An expiry must be in the future: a grant that has expired is never applied.</summary>
    public BillingCreditGrant Grant(string customerId, decimal amount, string currency, DateTimeOffset? expiresAt, int? priority, string? description)
    {
        var code = Money.Currency(currency);
        var now = Now;
        if (expiresAt is { } expires && expires <= now)
            throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"-ExpiresAt is {expires.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC, which has passed: the credit could never be applied."), expiresAt);
        if (priority is < 0)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"-Priority is {priority}; it must be 0 or more (a lower number is applied first)."), priority);
        return _book.Store.AddCredit(new CreditGrantRequest(TextRules.CustomerId(customerId), Settlement.Amount(amount, code, "The credit"), code,
            expiresAt is { } e ? Time.Micros.Truncate(e) : null, priority ?? Settlement.DefaultPriority, Optional(description, "The description", 1000), _recordedBy, now));
    }

    /// <summary>
    /// Issues a credit note of a finalized invoice: <paramref name="amount"/> (tax included) of the
    /// invoice or of its line <paramref name="line"/>, or <paramref name="quantity"/> units of that line.
    /// </summary>
    public BillingCreditNote CreditNote(string invoiceId, decimal? amount, int? line, decimal? quantity, string reason) =>
        _book.Store.IssueCreditNote(new CreditNoteRequest(InvoiceId(invoiceId), amount, line, quantity, Required(reason, "The reason"), _recordedBy, Now));

    /// <summary>A credit note by id or number (CreditNoteNotFound).</summary>
    public BillingCreditNote FindCreditNote(string idOrNumber) =>
        _book.Store.GetCreditNote(idOrNumber) ?? throw new UsageException(ErrorIds.CreditNoteNotFound, UsageErrorKind.ObjectNotFound,
            $"Credit note '{idOrNumber}' does not exist.", idOrNumber);

    /// <summary>Removes what is left of a grant.</summary>
    public BillingCreditGrant RemoveGrant(long grantId, string? reason) =>
        _book.Store.RemoveCredit(grantId, Optional(reason, "The reason", 1000), _recordedBy, Now);

    /// <summary>A customer's grants, in the order credit is applied.</summary>
    public IReadOnlyList<BillingCreditGrant> Grants(string customerId) => Settlement.Grants(_book.Store.GetLedger(customerId), Now);

    /// <summary>
    /// A customer's credit per currency; a customer without grants has a balance of 0 in the
    /// currency it is billed in.
    /// </summary>
    public IReadOnlyList<BillingBalance> Balances(string customerId, TimeZoneInfo defaultZone)
    {
        var balances = Settlement.Balances(customerId, Grants(customerId));
        if (balances.Count > 0)
            return balances;
        var currency = _book.Terms(customerId, defaultZone).Currency;
        return new[] { new BillingBalance { CustomerId = customerId, Currency = currency, Balance = Money.Round(0m, currency), Grants = Array.Empty<BillingCreditGrant>() } };
    }

    /// <summary>The ledger of a customer (every customer when null), oldest entry first.</summary>
    public IReadOnlyList<BillingLedgerEntry> Ledger(string? customerId) => _book.Store.GetLedger(customerId)
        .Select(r => new BillingLedgerEntry
        {
            EntryId = r.EntryId, CustomerId = r.CustomerId, Kind = r.Kind, Amount = Money.Round(r.Amount, r.Currency), Currency = r.Currency,
            InvoiceId = r.InvoiceId, InvoiceNumber = r.InvoiceNumber, GrantId = r.Kind == LedgerEntryKind.Grant ? r.EntryId : r.GrantId,
            CreditNoteNumber = r.CreditNoteNumber, Reference = r.Reference, Reason = r.Reason,
            EffectiveAt = r.EffectiveAt, RecordedAt = r.RecordedAt, RecordedBy = r.RecordedBy,
        })
        .ToList();

    /// <summary>Whether an invoice is overdue now.</summary>
    public bool IsOverdue(BillingInvoice invoice) => Settlement.IsOverdue(invoice, Now);

    /// <summary>An invoice id as given: not empty (a bound but empty -InvoiceId is refused, never read as "none").</summary>
    public static string InvoiceId(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-InvoiceId is empty: give the id of an invoice (Get-BillingInvoice lists them).", value);
        return value.Trim();
    }

    private static string Required(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"{what} is empty; say why (it is kept in the ledger).", value);
        return TextRules.Text(value.Trim(), what, ErrorIds.InvalidArgument, 1000);
    }

    private static string? Optional(string? value, string what, int maximumLength)
    {
        if (value is null)
            return null;
        if (string.IsNullOrWhiteSpace(value))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"{what} is empty; leave it out instead.", value);
        return TextRules.Text(value.Trim(), what, ErrorIds.InvalidArgument, maximumLength);
    }
}
