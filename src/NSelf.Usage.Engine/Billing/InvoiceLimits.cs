using System.Globalization;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// The largest amounts an invoice can hold. nself's billing_invoices keeps subtotal, tax and
/// total as numeric(10,2) and the lines' amounts as numeric(14,4); the upgrade keeps nself's
/// columns as they are, because nself's tools read them. The rule is checked before any store is
/// asked, so SQLite (which would store anything) and PostgreSQL (which would fail the write)
/// refuse alike, with an error that says why.
/// </summary>
public static class InvoiceLimits
{
    /// <summary>The largest subtotal, tax or total: numeric(10,2).</summary>
    public const decimal MaximumAmount = 99_999_999.99m;

    /// <summary>The largest amount of one line: numeric(14,4).</summary>
    public const decimal MaximumLineAmount = 9_999_999_999.9999m;

    /// <summary>Refuses an invoice with an amount beyond its column (<see cref="ErrorIds.InvoiceTooLarge"/>); the invoice is the error's target.</summary>
    public static void Check(BillingInvoice invoice)
    {
        foreach (var (what, amount) in new[] { ("subtotal", invoice.Subtotal), ("tax", invoice.Tax), ("total", invoice.Total) })
            if (Math.Abs(amount) > MaximumAmount)
                throw TooLarge(invoice, $"its {what} would be {Format(amount, invoice.Currency)}", MaximumAmount);
        foreach (var line in invoice.Lines)
            if (Math.Abs(line.Amount) > MaximumLineAmount)
                throw TooLarge(invoice, $"its line {line.LineNumber} ({line.Description}) would be {Format(line.Amount, invoice.Currency)}", MaximumLineAmount);
    }

    private static UsageException TooLarge(BillingInvoice invoice, string what, decimal limit) =>
        new(ErrorIds.InvoiceTooLarge, UsageErrorKind.InvalidData,
            string.Create(CultureInfo.InvariantCulture, $"The invoice of customer '{invoice.CustomerId}' for {invoice.PeriodStart:yyyy-MM-dd HH:mm} to {invoice.PeriodEnd:yyyy-MM-dd HH:mm} UTC cannot be stored: ")
            + $"{what}, beyond the largest amount an invoice holds ({limit.ToString("#,0.####", CultureInfo.InvariantCulture)}, nself's billing columns). Nothing was saved. "
            + "Check the period's usage and prices for a quantity or price that is orders of magnitude off, or invoice the period in parts with -Start and -End.",
            invoice);

    private static string Format(decimal amount, string currency) =>
        amount.ToString("#,0." + new string('0', Money.MinorUnitDigits(currency)), CultureInfo.InvariantCulture).TrimEnd('.') + " " + currency;
}
