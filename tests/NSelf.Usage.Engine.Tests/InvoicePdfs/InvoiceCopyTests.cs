using System.Globalization;
using System.Text.Json;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>Issue 18 item 5: the customer's copy, worded and formatted for the buyer, with nothing internal on it.</summary>
public sealed class InvoiceCopyTests
{
    private static readonly TimeZoneInfo Berlin = NSelf.Usage.Engine.Time.TimeZones.Find("Europe/Berlin");

    private static BillingInvoice Invoice(string locale, TaxTreatment treatment = TaxTreatment.Standard, string currency = "EUR", InvoiceStatus status = InvoiceStatus.Open) => new()
    {
        InvoiceId = "INV-20261031-ABCDEF0123", InvoiceNumber = status == InvoiceStatus.Draft ? null : "BSP-000042", CustomerId = "cus_x", Plan = "pro",
        // November in Berlin: midnight to midnight, local.
        PeriodStart = new DateTimeOffset(2026, 10, 31, 23, 0, 0, TimeSpan.Zero), PeriodEnd = new DateTimeOffset(2026, 11, 30, 23, 0, 0, TimeSpan.Zero),
        Status = status, Currency = currency, Subtotal = 1234.56m, TaxRate = treatment == TaxTreatment.Standard ? 19m : 0m, TaxName = "VAT",
        TaxTreatment = treatment, Tax = treatment == TaxTreatment.Standard ? 234.57m : 0m, Total = treatment == TaxTreatment.Standard ? 1469.13m : 1234.56m,
        CreatedAt = new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero), FinalizedAt = status == InvoiceStatus.Draft ? null : new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero),
        DueDate = status == InvoiceStatus.Draft ? null : new DateTimeOffset(2027, 1, 4, 9, 0, 0, TimeSpan.Zero),
        Seller = new BillingParty { Name = "Beispiel GmbH", Address = "Musterstraße 1\n10115 Berlin", Country = "DE", TaxId = "DE123456789", PaymentInstructions = "IBAN DE89 3704 0044 0532 0130 00", Locale = "de-DE" },
        Buyer = new BillingParty { Name = "Exemple SARL", Attention = "Marie Dupont", Address = "1 rue de la Paix\n75002 Paris", Country = "FR", TaxId = "FR40303265045", Locale = locale },
        Lines =
        [
            new BillingInvoiceLine
            {
                LineNumber = 1, Kind = InvoiceLineKind.Usage, Service = "api", Description = "api: 123456 requests", Quantity = 123456m, Included = 10000m, Billable = 113456m,
                Unit = "requests", UnitPrice = 0.0013m, Amount = 147.49m, PeriodStart = DateTimeOffset.UnixEpoch, PeriodEnd = DateTimeOffset.UnixEpoch,
                Events = 17, EventsHash = new string('a', 64),
            },
            new BillingInvoiceLine
            {
                LineNumber = 2, Kind = InvoiceLineKind.Usage, Service = "storage", Description = "storage", Quantity = 150m, Included = 0, Billable = 150m, Unit = "GB",
                Amount = 1087.07m, PeriodStart = DateTimeOffset.UnixEpoch, PeriodEnd = DateTimeOffset.UnixEpoch, EventsHash = new string('b', 64),
                Tiers = [new InvoiceTierAmount { UpTo = 100m, Quantity = 100m, UnitPrice = 5m, FlatFee = 0, Amount = 500m },
                         new InvoiceTierAmount { UpTo = null, Quantity = 50m, UnitPrice = 11.7414m, FlatFee = 0, Amount = 587.07m }],
            },
        ],
    };

    [Fact]
    public void German_IsWordedAndFormattedAsAGermanReaderWritesIt()
    {
        var copy = InvoiceCopies.Build(Invoice("de-DE"), null, Berlin);
        Assert.Equal(("Rechnung", "BSP-000042", InvoicePaperSize.A4, false), (copy.Title, copy.Number, copy.PaperSize, copy.IsDraft));
        Assert.Equal(new[] { "Rechnungsnummer BSP-000042", "Rechnungsdatum 05.12.2026", "Fällig am 04.01.2027", "Leistungszeitraum 01.11.2026 – 30.11.2026", "Kundennummer cus_x" },
            copy.Meta.Select(f => $"{f.Label} {f.Value}"));
        Assert.Equal(new[] { "Nettobetrag 1.234,56 €", "VAT 19 % 234,57 €", "Gesamtbetrag 1.469,13 €" }, copy.Totals.Select(t => Spaced($"{t.Label} {t.Value}")));
        // An amount never breaks across lines: its spaces are no-break ones.
        Assert.All(copy.Totals, t => Assert.DoesNotContain(' ', t.Value));
        Assert.True(copy.Totals[^1].Emphasis);
        var api = copy.Lines[0];
        Assert.Equal(("api: 123.456 requests; 10.000 inklusive", "113.456 requests", "0,0013 €", "147,49 €"), (api.Description, api.Quantity, Spaced(api.UnitPrice), Spaced(api.Amount)));
        Assert.Equal(("Exemple SARL", "z. Hd. Marie Dupont", "France", "USt-IdNr.: FR40303265045"), (copy.Buyer.Name, copy.Buyer.Contact, copy.Buyer.Country, copy.Buyer.TaxId));
        Assert.Equal(("Beispiel GmbH", "Deutschland", "USt-IdNr.: DE123456789"), (copy.Seller.LegalName, copy.Seller.Country, copy.Seller.TaxId));
        Assert.Equal(new[] { "IBAN DE89 3704 0044 0532 0130 00" }, copy.PaymentInstructions);
        Assert.Empty(copy.TaxNotes);
    }

    [Fact]
    public void French_ReverseCharged_SaysSoInFrench_WithFrenchNumbers()
    {
        var copy = InvoiceCopies.Build(Invoice("fr-FR", TaxTreatment.ReverseCharge), null, Berlin);
        Assert.Equal("Facture", copy.Title);
        Assert.Equal("Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE).", Assert.Single(copy.TaxNotes));
        Assert.Equal("VAT 0 %", Spaced(copy.Totals[1].Label));
        // fr-FR groups with a narrow no-break space: an amount never breaks across lines.
        Assert.DoesNotContain(' ', copy.Totals[0].Value);
        Assert.Equal("1234,56€", copy.Totals[0].Value.Replace("\u202F", "").Replace("\u00A0", ""));
        Assert.Equal("Période de service 01/11/2026 – 30/11/2026", $"{copy.Meta[3].Label} {copy.Meta[3].Value}");
    }

    [Theory]
    [InlineData("en-US", "USD", "$1,469.13", "12/5/2026", InvoicePaperSize.Letter)]
    [InlineData("en-GB", "GBP", "£1,469.13", "05/12/2026", InvoicePaperSize.A4)]
    [InlineData("en-GB", "CHF", "CHF1,469.13", "05/12/2026", InvoicePaperSize.A4)]
    [InlineData("ja-JP", "JPY", "¥1,469", "2026/12/05", InvoicePaperSize.A4)]
    public void English_AndOtherLanguages_ReadEnglish_InTheirOwnFormats(string locale, string currency, string total, string issued, InvoicePaperSize paper)
    {
        var invoice = Invoice(locale, currency: currency) with { Total = currency == "JPY" ? 1469m : 1469.13m };
        var copy = InvoiceCopies.Build(invoice, null, Berlin);
        Assert.Equal(("Invoice", total, issued, paper), (copy.Title, copy.Totals[^1].Value.Replace('\u00A0', ' ').Replace(" ", ""), copy.Meta[1].Value, copy.PaperSize));
    }

    [Fact]
    public void Locale_IsTheBuyers_ElseTheSellers_ElseTheProfiles_ElseEnUs()
    {
        var invoice = Invoice("fr-FR");
        Assert.Equal("fr-FR", InvoiceCopies.Culture(invoice, null).Name);
        Assert.Equal("de-DE", InvoiceCopies.Culture(invoice with { Buyer = new BillingParty { Name = "Exemple SARL" } }, null).Name);
        var profile = new BillingProfile { InvoicePrefix = "X-", ReverseCharge = false, Locale = "en-GB" };
        Assert.Equal("en-GB", InvoiceCopies.Culture(invoice with { Buyer = null, Seller = null }, profile).Name);
        Assert.Equal("en-US", InvoiceCopies.Culture(invoice with { Buyer = null, Seller = null }, null).Name);
    }

    [Fact]
    public void Tiers_AreRowsFromTheEndOfTheLastTierToTheirOwn()
    {
        var storage = InvoiceCopies.Build(Invoice("en-GB"), null, Berlin).Lines[1];
        Assert.Equal(new[] { "0 – 100|100|€5.00|€500.00", "> 100|50|€11.7414|€587.07" },
            storage.SubRows.Select(r => $"{r.Description}|{r.Quantity}|{r.UnitPrice}|{r.Amount}"));
        Assert.Equal("", storage.UnitPrice);
    }

    [Fact]
    public void Exempt_AndDraft_AreSaidOnTheCopy_AndADraftHasNoNumber()
    {
        var copy = InvoiceCopies.Build(Invoice("en-US", TaxTreatment.Exempt, status: InvoiceStatus.Draft), null, Berlin);
        Assert.Equal((true, (string?)null, "DRAFT"), (copy.IsDraft, copy.Number, copy.Labels.Draft));
        Assert.Equal("Exempt from VAT: the customer is tax exempt.", Assert.Single(copy.TaxNotes));
        Assert.DoesNotContain(copy.Meta, f => f.Label == "Invoice number" || f.Label == "Due date");
        Assert.Equal("BROUILLON", InvoiceCopies.Build(Invoice("fr-FR", status: InvoiceStatus.Draft), null, Berlin).Labels.Draft);
    }

    [Fact]
    public void TheCustomersCopy_HoldsNoAuditData()
    {
        var text = JsonSerializer.Serialize(InvoiceCopies.Build(Invoice("en-US"), null, Berlin));
        Assert.DoesNotContain(new string('a', 64), text, StringComparison.Ordinal);
        Assert.DoesNotContain("INV-20261031", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exclusive", text, StringComparison.OrdinalIgnoreCase);
        var html = InvoiceDocument.Html(InvoiceCopies.Build(Invoice("en-US"), null, Berlin));
        Assert.DoesNotContain(new string('a', 64), html, StringComparison.Ordinal);
        Assert.DoesNotContain("sha256", html, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("2026-11-01T00:00:00+01:00", "2026-12-01T00:00:00+01:00", "01.11.2026 – 30.11.2026")]
    [InlineData("2026-11-01T00:00:00+01:00", "2026-11-16T12:00:00+01:00", "01.11.2026 – 16.11.2026 12:00")]
    [InlineData("2026-11-01T06:30:00+01:00", "2026-11-02T00:00:00+01:00", "01.11.2026 06:30 – 01.11.2026")]
    public void Period_ShowsDays_AndTimesOnlyWhereItDoesNotStartOrEndAtMidnight(string start, string end, string shown) =>
        Assert.Equal(shown, InvoiceCopies.Period(DateTimeOffset.Parse(start, CultureInfo.InvariantCulture), DateTimeOffset.Parse(end, CultureInfo.InvariantCulture), Berlin, CultureInfo.GetCultureInfo("de-DE")));

    [Theory]
    [InlineData("de-DE", "19", "19 %")]
    [InlineData("de-DE", "7.25", "7,25 %")]
    [InlineData("en-US", "8.875", "8.875%")]
    [InlineData("en-US", "0", "0%")]
    public void Percent_KeepsEveryDigitOfTheRate(string locale, string rate, string shown) =>
        Assert.Equal(shown, InvoiceCopies.Percent(decimal.Parse(rate, CultureInfo.InvariantCulture), CultureInfo.GetCultureInfo(locale)).Replace('\u00A0', ' ').Replace('\u202F', ' '));

    [Fact]
    public void Money_ShowsTheMinorUnit_AndPricesEveryDigit()
    {
        var euro = new MoneyText("EUR", CultureInfo.GetCultureInfo("de-DE"));
        Assert.Equal(("29,00 €", "0,0013 €", "0,10 €"), (euro.Amount(29m).Replace('\u00A0', ' '), euro.Price(0.0013m).Replace('\u00A0', ' '), euro.Price(0.1m).Replace('\u00A0', ' ')));
        var dinar = new MoneyText("KWD", CultureInfo.GetCultureInfo("en-US"));
        Assert.Equal("KWD1.500", dinar.Amount(1.5m).Replace('\u00A0', ' ').Replace(" ", ""));
        Assert.Equal("¥1,235", new MoneyText("JPY", CultureInfo.GetCultureInfo("en-US")).Amount(1235m));
    }

    [Fact]
    public void CountryNames_AreAsTheCountryWritesThem_AndUnknownCodesStayCodes()
    {
        Assert.Equal(("Deutschland", "France", "United States"), (InvoiceCopies.CountryName("DE"), InvoiceCopies.CountryName("FR"), InvoiceCopies.CountryName("US")));
        Assert.Null(InvoiceCopies.CountryName(null));
    }

    private static string Spaced(string text) => text.Replace('\u00A0', ' ').Replace('\u202F', ' ');
}
