using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// Credit notes: worked out (<see cref="CreditNotes"/>), numbered and entered in the ledger in one
/// transaction holding the customer's lock, so two credit notes of one invoice never both take back
/// the same amount and the series has no gap.
/// </summary>
public abstract partial class SqlStore
{
    private const string CreditNoteColumns = "c.credit_note_id, c.credit_note_number, c.invoice_id, i.invoice_number, c.customer_id, c.currency, c.subtotal, c.tax_rate, c.tax, c.total, "
        + "c.applied_to_invoice, c.credited_to_balance, c.reason, c.issued_at, c.issued_by";

    private List<BillingCreditNote> ReadCreditNotes(SqlSession session, string where, params (string Name, object? Value)[] parameters)
    {
        var notes = session.Query($"SELECT {CreditNoteColumns} FROM billing_credit_notes c LEFT JOIN billing_invoices i ON i.invoice_id = c.invoice_id {where} ORDER BY c.issued_at, c.credit_note_number",
            r => new BillingCreditNote
            {
                CreditNoteId = r.Text(0), CreditNoteNumber = r.Text(1), InvoiceId = r.Text(2), InvoiceNumber = r.TextOrNull(3), CustomerId = r.Text(4),
                Currency = r.Text(5), Subtotal = r.Money(6), TaxRate = r.Money(7), Tax = r.Money(8), Total = r.Money(9),
                AppliedToInvoice = r.Money(10), CreditedToBalance = r.Money(11), Reason = r.Text(12), IssuedAt = r.Time(13), IssuedBy = r.Text(14),
                Lines = Array.Empty<BillingCreditNoteLine>(),
            }, parameters);
        return notes.Select(n => Settlement.InCurrency(n, session.Query(
            "SELECT line_number, invoice_line_number, description, quantity, unit, unit_price, amount FROM billing_credit_note_lines WHERE credit_note_id = @note ORDER BY line_number",
            r => new BillingCreditNoteLine
            {
                LineNumber = r.Int(0), InvoiceLineNumber = r.IsNull(1) ? null : r.Int(1), Description = r.Text(2), Quantity = r.MoneyOrNull(3),
                Unit = r.TextOrNull(4), UnitPrice = r.MoneyOrNull(5), Amount = r.Money(6),
            }, ("note", n.CreditNoteId)))).ToList();
    }

    public IReadOnlyList<BillingCreditNote> GetCreditNotes(string? customerId, string? invoiceId) => InReadSession(session =>
    {
        var conditions = new List<string>();
        var parameters = new List<(string Name, object? Value)>();
        if (customerId is not null)
        {
            conditions.Add("c.customer_id = @customer");
            parameters.Add(("customer", customerId));
        }
        if (invoiceId is not null)
        {
            conditions.Add("(c.invoice_id = @invoice OR i.invoice_number = @invoice)");
            parameters.Add(("invoice", invoiceId));
        }
        return ReadCreditNotes(session, conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions), [.. parameters]);
    });

    public BillingCreditNote? GetCreditNote(string idOrNumber) => InReadSession(session =>
        ReadCreditNotes(session, "WHERE c.credit_note_id = @note OR c.credit_note_number = @note", ("note", idOrNumber)).FirstOrDefault());

    public BillingCreditNote IssueCreditNote(CreditNoteRequest request) => InWriteTransaction(session =>
    {
        var invoice = LockedInvoice(session, request.InvoiceId);
        var earlier = ReadCreditNotes(session, "WHERE c.invoice_id = @invoice", ("invoice", invoice.InvoiceId));
        // The number is taken in this transaction: a refusal below rolls it back, so the series keeps no gap.
        var prefix = FindProfile(session)?.InvoicePrefix ?? InvoiceNumbering.DefaultPrefix;
        var note = CreditNotes.Work(invoice, earlier, request, CreditNotes.Number(prefix, NextInSeries(session, CreditNotes.Series(prefix))));
        session.Execute("""
            INSERT INTO billing_credit_notes (credit_note_id, credit_note_number, invoice_id, customer_id, currency, subtotal, tax_rate, tax, total,
                applied_to_invoice, credited_to_balance, reason, issued_at, issued_by)
            VALUES (@id, @number, @invoice, @customer, @currency, @subtotal, @rate, @tax, @total, @applied, @credited, @reason, @issued, @by)
            """, ("id", note.CreditNoteId), ("number", note.CreditNoteNumber), ("invoice", note.InvoiceId), ("customer", note.CustomerId), ("currency", note.Currency),
            ("subtotal", new MoneyValue(note.Subtotal)), ("rate", new MoneyValue(note.TaxRate)), ("tax", new MoneyValue(note.Tax)), ("total", new MoneyValue(note.Total)),
            ("applied", new MoneyValue(note.AppliedToInvoice)), ("credited", new MoneyValue(note.CreditedToBalance)), ("reason", note.Reason),
            ("issued", note.IssuedAt), ("by", note.IssuedBy));
        foreach (var line in note.Lines)
            session.Execute("""
                INSERT INTO billing_credit_note_lines (credit_note_id, line_number, customer_id, invoice_line_number, description, quantity, unit, unit_price, amount)
                VALUES (@id, @line, @customer, @invoiceLine, @description, @quantity, @unit, @price, @amount)
                """, ("id", note.CreditNoteId), ("line", line.LineNumber), ("customer", note.CustomerId), ("invoiceLine", line.InvoiceLineNumber),
                ("description", line.Description), ("quantity", line.Quantity is { } q ? new MoneyValue(q) : null), ("unit", line.Unit),
                ("price", line.UnitPrice is { } p ? new MoneyValue(p) : null), ("amount", new MoneyValue(line.Amount)));
        // What the invoice still owed is owed less; the rest is the customer's credit, in the
        // invoice's currency, without expiry.
        if (note.AppliedToInvoice > 0)
            AppendLedger(session, new LedgerRow(0, note.CustomerId, LedgerEntryKind.CreditNote, note.Currency, note.AppliedToInvoice, note.IssuedAt, note.IssuedAt, note.IssuedBy)
            {
                InvoiceId = note.InvoiceId, CreditNoteId = note.CreditNoteId, Reason = note.Reason,
            });
        if (note.CreditedToBalance > 0)
            AppendLedger(session, new LedgerRow(0, note.CustomerId, LedgerEntryKind.Grant, note.Currency, note.CreditedToBalance, note.IssuedAt, note.IssuedAt, note.IssuedBy)
            {
                CreditNoteId = note.CreditNoteId, Priority = Settlement.DefaultPriority, Reason = $"Credit note {note.CreditNoteNumber}: {note.Reason}",
            });
        if (note.AppliedToInvoice > 0 && note.AppliedToInvoice == invoice.AmountDue)
            MarkPaid(session, invoice.InvoiceId, note.IssuedAt);
        return ReadCreditNotes(session, "WHERE c.credit_note_id = @id", ("id", note.CreditNoteId)).Single();
    });
}
