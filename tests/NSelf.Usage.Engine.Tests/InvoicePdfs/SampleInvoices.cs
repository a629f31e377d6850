using NSelf.Usage.Engine.Exports;
using System.Globalization;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>
/// The three invoices of the prototype: (a) German with a logo, (b) French with fr-FR numbers
/// (U+202F group separators, U+00A0 before €), (c) a 120-line English draft on Letter paper.
/// Numbers are formatted here, as the engine's caller would, with the buyer's culture.
/// </summary>
public static class SampleInvoices
{
    public static readonly DateTimeOffset Issued = new(2026, 12, 5, 9, 30, 0, TimeSpan.FromHours(1));

    private static string Money(decimal amount, CultureInfo culture) => amount.ToString("C2", culture);
    private static string Number(decimal value, CultureInfo culture, int digits = 0) => value.ToString("N" + digits, culture);

    public static CustomerCopy German(byte[]? logo = null)
    {
        var de = CultureInfo.GetCultureInfo("de-DE");
        string M(decimal a) => Money(a, de);
        string Rate(decimal a) => a.ToString("N4", de) + "\u00A0€";
        return new CustomerCopy
        {
            Title = "Rechnung",
            Number = "ACME-000042",
            Timestamp = Issued,
            Language = "de-DE",
            PaperSize = InvoicePaperSize.A4,
            Labels = new CopyLabels
            {
                BillTo = "Rechnungsempfänger",
                Description = "Beschreibung",
                Quantity = "Menge",
                UnitPrice = "Einzelpreis",
                Amount = "Betrag",
                PageOfPages = "Seite {0} von {1}",
                Draft = "ENTWURF",
                Continued = "Fortsetzung",
            },
            Seller = new CopySeller
            {
                LegalName = "ACME Datendienste GmbH",
                AddressLines = ["Königstraße 12", "70173 Stuttgart"],
                Country = "Deutschland",
                TaxId = "USt-IdNr.: DE123456789",
                Email = "rechnung@acme.example",
                Website = "www.acme.example",
                Logo = logo ?? TestImages.Logo(),
            },
            Buyer = new CopyBuyer
            {
                Name = "Müller & Söhne Straßenbau KG",
                Contact = "z. Hd. Frau Jürgens",
                AddressLines = ["Große Bleichen 5", "20354 Hamburg"],
                Country = "Deutschland",
                TaxId = "USt-IdNr.: DE987654321",
                Email = "buchhaltung@mueller-strassenbau.example",
            },
            Meta =
            [
                new("Rechnungsnummer", "ACME-000042"),
                new("Rechnungsdatum", "05.12.2026"),
                new("Fällig am", "19.12.2026"),
                new("Leistungszeitraum", "01.11.2026 – 30.11.2026"),
                new("Kundennummer", "K-1007"),
            ],
            Lines =
            [
                new("API-Aufrufe (Stufentarif), Produktionsumgebung «eu-central»", Number(125_000m, de), "", M(1_100m))
                {
                    SubRows =
                    [
                        new("0 – 10.000 × " + Rate(0m), Number(10_000m, de), Rate(0m), M(0m)),
                        new("10.001 – 100.000 × " + Rate(0.01m), Number(90_000m, de), Rate(0.01m), M(900m)),
                        new("ab 100.001 × " + Rate(0.008m), Number(25_000m, de), Rate(0.008m), M(200m)),
                    ],
                },
                new("Speicher (GB-Monate), Größenklasse „Standard“", Number(1234.5m, de, 1), Rate(0.023m), M(28.39m)),
                new("Support-Paket Premium – monatliche Pauschale inkl. Rufbereitschaft außerhalb der Geschäftszeiten und vierteljährlicher Überprüfung der Sicherheitskonfiguration",
                    "1", M(499m), M(499m)),
            ],
            Totals =
            [
                new("Nettobetrag", M(1_627.39m)),
                new("USt. 19 %", M(309.20m)),
                new("Gesamtbetrag", M(1_936.59m), Emphasis: true),
            ],
            TaxNotes = ["Das Leistungsdatum entspricht dem Leistungszeitraum."],
            PaymentInstructions =
            [
                "Zahlbar ohne Abzug bis 19.12.2026.",
                "IBAN: DE89 3704 0044 0532 0130 00 · BIC: COBADEFFXXX · Verwendungszweck: ACME-000042",
            ],
            Footer = "ACME Datendienste GmbH · Sitz: Stuttgart · Amtsgericht Stuttgart HRB 123456 · Geschäftsführer: Jörg Weiß, Anaïs Dupré",
        };
    }

