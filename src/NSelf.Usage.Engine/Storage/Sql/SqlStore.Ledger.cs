using NSelf.Usage.Engine.Billing;
using static NSelf.Usage.Engine.Storage.Sql.BillingText;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// The ledger of payments, voids, credit notes and prepaid credit: rows are only ever added. Each
/// write holds the customer's row lock (SQLite's write transaction holds the file), so what an
/// invoice owes and a grant has left is read and spent by one writer at a time; the rules
/// (<see cref="Settlement"/>) are the domain's, called here over what the transaction reads.
/// </summary>
public abstract partial class SqlStore
{
    private string LedgerColumns => "l.entry_id, l.customer_id, l.kind, l.currency, l.amount, l.effective_at, l.recorded_at, " + Dialect.LedgerRecordedBy
        + ", l.invoice_id, i.invoice_number, l.grant_id, l.credit_note_id, l.reference, l.reason, l.expires_at, l.priority, c.credit_note_number";

    private static LedgerRow ReadLedgerRow(SqlRow r) => new(r.Long(0), r.Text(1), LedgerKind(r.Text(2)), r.Text(3), r.Money(4), r.Time(5), r.Time(6), r.Text(7))
    {
        InvoiceId = r.TextOrNull(8),
        InvoiceNumber = r.TextOrNull(9),
        GrantId = r.LongOrNull(10),
        CreditNoteId = r.TextOrNull(11),
        Reference = r.TextOrNull(12),
        Reason = r.TextOrNull(13),
        ExpiresAt = r.TimeOrNull(14),
        Priority = r.IsNull(15) ? null : r.Int(15),
        CreditNoteNumber = r.TextOrNull(16),
    };

    private List<LedgerRow> ReadLedgerRows(SqlSession session, string where, params (string Name, object? Value)[] parameters) =>
        session.Query($"SELECT {LedgerColumns} FROM billing_ledger l LEFT JOIN billing_invoices i ON i.invoice_id = l.invoice_id "
            + $"LEFT JOIN billing_credit_notes c ON c.credit_note_id = l.credit_note_id {where} ORDER BY l.entry_id",
            ReadLedgerRow, parameters);

    private static long AppendLedger(SqlSession session, LedgerRow row) => session.Query("""
        INSERT INTO billing_ledger (customer_id, kind, currency, amount, invoice_id, grant_id, credit_note_id, reference, reason,
            expires_at, priority, effective_at, recorded_at, recorded_by)
        VALUES (@customer, @kind, @currency, @amount, @invoice, @grant, @creditNote, @reference, @reason, @expires, @priority, @effective, @recorded, @by)
        RETURNING entry_id
        """, r => r.Long(0),
        ("customer", row.CustomerId), ("kind", Spell(row.Kind)), ("currency", row.Currency), ("amount", new MoneyValue(row.Amount)),
        ("invoice", row.InvoiceId), ("grant", row.GrantId), ("creditNote", row.CreditNoteId), ("reference", row.Reference), ("reason", row.Reason),
        ("expires", row.ExpiresAt), ("priority", row.Priority), ("effective", row.EffectiveAt), ("recorded", row.RecordedAt), ("by", row.RecordedBy)).Single();

    public IReadOnlyList<LedgerRow> GetLedger(string? customerId) => InReadSession(session => customerId is null
        ? ReadLedgerRows(session, "")
        : ReadLedgerRows(session, "WHERE l.customer_id = @customer", ("customer", customerId)));

    /// <summary>
    /// In the finalizing transaction: the invoice's total is owed (an Invoiced entry), and the
    /// customer's credit in its currency pays what it can of it, as the rules choose. Credit that
    /// covers the whole total leaves the invoice paid.
    /// </summary>
    private void ApplyCredits(SqlSession session, BillingInvoice invoice, string recordedBy)
    {
        var at = invoice.FinalizedAt!.Value;
        // An invoice of nothing owes nothing: it is settled as it is issued (as Stripe does), so it
        // never waits among the open ones for a payment that cannot come.
        if (invoice.Total <= 0)
        {
            MarkPaid(session, invoice.InvoiceId, at);
            return;
        }
        AppendLedger(session, new LedgerRow(0, invoice.CustomerId, LedgerEntryKind.Invoiced, invoice.Currency, invoice.Total, at, at, recordedBy)
        {
            InvoiceId = invoice.InvoiceId,
        });
        var grants = Settlement.Grants(GrantRows(session, invoice.CustomerId), at);
        var applications = Settlement.Apply(grants, invoice.Currency, invoice.Total, at);
        foreach (var application in applications)
            AppendLedger(session, new LedgerRow(0, invoice.CustomerId, LedgerEntryKind.CreditApplied, invoice.Currency, application.Amount, at, at, recordedBy)
            {
                InvoiceId = invoice.InvoiceId, GrantId = application.GrantId,
            });
        if (applications.Sum(a => a.Amount) == invoice.Total)
            MarkPaid(session, invoice.InvoiceId, at);
    }

    private void MarkPaid(SqlSession session, string invoiceId, DateTimeOffset paidAt) =>
        SetStatus(session, invoiceId, InvoiceStatus.Paid, paidAt);

    private void SetStatus(SqlSession session, string invoiceId, InvoiceStatus status, DateTimeOffset? paidAt) =>
        // nself's tools read updated_at; its paid_at is the one the module keeps too.
        session.Execute($"UPDATE billing_invoices SET status = @status, paid_at = @paid{(Dialect.HasNselfInvoiceColumns ? ", updated_at = @paid" : "")} WHERE invoice_id = @invoice",
            ("status", Spell(status)), ("paid", paidAt), ("invoice", invoiceId));

