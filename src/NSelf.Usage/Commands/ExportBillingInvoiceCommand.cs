using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Writes an invoice as a printable HTML page or as JSON, and emits the file.</summary>
[Cmdlet(VerbsData.Export, "BillingInvoice", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportBillingInvoiceCommand : BillingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    public string InvoiceId { get; set; } = "";

    [Parameter(Position = 1)]
    [ValidateSet("Html", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Html";

    /// <summary>The file, or a folder for the default name invoice-&lt;id&gt;.&lt;ext&gt;. Default: BILLING_EXPORT_DIR.</summary>
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
            // The path is checked first: a bad one is refused before anything is read.
            var files = new OutputFiles(this);
            var given = files.Given(Path, LiteralPath);
            var invoice = Store.GetInvoice(InvoiceId)
                ?? throw new UsageException(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{InvoiceId}' does not exist.", InvoiceId);
            var html = Format.Equals("Html", StringComparison.OrdinalIgnoreCase);
            var target = files.Target(given, $"invoice-{invoice.InvoiceId}.{(html ? "html" : "json")}", Force, NoClobber);
            if (!ShouldProcess(target, $"Write invoice {invoice.InvoiceId} as {(html ? "HTML" : "JSON")}"))
                return;
            var customer = html ? Store.GetCustomer(invoice.CustomerId, includeRemoved: true) : null;
            var file = OutputFiles.Write(target, stream =>
            {
                if (html)
                    InvoiceDocument.WriteHtml(invoice, customer, stream, Encoding);
                else
                    InvoiceDocument.WriteJson(invoice, stream, Encoding);
            }, Force);
            WriteVerbose($"Invoice {invoice.InvoiceId} of {invoice.CustomerId} ({invoice.Lines.Count:N0} line(s)) written to {file.FullName} ({file.Length:N0} bytes, {Encoding.WebName}).");
            WriteObject(new UsageExportResult
            {
                Path = file.FullName, Bytes = file.Length, Format = html ? "Html" : "Json", Content = "Invoice",
                Rows = invoice.Lines.Count, CustomerId = invoice.CustomerId, Start = invoice.PeriodStart, End = invoice.PeriodEnd, InvoiceId = invoice.InvoiceId,
            });
        });
    }
}