    public static CustomerCopy French()
    {
        var fr = CultureInfo.GetCultureInfo("fr-FR");
        string M(decimal a) => Money(a, fr);
        return new CustomerCopy
        {
            Title = "Facture",
            Number = "NC-2026-0117",
            Timestamp = Issued,
            Language = "fr-FR",
            Labels = new CopyLabels
            {
                BillTo = "Facturé à",
                Description = "Désignation",
                Quantity = "Quantité",
                UnitPrice = "Prix unitaire",
                Amount = "Montant HT",
                PageOfPages = "Page {0} sur {1}",
                Draft = "BROUILLON",
                Continued = "suite",
            },
            Seller = new CopySeller
            {
                LegalName = "Nuages & Cie SAS",
                AddressLines = ["12, rue de l’Église", "69002 Lyon"],
                Country = "France",
                TaxId = "N° TVA\u00A0: FR12345678901",
                Email = "facturation@nuages.example",
            },
            Buyer = new CopyBuyer
            {
                Name = "Bäckerei Groß GmbH",
                AddressLines = ["Marktstraße 3", "80331 München"],
                Country = "Allemagne",
                TaxId = "N° TVA\u00A0: DE811234567",
            },
            Meta =
            [
                new("Numéro de facture", "NC-2026-0117"),
                new("Date d’émission", "05/12/2026"),
                new("Échéance", "04/01/2027"),
                new("Période", "du 01/11/2026 au 30/11/2026"),
            ],
            Lines =
            [
                new("Hébergement « Premium » – région « Paris », instances réservées", Number(2_160m, fr) + "\u00A0h", M(4.125m), M(8_910m)),
                new("Stockage objet (Go-mois)", Number(12_345.5m, fr, 1), M(0.02m), M(246.91m)),
                new("Requêtes API", Number(1_234_567m, fr), "", M(1_200.00m))
                {
                    SubRows =
                    [
                        new("0 – 1\u202F000\u202F000", Number(1_000_000m, fr), M(0m), M(0m)),
                        new("au-delà de 1\u202F000\u202F000", Number(234_567m, fr), "0,005\u00A0€", M(1_172.84m)),
                        new("forfait de service", "", "", M(27.16m)),
                    ],
                },
            ],
            Totals =
            [
                new("Total HT", M(10_356.91m)),
                new("TVA 0\u00A0% (autoliquidation)", M(0m)),
                new("Total TTC", M(10_356.91m), Emphasis: true),
            ],
            TaxNotes =
            [
                "Autoliquidation : TVA due par le preneur (art. 196 de la directive 2006/112/CE). Reverse charge: VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC).",
            ],
            PaymentInstructions =
            [
                "Paiement à 30 jours par virement.",
                "IBAN : FR76 3000 6000 0112 3456 7890 189 — BIC : AGRIFRPPXXX",
                "Pénalités de retard : trois fois le taux d’intérêt légal ; indemnité forfaitaire pour frais de recouvrement : 40\u00A0€.",
            ],
            Footer = "Nuages & Cie SAS au capital de 50\u202F000\u00A0€ · RCS Lyon 123 456 789 · Siège : 12, rue de l’Église, 69002 Lyon",
        };
    }

    /// <summary>120 lines, every fifth with tiers, some long descriptions and one unbroken identifier.</summary>
    public static CustomerCopy LongDraft(int lineCount = 120)
    {
        var us = CultureInfo.GetCultureInfo("en-US");
        string M(decimal a) => Money(a, us);
        var lines = new List<CopyLine>();
        var net = 0m;
        for (var i = 1; i <= lineCount; i++)
        {
            var quantity = 10m * i + 7;
            var price = 0.25m + i % 7 * 0.5m;
            var amount = quantity * price;
            var description = (i % 10) switch
            {
                3 => $"Metered compute for project #{i}, including burst capacity, scheduled snapshots, cross-region replication and the monthly platform fee for dedicated support engineers",
                7 => $"Environment prod-eu-{i}: resource-group/subscription-0f3a9c27-5be1-4c7e-9d0a-1b2c3d4e5f60-workspace-analytics-ingest",
                _ => $"Service line {i}: API requests",
            };
            var tiered = i % 5 == 0; // the first 20 units free
            if (tiered)
                amount = (quantity - 20) * price;
            net += amount;
            var line = new CopyLine(description, Number(quantity, us), tiered ? "" : M(price), M(amount));
            if (tiered)
            {
                line = line with
                {
                    SubRows =
                    [
                        new("0 – 20", "20", "$0.00", "$0.00"),
                        new($"21 – {Number(quantity, us)}", Number(quantity - 20, us), M(price), M(amount)),
                    ],
                };
            }
            lines.Add(line);
        }
        var tax = Math.Round(net * 0.0725m, 2);
        return new CustomerCopy
        {
            Title = "Invoice",
            Number = null,
            IsDraft = true,
            Timestamp = Issued,
            Language = "en-US",
            PaperSize = InvoicePaperSize.Letter,
            Labels = new CopyLabels(),
            Seller = new CopySeller
            {
                LegalName = "Acme Metering, Inc.",
                AddressLines = ["500 Market Street, Suite 1200", "San Francisco, CA 94105"],
                Country = "United States",
                TaxId = "EIN: 12-3456789",
                Email = "billing@acme.example",
                Website = "https://acme.example",
            },
            Buyer = new CopyBuyer
            {
                Name = "Globex Corporation",
                Contact = "Accounts Payable",
                AddressLines = ["1 Globex Way", "Springfield, OR 97477"],
                Country = "United States",
                Email = "ap@globex.example",
            },
            Meta =
            [
                new("Invoice number", "(draft)"),
                new("Issue date", "Dec 5, 2026"),
                new("Due date", "Jan 4, 2027"),
                new("Service period", "Nov 1 – Nov 30, 2026"),
            ],
            Lines = lines,
            Totals =
            [
                new("Subtotal", M(net)),
                new("Sales tax 7.25%", M(tax)),
                new("Total due", M(net + tax), Emphasis: true),
            ],
            TaxNotes = ["Sales tax is charged for deliveries to California and Oregon addresses only."],
            PaymentInstructions = ["Pay by ACH to Acme Metering, Inc., routing 121000358, account 1234567890.", "Questions: billing@acme.example"],
            Footer = "Acme Metering, Inc. · 500 Market Street, Suite 1200, San Francisco, CA 94105",
        };
    }
}
