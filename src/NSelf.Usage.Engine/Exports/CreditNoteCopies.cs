using System.Globalization;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// The customer's copy of a credit note: the invoice's own seller, buyer, language and layout, with
/// the credit note's number, the invoice it corrects, the lines taken back (as negative amounts),
/// the tax at the invoice's rate, the reason, and where the money went.
/// </summary>
public static class CreditNoteCopies
{
    /// <summary>The copy of a credit note of the store, dates in the customer's time zone.</summary>
    public static CustomerCopy Of(Accounts.Subscriptions book, BillingCreditNote note, TimeZoneInfo defaultZone, InvoicePaperSize? paper = null)
    {
        var invoice = book.Store.GetInvoice(note.InvoiceId) ?? throw Billing.InvoiceRules.NotFound(note.InvoiceId);
        return Build(note, invoice, book.Store.GetProfile(), book.TermsOver(invoice.CustomerId, invoice.PeriodStart, invoice.PeriodEnd, defaultZone).Zone, paper);
    }

    public static CustomerCopy Build(BillingCreditNote note, BillingInvoice invoice, BillingProfile? profile, TimeZoneInfo zone, InvoicePaperSize? paper = null)
    {
        var of = InvoiceCopies.Build(invoice, profile, zone, paper);
        var culture = InvoiceCopies.Culture(invoice, profile);
        var words = InvoiceWords.For(culture);
        var money = new MoneyText(note.Currency, culture);
        string Date(DateTimeOffset at) => TimeZoneInfo.ConvertTime(at, zone).ToString("d", culture);
        string Text(string format, params object[] values) => string.Format(CultureInfo.InvariantCulture, format, values);

        var notes = new List<string> { Text(words.CreditNoteReason, note.Reason) };
        if (words.TaxNote(invoice.TaxTreatment, invoice.TaxName) is { } taxNote)
            notes.Add(taxNote);
        if (note.AppliedToInvoice > 0)
            notes.Add(Text(words.AppliedToInvoice, invoice.InvoiceNumber ?? invoice.InvoiceId, money.Amount(note.AppliedToInvoice)));
        if (note.CreditedToBalance > 0)
            notes.Add(Text(words.CreditedToBalance, money.Amount(note.CreditedToBalance)));

        return of with
        {
            Title = words.CreditNoteTitle,
            Number = note.CreditNoteNumber,
            Timestamp = note.IssuedAt,
            IsDraft = false,
            Meta =
            [
                new CopyField(words.CreditNoteNumber, note.CreditNoteNumber),
                new CopyField(words.IssueDate, Date(note.IssuedAt)),
                new CopyField(words.Title, Text(words.CorrectsInvoice, invoice.InvoiceNumber ?? invoice.InvoiceId, Date(invoice.FinalizedAt ?? invoice.CreatedAt))),
                new CopyField(words.ServicePeriod, InvoiceCopies.Period(invoice.PeriodStart, invoice.PeriodEnd, zone, culture)),
                new CopyField(words.CustomerNumber, invoice.CustomerId),
            ],
            // Described in the reader's words: the invoice line credited, or the invoice as a whole.
            Lines = note.Lines.Select(l => new CopyLine(
                invoice.Lines.FirstOrDefault(x => x.LineNumber == l.InvoiceLineNumber) is { } credited
                    ? InvoiceCopies.Describe(credited, words, culture, zone)
                    : Text(words.CreditOfInvoice, invoice.InvoiceNumber ?? invoice.InvoiceId),
                l.Quantity is { } q ? InvoiceCopies.Quantity(q, culture) + (l.Unit is { Length: > 0 } unit ? " " + unit : "") : "",
                l.UnitPrice is { } price ? money.Price(price) : "",
                money.Amount(-l.Amount))).ToList(),
            Totals =
            [
                new CopyTotal(words.Net, money.Amount(-note.Subtotal)),
                new CopyTotal($"{invoice.TaxName} {InvoiceCopies.Percent(note.TaxRate, culture)}", money.Amount(-note.Tax)),
                new CopyTotal(words.CreditTotal, money.Amount(-note.Total), Emphasis: true),
            ],
            TaxNotes = notes,
            // Nothing is to be paid on a credit note.
            PaymentInstructions = [],
        };
    }
}
