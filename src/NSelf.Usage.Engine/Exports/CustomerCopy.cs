namespace NSelf.Usage.Engine.Exports;

// The customer's copy of an invoice, as InvoicePdf and InvoiceDocument.Html draw it. Every string arrives formatted for the buyer's locale ("1.234,56 €",
// "05.12.2026", "1 234,56 €" with U+202F): the renderer lays text out and never formats a number
// or a date itself. Row labels ("Rechnungsnummer", "USt. 19 %") come with their rows, so the
// Labels record holds only the words the renderer places on its own.

public enum InvoicePaperSize
{
    A4,
    Letter,
}

public sealed record CustomerCopy
{
    /// <summary>"Invoice", "Rechnung", "Facture": the heading, and the PDF title with the number.</summary>
    public required string Title { get; init; }

    /// <summary>"ACME-000042"; null while the invoice is a draft without a number.</summary>
    public string? Number { get; init; }

    /// <summary>
    /// Written as the PDF's creation and modification date, so that the same invoice renders to the
    /// same bytes: the caller passes the issue (or finalisation) time, never the wall clock.
    /// </summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>BCP 47 tag ("de-DE") written as the document language, for screen readers; optional.</summary>
    public string? Language { get; init; }

    public InvoicePaperSize PaperSize { get; init; } = InvoicePaperSize.A4;

    /// <summary>Draws <see cref="CopyLabels.Draft"/> diagonally across every page.</summary>
    public bool IsDraft { get; init; }

    public required CopyLabels Labels { get; init; }
    public required CopySeller Seller { get; init; }
    public required CopyBuyer Buyer { get; init; }

    /// <summary>Top-right rows under the title: number, issue date, due date, service period, ...</summary>
    public IReadOnlyList<CopyField> Meta { get; init; } = [];

    public IReadOnlyList<CopyLine> Lines { get; init; } = [];

    /// <summary>Net, VAT, Total... in order; kept together on one page, right-aligned.</summary>
    public IReadOnlyList<CopyTotal> Totals { get; init; } = [];

    /// <summary>Printed under the totals (reverse charge, exemption reasons); each may wrap.</summary>
    public IReadOnlyList<string> TaxNotes { get; init; } = [];

    /// <summary>Bank details and the like, one entry a line (an entry may contain '\n' too).</summary>
    public IReadOnlyList<string> PaymentInstructions { get; init; } = [];

    /// <summary>Small centred text at the bottom of every page (registration, managing directors...).</summary>
    public string? Footer { get; init; }
}

/// <summary>The words the renderer places itself; the defaults are English.</summary>
public sealed record CopyLabels
{
    public string BillTo { get; init; } = "Bill to";
    public string Description { get; init; } = "Description";
    public string Quantity { get; init; } = "Quantity";
    public string UnitPrice { get; init; } = "Unit price";
    public string Amount { get; init; } = "Amount";

    /// <summary>Composite format: {0} is the page, {1} the page count ("Seite {0} von {1}").</summary>
    public string PageOfPages { get; init; } = "Page {0} of {1}";

    /// <summary>The watermark of a draft ("ENTWURF", "BROUILLON").</summary>
    public string Draft { get; init; } = "DRAFT";

    /// <summary>Appended to the title at the top of the second and later pages.</summary>
    public string Continued { get; init; } = "continued";
}

public sealed record CopySeller
{
    public required string LegalName { get; init; }
    public IReadOnlyList<string> AddressLines { get; init; } = [];
    public string? Country { get; init; }

    /// <summary>Labelled by the caller: "USt-IdNr.: DE123456789".</summary>
    public string? TaxId { get; init; }

    public string? Email { get; init; }
    public string? Website { get; init; }

    /// <summary>PNG or JPEG; drawn top-left, scaled to fit 45 mm × 20 mm. See <see cref="InvoicePdf.IsSupportedImage"/>.</summary>
    public byte[]? Logo { get; init; }
}

public sealed record CopyBuyer
{
    /// <summary>Company or person billed.</summary>
    public required string Name { get; init; }

    /// <summary>"Attn. Jane Doe", department...; optional.</summary>
    public string? Contact { get; init; }

    public IReadOnlyList<string> AddressLines { get; init; } = [];
    public string? Country { get; init; }
    public string? TaxId { get; init; }
    public string? Email { get; init; }
}

public sealed record CopyField(string Label, string Value);

/// <summary>One invoice line; the texts may be empty (a line with only a description).</summary>
public sealed record CopyLine(string Description, string Quantity, string UnitPrice, string Amount)
{
    /// <summary>Tier or detail rows drawn smaller and indented under the line.</summary>
    public IReadOnlyList<CopySubRow> SubRows { get; init; } = [];
}

/// <summary>A tier row like "0 – 10.000" | "10.000" | "0,00 €" | "0,00 €"; any column may be empty.</summary>
public sealed record CopySubRow(string Description, string Quantity = "", string UnitPrice = "", string Amount = "");

public sealed record CopyTotal(string Label, string Value, bool Emphasis = false);
