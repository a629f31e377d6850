using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>Issue 19: the copy of a credit note, and the credits an invoice's copy shows, in the reader's words.</summary>
public sealed class CreditNoteCopyTests
{
    private static readonly TimeZoneInfo Berlin = NSelf.Usage.Engine.Time.TimeZones.Find("Europe/Berlin");

    private static BillingInvoice Invoice(string locale) => new()
    {
        InvoiceId = "INV-20261031-ABCDEF0123", InvoiceNumber = "BSP-000042", CustomerId = "cus_x", Plan = "pro",
        PeriodStart = new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), PeriodEnd = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero),
        Status = InvoiceStatus.Open, Currency = "EUR", Subtotal = 100m, TaxRate = 19m, TaxName = "VAT", Tax = 19m, Total = 119m,
        CreatedAt = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero), FinalizedAt = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero),
        Seller = new BillingParty { Name = "Beispiel GmbH", Country = "DE", Locale = "de-DE", PaymentInstructions = "IBAN DE89" },
        Buyer = new BillingParty { Name = "Max Mustermann", Country = "DE", Locale = locale },
        CreditsApplied = 50m,
        Lines =
        [
            new BillingInvoiceLine
            {
                LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "api", Description = "api: 10000 requests", Quantity = 10000m, Included = 0, Billable = 10000m,
                Unit = "requests", UnitPrice = 0.01m, Amount = 100m, PeriodStart = DateTimeOffset.UnixEpoch, PeriodEnd = DateTimeOffset.UnixEpoch,
            },
        ],
    };

    private static BillingCreditNote Note(int? line) => new()
    {
        CreditNoteId = "CN-INV-20261031-ABCDEF0123-1", CreditNoteNumber = "BSP-CN-000001", InvoiceId = "INV-20261031-ABCDEF0123", InvoiceNumber = "BSP-000042",
        CustomerId = "cus_x", Currency = "EUR", Subtotal = 25m, TaxRate = 19m, Tax = 4.75m, Total = 29.75m, AppliedToInvoice = 20m, CreditedToBalance = 9.75m,
        Reason = "Doppelte Anfragen", IssuedAt = new DateTimeOffset(2026, 12, 10, 9, 0, 0, TimeSpan.Zero), IssuedBy = "t@h",
        Lines = [new BillingCreditNoteLine { LineNumber = 1, InvoiceLineNumber = line, Description = "api (credit of 2500 requests)", Quantity = line is null ? null : 2500m, Unit = line is null ? null : "requests", UnitPrice = line is null ? null : 0.01m, Amount = 25m }],
    };

    private static string Spaced(string text) => text.Replace('\u00A0', ' ').Replace('\u202F', ' ');

    [Fact]
    public void German_CreditNote_NamesTheInvoice_TakesTheAmountsBack_AndSaysWhereTheMoneyWent()
    {
        var copy = CreditNoteCopies.Build(Note(1), Invoice("de-DE"), null, Berlin);

        Assert.Equal(("Rechnungskorrektur", "BSP-CN-000001", false), (copy.Title, copy.Number, copy.IsDraft));
        Assert.Equal(new[] { "Korrekturnummer BSP-CN-000001", "Rechnungsdatum 10.12.2026", "Rechnung BSP-000042 vom 05.12.2026", "Leistungszeitraum 01.11.2026 – 30.11.2026", "Kundennummer cus_x" },
            copy.Meta.Select(f => $"{f.Label} {f.Value}"));
        var line = Assert.Single(copy.Lines);
        Assert.Equal(("api: 10.000 requests", "2.500 requests", "0,01 €", "-25,00 €"), (line.Description, line.Quantity, Spaced(line.UnitPrice), Spaced(line.Amount)));
        Assert.Equal(new[] { "Nettobetrag -25,00 €", "VAT 19 % -4,75 €", "Korrekturbetrag -29,75 €" }, copy.Totals.Select(t => Spaced($"{t.Label} {t.Value}")));
        Assert.Equal("Grund: Doppelte Anfragen", copy.TaxNotes[0]);
        Assert.Contains(copy.TaxNotes, n => Spaced(n) == "20,00 € werden mit dem offenen Betrag der Rechnung BSP-000042 verrechnet.");
        Assert.Contains(copy.TaxNotes, n => Spaced(n).StartsWith("9,75 € werden Ihrem Guthaben gutgeschrieben", StringComparison.Ordinal));
        Assert.Empty(copy.PaymentInstructions);
    }

    [Fact]
    public void French_CreditNote_OfTheWholeInvoice_IsAnAvoir_WithTheFrenchColon()
    {
        var copy = CreditNoteCopies.Build(Note(null), Invoice("fr-FR"), null, Berlin);
        Assert.Equal("Avoir", copy.Title);
        Assert.Equal("Avoir sur la facture BSP-000042", copy.Lines[0].Description);
        Assert.Equal("", copy.Lines[0].Quantity);
        Assert.Equal("Motif : Doppelte Anfragen", copy.TaxNotes[0]);
    }

    [Fact]
    public void InvoiceCopy_WithCreditsApplied_ShowsThemAfterTheTotal_AndWhatIsLeftToPay()
    {
        var copy = InvoiceCopies.Build(Invoice("en-US"), null, Berlin);
        Assert.Equal(new[] { "Net amount €100.00", "VAT 19% €19.00", "Total due €119.00", "Credits applied -€50.00", "Amount due €69.00" },
            copy.Totals.Select(t => Spaced($"{t.Label} {t.Value}")));
        Assert.True(copy.Totals[^1].Emphasis);
        Assert.False(copy.Totals[2].Emphasis);
    }
}
