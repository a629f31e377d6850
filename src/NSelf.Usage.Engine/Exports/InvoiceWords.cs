using System.Globalization;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// The words of the customer's copy in the buyer's language: English, German and French (any
/// other language reads English). The notes of a reverse-charged or exempt invoice say what the
/// law of the seller's tax union expects them to say, in that language.
/// </summary>
public sealed record InvoiceWords
{
    public required string Title { get; init; }
    public required string Number { get; init; }
    public required string IssueDate { get; init; }
    public required string DueDate { get; init; }
    public required string ServicePeriod { get; init; }
    public required string CustomerNumber { get; init; }
    public required string Net { get; init; }
    public required string Gross { get; init; }
    public required string TaxId { get; init; }
    public required string Attention { get; init; }
    public required string Included { get; init; }
    public required string Adjustment { get; init; }
    /// <summary>The prepaid credit taken off the total when the invoice was finalized.</summary>
    public required string CreditsApplied { get; init; }
    /// <summary>What is left to pay after the credits.</summary>
    public required string AmountDue { get; init; }
    /// <summary>The heading of a credit note.</summary>
    public required string CreditNoteTitle { get; init; }
    public required string CreditNoteNumber { get; init; }
    /// <summary>The row naming the invoice a credit note corrects. Composite format: {0} the invoice's number, {1} its date.</summary>
    public required string CorrectsInvoice { get; init; }
    /// <summary>Composite format: {0} the reason.</summary>
    public required string CreditNoteReason { get; init; }
    /// <summary>The line of a credit of the invoice as a whole. Composite format: {0} the invoice's number.</summary>
    public required string CreditOfInvoice { get; init; }
    public required string CreditTotal { get; init; }
    /// <summary>Composite format: {0} the invoice's number, {1} the amount.</summary>
    public required string AppliedToInvoice { get; init; }
    /// <summary>Composite format: {0} the amount.</summary>
    public required string CreditedToBalance { get; init; }
    /// <summary>Composite format: {0} is the tax's name (a language may leave it out).</summary>
    public required string ReverseCharge { get; init; }
    /// <summary>Composite format: {0} is the tax's name.</summary>
    public required string Exempt { get; init; }
    public required CopyLabels Labels { get; init; }
    /// <summary>The e-mail's subject. Composite format: {0} is the title, {1} the number, {2} the seller.</summary>
    public required string MailSubject { get; init; }
    /// <summary>The e-mail's last line, saying where the invoice is.</summary>
    public required string MailAttached { get; init; }

    /// <summary>The note the law expects on an invoice that charges no tax; null for a taxed one.</summary>
    public string? TaxNote(TaxTreatment treatment, string taxName) => treatment switch
    {
        TaxTreatment.ReverseCharge => string.Format(CultureInfo.InvariantCulture, ReverseCharge, taxName),
        TaxTreatment.Exempt => string.Format(CultureInfo.InvariantCulture, Exempt, taxName),
        _ => null,
    };

    public static InvoiceWords For(CultureInfo culture) => culture.TwoLetterISOLanguageName switch
    {
        "de" => German,
        "fr" => French,
        _ => English,
    };

    public static readonly InvoiceWords English = new()
    {
        Title = "Invoice", Number = "Invoice number", IssueDate = "Issue date", DueDate = "Due date", ServicePeriod = "Service period",
        CustomerNumber = "Customer", Net = "Net amount", Gross = "Total due", TaxId = "VAT ID", Attention = "Attn.",
        Included = "included", Adjustment = "late usage", CreditsApplied = "Credits applied", AmountDue = "Amount due",
        CreditNoteTitle = "Credit note", CreditNoteNumber = "Credit note number", CorrectsInvoice = "{0} of {1}", CreditNoteReason = "Reason: {0}", CreditOfInvoice = "Credit of invoice {0}",
        CreditTotal = "Total credited", AppliedToInvoice = "{1} is taken off what invoice {0} owes.", CreditedToBalance = "{0} is added to your credit balance and used on your next invoices.",
        ReverseCharge = "Reverse charge: the customer accounts for the {0} (Article 196, Council Directive 2006/112/EC).",
        Exempt = "Exempt from {0}: the customer is tax exempt.",
        Labels = new CopyLabels(),
        MailSubject = "{0} {1} from {2}", MailAttached = "The invoice is attached as a PDF.",
    };

    public static readonly InvoiceWords German = new()
    {
        Title = "Rechnung", Number = "Rechnungsnummer", IssueDate = "Rechnungsdatum", DueDate = "Fällig am", ServicePeriod = "Leistungszeitraum",
        CustomerNumber = "Kundennummer", Net = "Nettobetrag", Gross = "Gesamtbetrag", TaxId = "USt-IdNr.", Attention = "z. Hd.",
        Included = "inklusive", Adjustment = "Nachberechnung", CreditsApplied = "Verrechnetes Guthaben", AmountDue = "Zu zahlender Betrag",
        CreditNoteTitle = "Rechnungskorrektur", CreditNoteNumber = "Korrekturnummer", CorrectsInvoice = "{0} vom {1}", CreditNoteReason = "Grund: {0}", CreditOfInvoice = "Korrektur der Rechnung {0}",
        CreditTotal = "Korrekturbetrag", AppliedToInvoice = "{1} werden mit dem offenen Betrag der Rechnung {0} verrechnet.", CreditedToBalance = "{0} werden Ihrem Guthaben gutgeschrieben und mit Ihren nächsten Rechnungen verrechnet.",
        ReverseCharge = "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, Art. 196 Richtlinie 2006/112/EG).",
        Exempt = "Steuerfrei: Der Kunde ist von der {0} befreit.",
        MailSubject = "{0} {1} von {2}", MailAttached = "Die Rechnung ist als PDF angehängt.",
        Labels = new CopyLabels
        {
            BillTo = "Rechnungsempfänger", Description = "Beschreibung", Quantity = "Menge", UnitPrice = "Einzelpreis", Amount = "Betrag",
            PageOfPages = "Seite {0} von {1}", Draft = "ENTWURF", Continued = "Fortsetzung",
        },
    };

    public static readonly InvoiceWords French = new()
    {
        Title = "Facture", Number = "Numéro de facture", IssueDate = "Date d’émission", DueDate = "Date d’échéance", ServicePeriod = "Période de service",
        CustomerNumber = "Client", Net = "Total HT", Gross = "Total TTC", TaxId = "N° TVA", Attention = "À l’attention de",
        Included = "inclus", Adjustment = "régularisation", CreditsApplied = "Crédit prépayé imputé", AmountDue = "Net à payer",
        CreditNoteTitle = "Avoir", CreditNoteNumber = "Numéro d’avoir", CorrectsInvoice = "{0} du {1}", CreditNoteReason = "Motif : {0}", CreditOfInvoice = "Avoir sur la facture {0}",
        CreditTotal = "Total de l’avoir", AppliedToInvoice = "{1} sont déduits du solde de la facture {0}.", CreditedToBalance = "{0} sont portés au crédit de votre compte et imputés sur vos prochaines factures.",
        ReverseCharge = "Autoliquidation : TVA due par le preneur (article 196 de la directive 2006/112/CE).",
        Exempt = "Exonération de {0} : le client en est exonéré.",
        MailSubject = "{0} {1} de {2}", MailAttached = "La facture est jointe au format PDF.",
        Labels = new CopyLabels
        {
            BillTo = "Facturé à", Description = "Description", Quantity = "Quantité", UnitPrice = "Prix unitaire", Amount = "Montant",
            PageOfPages = "Page {0} sur {1}", Draft = "BROUILLON", Continued = "suite",
        },
    };
}
