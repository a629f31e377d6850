using System.Management.Automation;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of the commands that write a billing document (an invoice, a credit note) to a file:
/// the format, the paper, where the file goes and how it is written are the same for each, so a user
/// who learned one learned the other.
/// </summary>
public abstract class BillingDocumentCmdlet : BillingCmdlet
{
    [Parameter(Position = 1)]
    [ValidateSet("Html", "Pdf", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Html";

    /// <summary>The paper of a PDF (and of a printed HTML page): A4 or Letter. Default: Letter for US and Canadian locales, else A4.</summary>
    [Parameter]
    [ValidateSet("A4", "Letter", IgnoreCase = true)]
    public string? PaperSize { get; set; }

    /// <summary>The file, or a folder for the document's default name. Default: BILLING_EXPORT_DIR.</summary>
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

    /// <summary>Html, Pdf or Json, as written on the result.</summary>
    private protected string FormatName => Format.ToLowerInvariant() switch { "pdf" => "Pdf", "json" => "Json", _ => "Html" };

    private protected InvoicePaperSize? Paper => PaperSize is null ? null : Enum.Parse<InvoicePaperSize>(PaperSize, ignoreCase: true);

    /// <summary>The path the user gave, checked before anything is read so a bad one is refused first.</summary>
    private protected (OutputFiles Files, string? Given) GivenPath()
    {
        var files = new OutputFiles(this);
        return (files, files.Given(Path, LiteralPath));
    }

    /// <summary>
    /// Writes the document to the file <paramref name="given"/> names (or <paramref name="defaultName"/>
    /// with the format's extension in a folder) after ShouldProcess; null when the user declined.
    /// The customer's copy is built only for HTML and PDF; JSON is the document itself.
    /// </summary>
    private protected FileInfo? WriteDocument(
        (OutputFiles Files, string? Given) path, string defaultName, string description,
        Func<CustomerCopy> copy, Action<Stream, System.Text.Encoding> writeJson)
    {
        var format = FormatName;
        var target = path.Files.Target(path.Given, $"{defaultName}.{format.ToLowerInvariant()}", Force, NoClobber);
        if (!ShouldProcess(target, $"Write {description} as {format.ToUpperInvariant()}"))
            return null;
        if (format == "Json")
            return OutputFiles.Write(target, stream => writeJson(stream, Encoding), Force);
        var customerCopy = copy();
        return format == "Pdf"
            ? OutputFiles.Write(target, stream => InvoicePdf.Write(customerCopy, stream), Force)
            : OutputFiles.Write(target, stream => InvoiceDocument.WriteHtml(customerCopy, stream, Encoding), Force);
    }

    /// <summary>What -Verbose says of a written file: where, how big, and in which encoding if it is text.</summary>
    private protected string Written(FileInfo file) =>
        $"written to {file.FullName} ({file.Length:N0} bytes{(FormatName == "Pdf" ? "" : ", " + Encoding.WebName)})";
}
