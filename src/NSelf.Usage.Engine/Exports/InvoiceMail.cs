namespace NSelf.Usage.Engine.Exports;

/// <summary>One invoice e-mail: who sends it to whom, its text, and the invoice PDF.</summary>
public sealed record InvoiceMail
{
    /// <summary>The invoice's number, e.g. ACME-000042: names the attachment (ACME-000042.pdf) and the Message-ID.</summary>
    public required string InvoiceNumber { get; init; }

    public required string SellerName { get; init; }

    public required string SellerAddress { get; init; }

    /// <summary>Addresses, each <c>someone@example.com</c> or <c>Name &lt;someone@example.com&gt;</c>.</summary>
    public required IReadOnlyList<string> To { get; init; }

    public IReadOnlyList<string> Cc { get; init; } = [];

    public required string Subject { get; init; }

    public required string HtmlBody { get; init; }

    /// <summary>The plain-text alternative, for readers that show no HTML.</summary>
    public required string TextBody { get; init; }

    public required byte[] Pdf { get; init; }

    /// <summary>
    /// The seller's logo, attached inline for the HTML body to show as cid:<see cref="LogoContentId"/>
    /// (mail readers block images inlined as data: URIs).
    /// </summary>
    public (byte[] Image, string MediaType)? Logo { get; init; }

    public const string LogoContentId = "logo@invoice";

    /// <summary>The Date header; the caller's clock (TimeProvider), never read here.</summary>
    public required DateTimeOffset Date { get; init; }
}

/// <summary>What the server took: the Message-ID (without angle brackets), the recipients it accepted, its last answer.</summary>
public sealed record InvoiceMailReceipt(string MessageId, IReadOnlyList<string> AcceptedRecipients, string ServerResponse);
