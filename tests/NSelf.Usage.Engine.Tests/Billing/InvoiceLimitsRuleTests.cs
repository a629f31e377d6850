using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 24: the largest amounts nself's billing columns hold (numeric(10,2) for subtotal, tax and
/// total; numeric(14,4) for a line), held exactly at their edges, and the refusal naming the amount
/// that does not fit. No store: the rule is checked before any store is asked.
/// </summary>
public sealed class InvoiceLimitsRuleTests
{
    private static BillingInvoiceLine Line(int number, decimal amount, string description = "api: 1 requests") => new()
    {
        LineNumber = number, Kind = InvoiceLineKind.Usage, Service = "api", Description = description,
        Quantity = 1, Included = 0, Billable = 1, Amount = amount,
        PeriodStart = Clock.Utc(2026, 11, 1), PeriodEnd = Clock.Utc(2026, 12, 1),
    };

    private static BillingInvoice Invoice(decimal subtotal, decimal tax, decimal total, string currency = "USD", params BillingInvoiceLine[] lines) => new()
    {
        InvoiceId = "INV-20261101-0000000000", CustomerId = "cus_big", PeriodStart = Clock.Utc(2026, 11, 1), PeriodEnd = Clock.Utc(2026, 12, 1, 6, 30),
        Status = InvoiceStatus.Draft, Currency = currency, Subtotal = subtotal, TaxRate = 0, Tax = tax, Total = total,
        Lines = lines, CreatedAt = Clock.Utc(2026, 12, 2),
    };

    private static UsageException Refused(BillingInvoice invoice)
    {
        var error = Assert.Throws<UsageException>(() => InvoiceLimits.Check(invoice));
        Assert.Equal((ErrorIds.InvoiceTooLarge, UsageErrorKind.InvalidData), (error.ErrorId, error.Kind));
        Assert.Same(invoice, error.Target);
        return error;
    }

    [Fact]
    public void InvoiceLimits_AreNselfsColumns_Numeric10_2AndNumeric14_4() =>
        Assert.Equal((99_999_999.99m, 9_999_999_999.9999m), (InvoiceLimits.MaximumAmount, InvoiceLimits.MaximumLineAmount));

    [Fact]
    public void InvoiceLimits_AnAmountExactlyAtEachLimit_IsStored_EitherSign()
    {
        // numeric(10,2) holds +-99,999,999.99 and numeric(14,4) +-9,999,999,999.9999: at the edge is inside.
        // Two lines at the line limit, one of them a credit, cancel out to a subtotal of 0.
        InvoiceLimits.Check(Invoice(99_999_999.99m, 99_999_999.99m, 99_999_999.99m, "USD",
            Line(1, 9_999_999_999.9999m), Line(2, -9_999_999_999.9999m)));
        InvoiceLimits.Check(Invoice(-99_999_999.99m, -99_999_999.99m, -99_999_999.99m));
    }

    [Theory]
    // One cent past the limit, in each of the three columns and with either sign.
    [InlineData(100_000_000.00, 0, 0, "its subtotal would be 100,000,000.00 USD")]
    [InlineData(0, 100_000_000.00, 0, "its tax would be 100,000,000.00 USD")]
    [InlineData(0, 0, 100_000_000.00, "its total would be 100,000,000.00 USD")]
    [InlineData(-100_000_000.00, 0, 0, "its subtotal would be -100,000,000.00 USD")]
    public void InvoiceLimits_ASubtotalTaxOrTotalPastNumeric10_2_IsRefused_NamingWhichAndTheAmount(double subtotal, double tax, double total, string named)
    {
        var error = Refused(Invoice((decimal)subtotal, (decimal)tax, (decimal)total));
        Assert.Contains(named + ", beyond the largest amount an invoice holds (99,999,999.99, nself's billing columns). Nothing was saved.", error.Message, StringComparison.Ordinal);
        // Who and when, in UTC, and what to do about it.
        Assert.StartsWith("The invoice of customer 'cus_big' for 2026-11-01 00:00 to 2026-12-01 06:30 UTC cannot be stored: ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("Check the period's usage and prices for a quantity or price that is orders of magnitude off, or invoice the period in parts with -Start and -End.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvoiceLimits_ALinePastNumeric14_4_IsRefused_NamingTheLine_ThoughTheSubtotalFits()
    {
        // 10,000,000,000 - 9,999,999,999.99 = 0.01: the subtotal fits, line 2 does not (its column holds 9,999,999,999.9999).
        var invoice = Invoice(0.01m, 0, 0.01m, "USD", Line(1, -9_999_999_999.99m), Line(2, 10_000_000_000m, "compute: 200000000000 CPU-hours"));
        var error = Refused(invoice);
        Assert.Contains("its line 2 (compute: 200000000000 CPU-hours) would be 10,000,000,000.00 USD, beyond the largest amount an invoice holds (9,999,999,999.9999, nself's billing columns).",
            error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Amounts in the currency's minor units: none for JPY (no trailing '.'), three for BHD.
    [InlineData("JPY", 100_000_000, "its total would be 100,000,000 JPY,")]
    [InlineData("BHD", 100_000_000.5, "its total would be 100,000,000.500 BHD,")]
    public void InvoiceLimits_TheRefusedAmount_IsShownInTheCurrencysMinorUnits(string currency, double total, string named) =>
        Assert.Contains(named, Refused(Invoice(0, 0, (decimal)total, currency)).Message, StringComparison.Ordinal);
}