    /// <summary>The invoice with its account, read under the customer's lock (taken after the invoice is found, in the order finalization takes them).</summary>
    private BillingInvoice LockedInvoice(SqlSession session, string invoiceId)
    {
        var header = ReadInvoiceHeaders(session, "WHERE invoice_id = @invoice", lockRows: false, ("invoice", invoiceId)).SingleOrDefault()
            ?? throw InvoiceRules.NotFound(invoiceId);
        LockCustomer(session, header.CustomerId);
        return ReadInvoice(session, invoiceId);
    }

    public BillingInvoice RecordPayment(InvoicePayment payment) => InWriteTransaction(session =>
    {
        var invoice = LockedInvoice(session, payment.InvoiceId);
        var amount = Settlement.CheckPayment(invoice, payment);
        AppendLedger(session, new LedgerRow(0, invoice.CustomerId, LedgerEntryKind.Payment, invoice.Currency, amount, payment.PaidAt, payment.RecordedAt, payment.RecordedBy)
        {
            InvoiceId = invoice.InvoiceId, Reference = payment.Reference,
        });
        if (amount == invoice.AmountDue)
            MarkPaid(session, invoice.InvoiceId, payment.PaidAt);
        return ReadInvoice(session, invoice.InvoiceId);
    });

    public BillingInvoice VoidInvoice(InvoiceVoid request) => InWriteTransaction(session =>
    {
        var invoice = LockedInvoice(session, request.InvoiceId);
        // Late usage of its period billed on another live invoice: billed from the seal this
        // invoice left, so a new invoice of the period would bill it again.
        var later = session.Query("""
            SELECT DISTINCT coalesce(i.invoice_number, i.invoice_id) FROM billing_invoice_lines l JOIN billing_invoices i ON i.invoice_id = l.invoice_id
            WHERE l.customer_id = @customer AND l.kind = 'adjustment' AND l.invoice_id <> @invoice AND i.status IN ('open', 'paid', 'uncollectible')
              AND l.period_start < @end AND l.period_end > @start
            ORDER BY 1
            """, r => r.Text(0), ("customer", invoice.CustomerId), ("invoice", invoice.InvoiceId), ("start", invoice.PeriodStart), ("end", invoice.PeriodEnd));
        Settlement.CheckVoidable(invoice, later);
        var at = request.RecordedAt;
        // Credit it used goes back to its grants; what it then owes (its total) is owed no more.
        foreach (var grant in ReadLedgerRows(session, "WHERE l.invoice_id = @invoice AND l.grant_id IS NOT NULL", ("invoice", invoice.InvoiceId))
            .GroupBy(r => r.GrantId!.Value))
        {
            var used = grant.Where(r => r.Kind == LedgerEntryKind.CreditApplied).Sum(r => r.Amount) - grant.Where(r => r.Kind == LedgerEntryKind.CreditReturned).Sum(r => r.Amount);
            if (used > 0)
                AppendLedger(session, new LedgerRow(0, invoice.CustomerId, LedgerEntryKind.CreditReturned, invoice.Currency, used, at, at, request.RecordedBy)
                {
                    InvoiceId = invoice.InvoiceId, GrantId = grant.Key, Reason = request.Reason,
                });
        }
        var owed = invoice.AmountDue + invoice.CreditsApplied;
        if (owed > 0)
            AppendLedger(session, new LedgerRow(0, invoice.CustomerId, LedgerEntryKind.Void, invoice.Currency, owed, at, at, request.RecordedBy)
            {
                InvoiceId = invoice.InvoiceId, Reason = request.Reason,
            });
        SetStatus(session, invoice.InvoiceId, InvoiceStatus.Void, null);
        return ReadInvoice(session, invoice.InvoiceId);
    });

    private List<LedgerRow> GrantRows(SqlSession session, string customerId) =>
        ReadLedgerRows(session, "WHERE l.customer_id = @customer AND (l.kind = 'grant' OR l.grant_id IS NOT NULL)", ("customer", customerId));

    public BillingCreditGrant AddCredit(CreditGrantRequest request) => InWriteTransaction(session =>
    {
        LockCustomer(session, request.CustomerId);
        if (FindCustomer(session, request.CustomerId, includeRemoved: false) is null)
            throw CustomerNotFound(request.CustomerId);
        var id = AppendLedger(session, new LedgerRow(0, request.CustomerId, LedgerEntryKind.Grant, request.Currency, request.Amount, request.RecordedAt, request.RecordedAt, request.RecordedBy)
        {
            ExpiresAt = request.ExpiresAt, Priority = request.Priority, Reason = request.Description,
        });
        return Settlement.Grants(GrantRows(session, request.CustomerId), request.RecordedAt).Single(g => g.GrantId == id);
    });

    public BillingCreditGrant RemoveCredit(long grantId, string? reason, string recordedBy, DateTimeOffset at) => InWriteTransaction(session =>
    {
        var customer = session.Query("SELECT customer_id FROM billing_ledger WHERE entry_id = @grant AND kind = 'grant'", r => r.Text(0), ("grant", grantId)).SingleOrDefault();
        if (customer is not null)
            LockCustomer(session, customer);
        var grant = customer is null ? null : Settlement.Grants(GrantRows(session, customer), at).SingleOrDefault(g => g.GrantId == grantId);
        var rest = Settlement.CheckRemovable(grant, grantId);
        AppendLedger(session, new LedgerRow(0, grant!.CustomerId, LedgerEntryKind.GrantRemoved, grant.Currency, rest, at, at, recordedBy)
        {
            GrantId = grantId, Reason = reason,
        });
        return Settlement.Grants(GrantRows(session, grant.CustomerId), at).Single(g => g.GrantId == grantId);
    });
}
