using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Writes the customer's copy of an invoice (HTML or PDF) or the whole invoice with its audit data (JSON), and emits the file.</summary>
[Cmdlet(VerbsData.Export, "BillingInvoice", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportBillingInvoiceCommand : BillingDocumentCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    public string InvoiceId { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var path = GivenPath();
            var invoice = Store.GetInvoice(InvoiceId)
                ?? throw new UsageException(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{InvoiceId}' does not exist.", InvoiceId);
            var name = invoice.InvoiceNumber ?? invoice.InvoiceId;
            var file = WriteDocument(path, $"invoice-{name}", $"invoice {name}",
                () => InvoiceCopies.Of(Book, invoice, DefaultZone, Paper),
                (stream, encoding) => InvoiceDocument.WriteJson(invoice, stream, encoding));
            if (file is null)
                return;
            WriteVerbose($"Invoice {name} of {invoice.CustomerId} ({invoice.Lines.Count:N0} line(s)) {Written(file)}.");
            WriteObject(new UsageExportResult
            {
                Path = file.FullName, Bytes = file.Length, Format = FormatName, Content = "Invoice",
                Rows = invoice.Lines.Count, CustomerId = invoice.CustomerId, Start = invoice.PeriodStart, End = invoice.PeriodEnd, InvoiceId = invoice.InvoiceId,
            });
        });
    }
}
