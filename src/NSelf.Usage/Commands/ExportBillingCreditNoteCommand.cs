using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Writes the customer's copy of a credit note (HTML or PDF) or the credit note as JSON, and emits the file.</summary>
[Cmdlet(VerbsData.Export, "BillingCreditNote", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportBillingCreditNoteCommand : BillingDocumentCmdlet
{
    /// <summary>The credit note's id or number.</summary>
    [ArgumentCompleter(typeof(Completion.CreditNoteCompleter))]
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string CreditNoteId { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var path = GivenPath();
            if (string.IsNullOrWhiteSpace(CreditNoteId))
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-CreditNoteId is empty: give a credit note's id or number (Get-BillingCreditNote lists them).", CreditNoteId);
            var note = Accounts.FindCreditNote(CreditNoteId.Trim());
            var file = WriteDocument(path, $"credit-note-{note.CreditNoteNumber}", $"credit note {note.CreditNoteNumber}",
                () => CreditNoteCopies.Of(Book, note, DefaultZone, Paper),
                (stream, encoding) => InvoiceDocument.WriteJson(note, stream, encoding));
            if (file is null)
                return;
            WriteVerbose($"Credit note {note.CreditNoteNumber} of {note.CustomerId} ({note.Lines.Count:N0} line(s)) {Written(file)}.");
            var corrected = Store.GetInvoice(note.InvoiceId);
            WriteObject(new UsageExportResult
            {
                Path = file.FullName, Bytes = file.Length, Format = FormatName, Content = "CreditNote",
                Rows = note.Lines.Count, CustomerId = note.CustomerId, InvoiceId = note.InvoiceId,
                // The period of the invoice it corrects, as Export-BillingInvoice gives it.
                Start = corrected?.PeriodStart, End = corrected?.PeriodEnd,
            });
        });
    }
}
