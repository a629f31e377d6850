using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Writes the customer's copy of a credit note (HTML or PDF) or the credit note as JSON, and emits the file.</summary>
[Cmdlet(VerbsData.Export, "BillingCreditNote", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportBillingCreditNoteCommand : BillingCmdlet
{
    /// <summary>The credit note's id or number.</summary>
    [ArgumentCompleter(typeof(Completion.CreditNoteCompleter))]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string CreditNoteId { get; set; } = "";

    [Parameter(Position = 1)]
    [ValidateSet("Html", "Pdf", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Html";

    /// <summary>The paper of a PDF (and of a printed HTML page): A4 or Letter. Default: Letter for US and Canadian locales, else A4.</summary>
    [Parameter]
    [ValidateSet("A4", "Letter", IgnoreCase = true)]
    public string? PaperSize { get; set; }

    /// <summary>The file, or a folder for the default name credit-note-&lt;number&gt;.&lt;ext&gt;. Default: BILLING_EXPORT_DIR.</summary>
    [Parameter(Position = 2, ParameterSetName = "Path")]
    [AllowEmptyString]
    [AllowNull]
    public string? Path { get; set; }

    /// <summary>The file or folder, taken as written: no wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "LP")]
    [AllowEmptyString]
    [AllowNull]
    public string? LiteralPath { get; set; }

    /// <summary>Replace a read-only file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Do not replace an existing file.</summary>
    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>The text's encoding (default utf8NoBOM, as pwsh writes files).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.EncodingNameCompleter))]
    [EncodingArgument]
    public System.Text.Encoding Encoding { get; set; } = TextEncoding.Default;

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var files = new OutputFiles(this);
            var given = files.Given(Path, LiteralPath);
            if (string.IsNullOrWhiteSpace(CreditNoteId))
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-CreditNoteId is empty: give a credit note's id or number (Get-BillingCreditNote lists them).", CreditNoteId);
            var note = Accounts.FindCreditNote(CreditNoteId.Trim());
            var format = Format.ToLowerInvariant() switch { "pdf" => "Pdf", "json" => "Json", _ => "Html" };
            var target = files.Target(given, $"credit-note-{note.CreditNoteNumber}.{format.ToLowerInvariant()}", Force, NoClobber);
            if (!ShouldProcess(target, $"Write credit note {note.CreditNoteNumber} as {format.ToUpperInvariant()}"))
                return;
            var paper = PaperSize is null ? (InvoicePaperSize?)null : Enum.Parse<InvoicePaperSize>(PaperSize, ignoreCase: true);
            var copy = format == "Json" ? null : CreditNoteCopies.Of(Book, note, DefaultZone, paper);
            var file = format == "Pdf"
                ? OutputFiles.Write(target, stream => InvoicePdf.Write(copy!, stream), Force)
                : OutputFiles.Write(target, stream =>
                {
                    if (copy is not null)
                        InvoiceDocument.WriteHtml(copy, stream, Encoding);
                    else
                        InvoiceDocument.WriteJson(note, stream, Encoding);
                }, Force);
            WriteVerbose($"Credit note {note.CreditNoteNumber} of {note.CustomerId} ({note.Lines.Count:N0} line(s)) written to {file.FullName} ({file.Length:N0} bytes{(format == "Pdf" ? "" : ", " + Encoding.WebName)}).");
            var corrected = Store.GetInvoice(note.InvoiceId);
            WriteObject(new UsageExportResult
            {
                Path = file.FullName, Bytes = file.Length, Format = format, Content = "CreditNote",
                Rows = note.Lines.Count, CustomerId = note.CustomerId, InvoiceId = note.InvoiceId,
                // The period of the invoice it corrects, as Export-BillingInvoice gives it.
                Start = corrected?.PeriodStart, End = corrected?.PeriodEnd,
            });
        });
    }
}
