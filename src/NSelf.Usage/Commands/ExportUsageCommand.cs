using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Writes stored events to a CSV or JSON file (bash: usage_export), streamed, and emits the file.
/// </summary>
[Cmdlet(VerbsData.Export, "Usage", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportUsageCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ValidateSet("Csv", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Csv";

    /// <summary>The file, or a folder for the default name usage_yyyyMMdd_HHmmss.csv; empty for the default folder.</summary>
    [Parameter(Position = 1, ParameterSetName = "Path")]
    [AllowEmptyString]
    [AllowNull]
    public string? Path { get; set; }

    /// <summary>The file or folder, taken as written: no wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "LP")]
    [AllowEmptyString]
    [AllowNull]
    public string? LiteralPath { get; set; }

    [Parameter(Position = 2)]
    public object? Start { get; set; }

    /// <summary>End (exclusive); a date-only end covers that whole day.</summary>
    [Parameter(Position = 3)]
    public object? End { get; set; }

    [Parameter(Position = 4)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    /// <summary>Write a gzip-compressed file (.gz is added to the default name).</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

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

    // Per record: each piped customer gets its own file.
    protected override void ProcessRecord() => ForEachCustomer(Service, filter =>
    {
        var zone = ResolveZone(TimeZone);
        DateTimeOffset? from = Start is null ? null : ToInstant(Start, zone);
        DateTimeOffset? to = End is null ? null : ToInstant(End, zone, TimeBound.End);
        if (from is { } f && to is { } t)
            Engine.Reporting.ReportingPeriods.RequireOrdered(f, t, End);
        UsageFileFormat? asked = !MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? null
            : Format.Equals("Json", StringComparison.OrdinalIgnoreCase) ? UsageFileFormat.Json : UsageFileFormat.Csv;
        var files = new OutputFiles(this);
        // Several customers into one folder: one file each, named after the customer.
        var prefix = SeveralCustomers && filter.CustomerId is { } one ? $"usage_{one}" : "usage";
        var name = files.StampedName(prefix, asked == UsageFileFormat.Json ? "json" : "csv");
        // The name is settled (-Compress may add .gz) before it is checked against files already there.
        var (settled, format, compress) = OutputFile.Settle(files.Target(files.Given(Path, LiteralPath), name, force: true, noClobber: false), asked, Compress);
        var target = OutputFile.Resolve(settled, Environment.ExportDirectory, name, Force, NoClobber);
        var query = new RecordQuery(filter, from, to, Bulk: true);
        if (!ShouldProcess(target, $"Export usage events as {format}"))
            return;
        var total = Store.CountRecords(query);
        var progress = new ProgressRecord(1, "Export-Usage", $"Writing {total:N0} events to {target}");
        WriteVerbose($"Period: {(from is { } fromAt ? Instant(fromAt) : "the earliest event")} to {(to is { } toAt ? Instant(toAt) : "the latest event")}; {total:N0} event(s) to write as {format}{(compress ? ", gzip-compressed" : "")}, {Encoding.WebName}.");
        long rows = 0;
        var file = OutputFiles.Write(target, stream => rows = UsageFile.WriteFile(Store.ReadRecords(query), format, compress, stream, n =>
        {
            progress.PercentComplete = total == 0 ? 100 : (int)Math.Min(100, n * 100 / total);
            progress.StatusDescription = $"{n:N0} of {total:N0} events";
            WriteProgress(progress);
        }, StopToken, Encoding), Force);
        WriteVerbose($"Read {rows:N0} event(s) from the store and wrote them to {file.FullName} ({file.Length:N0} bytes).");
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        WriteObject(new UsageExportResult
        {
            Path = file.FullName, Bytes = file.Length, Format = format.ToString(), Compressed = compress, Content = "UsageEvents",
            Rows = rows, CustomerId = filter.CustomerId, Start = from, End = to,
        });
    });
}
