using System.Globalization;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// A credit note to issue: <see cref="Amount"/> (what is credited, tax included) of the invoice or
/// of its line <see cref="Line"/>, or <see cref="Quantity"/> units of line <see cref="Line"/>.
/// </summary>
public sealed record CreditNoteRequest(string InvoiceId, decimal? Amount, int? Line, decimal? Quantity, string Reason, string RecordedBy, DateTimeOffset At);

/// <summary>
/// The rules of credit notes, written once. A credit note takes back part of a finalized invoice at
/// the invoice's own tax rate, and never more than was invoiced: in all, and per line, less what
/// earlier credit notes took back. The store calls them under the customer's lock, over the
/// invoice and its earlier credit notes as it reads them there.
/// </summary>
public static class CreditNotes
{
    /// <summary>A credit note's number: the seller's invoice prefix, CN- and the credit note series' counter (INV-CN-000001).</summary>
    public static string Number(string prefix, long number) => InvoiceNumbering.Format(prefix + "CN-", number);

    /// <summary>The series credit note numbers of a prefix are counted in, apart from its invoices'.</summary>
    public static string Series(string prefix) => InvoiceNumbering.Series("credit_note", prefix);

    /// <summary>A credit note's id: its invoice's, and its place among the invoice's credit notes.</summary>
    public static string Id(string invoiceId, int earlier) => string.Create(CultureInfo.InvariantCulture, $"CN-{invoiceId}-{earlier + 1}");

    /// <summary>
    /// Works out credit note <paramref name="number"/> for <paramref name="invoice"/>, as it stands
    /// after <paramref name="earlier"/> credit notes. Fails with InvoiceNotCreditable for a draft or
    /// void invoice, InvoiceLineNotFound, InvalidAmount, InvalidQuantity, and CreditExceedsInvoice
    /// (the store takes the number in the same transaction: a refusal gives it back).
    /// </summary>
    public static BillingCreditNote Work(BillingInvoice invoice, IReadOnlyList<BillingCreditNote> earlier, CreditNoteRequest request, string number)
    {
        if (invoice.Status is InvoiceStatus.Draft or InvoiceStatus.Void)
            throw new UsageException(ErrorIds.InvoiceNotCreditable, UsageErrorKind.InvalidOperation,
                invoice.Status == InvoiceStatus.Draft
                    ? $"Invoice '{invoice.InvoiceId}' is a draft: it was never issued, so there is nothing to credit. Change the draft instead (New-BillingInvoice -Force)."
                    : $"Invoice '{Name(invoice)}' is void: nothing on it is owed, so there is nothing to credit.", invoice.InvoiceId);
        var currency = invoice.Currency;
        var creditedNet = earlier.Sum(c => c.Subtotal);
        var creditedTax = earlier.Sum(c => c.Tax);
        var creditedTotal = earlier.Sum(c => c.Total);
        var line = request.Line is { } n ? invoice.Lines.FirstOrDefault(l => l.LineNumber == n)
            ?? throw new UsageException(ErrorIds.InvoiceLineNotFound, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"Invoice '{Name(invoice)}' has no line {n}; its lines are {string.Join(", ", invoice.Lines.Select(l => l.LineNumber))}."), n) : null;
        var lineCredits = line is null ? [] : earlier.SelectMany(c => c.Lines).Where(l => l.InvoiceLineNumber == line.LineNumber).ToList();

        decimal net;
        decimal? quantity = null;
        if (request.Quantity is { } q)
        {
            // Units of a line: at its unit price, or for a tiered or package line (no one unit
            // price) at its average price; the last units credited take what is left of the line's
            // amount, so a line credited in parts comes back whole to the cent.
            if (line is null)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "A credit of a quantity names the line it credits (-Line).", q);
            quantity = Quantities.Validate(q, q);
            if (quantity <= 0)
                throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument,
                    string.Create(CultureInfo.InvariantCulture, $"The quantity to credit is {q}; it must be more than 0."), q);
            var unitsLeft = line.Billable - lineCredits.Sum(l => l.Quantity ?? 0m);
            if (quantity > unitsLeft)
                throw Exceeds(invoice, string.Create(CultureInfo.InvariantCulture,
                    $"line {line.LineNumber} billed {line.Billable}{Unit(line)} and {unitsLeft} of them are left to credit; {quantity} were asked"));
            var amountLeft = line.Amount - lineCredits.Sum(l => l.Amount);
            net = quantity == unitsLeft ? amountLeft
                : Money.Round(line.UnitPrice is { } price ? quantity.Value * price : line.Amount * quantity.Value / line.Billable, currency);
            net = Math.Min(net, amountLeft);
            // Credit notes of the whole invoice took back net no line names: the invoice's net is the cap too.
            var netLeft = invoice.Subtotal - creditedNet;
            if (net > netLeft)
                throw Exceeds(invoice, string.Create(CultureInfo.InvariantCulture,
                    $"{netLeft} {currency} of its {invoice.Subtotal} {currency} net is left to credit; {net} {currency} net was asked"));
        }
        else
        {
            var gross = Settlement.Amount(request.Amount ?? throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                "Give the amount to credit (-Amount), or the line and the quantity (-Line -Quantity).", null), currency, "The credit");
            var totalLeft = invoice.Total - creditedTotal;
            if (gross > totalLeft)
                throw Exceeds(invoice, string.Create(CultureInfo.InvariantCulture, $"{totalLeft} {currency} of its {invoice.Total} {currency} is left to credit; {gross} {currency} was asked"));
            // The whole rest gives back the rest of the net and of the tax exactly; a part is split
            // at the invoice's rate.
            net = gross == totalLeft ? invoice.Subtotal - creditedNet : Money.Round(gross * 100m / (100m + invoice.TaxRate), currency);
            if (line is not null)
            {
                var amountLeft = line.Amount - lineCredits.Sum(l => l.Amount);
                if (net > amountLeft)
                    throw Exceeds(invoice, string.Create(CultureInfo.InvariantCulture,
                        $"line {line.LineNumber} billed {line.Amount} {currency} net and {amountLeft} {currency} of it is left to credit; {net} {currency} net was asked"));
            }
            var fixedTax = gross - net;
            return Note(invoice, earlier, request, number, line, net, fixedTax, quantity);
        }
        // The tax of a credit of units: at the invoice's rate; the credit note that takes back
        // the last of the net takes back the last of the tax.
        var tax = creditedNet + net == invoice.Subtotal ? invoice.Tax - creditedTax
            : Math.Min(TaxPlaces.Tax(net, invoice.TaxRate, currency), invoice.Tax - creditedTax);
        return Note(invoice, earlier, request, number, line, net, tax, quantity);
    }

    private static BillingCreditNote Note(BillingInvoice invoice, IReadOnlyList<BillingCreditNote> earlier, CreditNoteRequest request, string number,
        BillingInvoiceLine? line, decimal net, decimal tax, decimal? quantity)
    {
        var currency = invoice.Currency;
        var total = net + tax;
        if (total <= 0)
            throw Exceeds(invoice, "nothing of it is left to credit");
        var description = line is null
            ? $"Credit of invoice {Name(invoice)}"
            : line.Description + (quantity is { } units ? string.Create(CultureInfo.InvariantCulture, $" (credit of {Quantities.Format(units)}{Unit(line)})") : " (credit)");
        var onInvoice = Math.Min(total, invoice.AmountDue);
        return new BillingCreditNote
        {
            CreditNoteId = Id(invoice.InvoiceId, earlier.Count),
            CreditNoteNumber = number,
            InvoiceId = invoice.InvoiceId,
            InvoiceNumber = invoice.InvoiceNumber,
            CustomerId = invoice.CustomerId,
            Currency = currency,
            Subtotal = Money.Round(net, currency),
            TaxRate = invoice.TaxRate,
            Tax = Money.Round(tax, currency),
            Total = Money.Round(total, currency),
            AppliedToInvoice = Money.Round(onInvoice, currency),
            CreditedToBalance = Money.Round(total - onInvoice, currency),
            Reason = request.Reason,
            Lines =
            [
                new BillingCreditNoteLine
                {
                    LineNumber = 1, InvoiceLineNumber = line?.LineNumber, Description = description, Quantity = quantity,
                    Unit = quantity is null ? null : line?.Unit, UnitPrice = quantity is null ? null : line?.UnitPrice, Amount = Money.Round(net, currency),
                },
            ],
            IssuedAt = request.At,
            IssuedBy = request.RecordedBy,
        };
    }

    private static UsageException Exceeds(BillingInvoice invoice, string detail) =>
        new(ErrorIds.CreditExceedsInvoice, UsageErrorKind.InvalidArgument,
            $"A credit note never takes back more than was invoiced: on invoice '{Name(invoice)}', {detail}. Nothing was issued.", invoice.InvoiceId);

    private static string Name(BillingInvoice invoice) => invoice.InvoiceNumber ?? invoice.InvoiceId;

    private static string Unit(BillingInvoiceLine line) => line.Unit is { Length: > 0 } unit ? " " + unit : "";
}
