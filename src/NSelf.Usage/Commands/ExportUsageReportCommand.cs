using System.Globalization;
using System.Management.Automation;
using System.Text;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Writes a self-contained HTML usage report with charts (daily usage per service, cost per
/// service, quota use, busiest hours) that opens offline, prints, and reads on a phone.
/// </summary>
[Cmdlet(VerbsData.Export, "UsageReport", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportUsageReportCommand : CustomerScopedCmdlet
{
    /// <summary>The HTML file, or a folder for the default name usage_report_yyyyMMdd_HHmmss.html.</summary>
    [Parameter(Position = 0, ParameterSetName = "Path")]
    [AllowEmptyString]
    [AllowNull]
    public string? Path { get; set; }

    /// <summary>The file or folder, taken as written: no wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "LP")]
    [AllowEmptyString]
    [AllowNull]
    public string? LiteralPath { get; set; }

    /// <summary>Start (default: the start of this month).</summary>
    [Parameter(Position = 1)]
    public object? Start { get; set; }

    /// <summary>End (exclusive; default: the end of this month); a date-only end covers that whole day.</summary>
    [Parameter(Position = 2)]
    public object? End { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    [Alias("NoOverwrite")]
    public SwitchParameter NoClobber { get; set; }

    /// <summary>The text's encoding (default utf8NoBOM, as pwsh writes files).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.EncodingNameCompleter))]
    [EncodingArgument]
    public System.Text.Encoding Encoding { get; set; } = TextEncoding.Default;

    // Per record: each piped customer gets its own report (Get-BillingCustomer | Export-UsageReport -Path ./reports/).
    protected override void ProcessRecord() => ForEachCustomer(null, filter =>
    {
        var zone = ResolveZone(TimeZone);
        var (month, monthEnd) = ReportingPeriods.Resolve(UsagePeriod.ThisMonth, Now, zone);
        var start = Start is null ? month : ToInstant(Start, zone);
        var end = End is null ? monthEnd : ToInstant(End, zone, TimeBound.End);
        ReportingPeriods.RequireOrdered(start, end, End);
        var files = new OutputFiles(this);
        // Several customers into one folder: one file each, named after the customer.
        var prefix = SeveralCustomers && filter.CustomerId is { } one ? $"usage_report_{one}" : "usage_report";
        var target = files.Target(files.Given(Path, LiteralPath), files.StampedName(prefix, "html"), Force, NoClobber);
        if (!ShouldProcess(target, "Write an HTML usage report"))
            return;
        // A report over a big store reads for seconds: a bar says so (and a stop cancels the read).
        var progress = new ProgressRecord(4, "Export-UsageReport", $"Writing the usage report {target}") { StatusDescription = "Reading usage", PercentComplete = 0 };
        WriteProgress(progress);
        var data = UsageReportDocument.Gather(Store, new Subscriptions(Store, Session.Time), filter, start, end, zone, AlertThresholds.From(Environment));
        progress.StatusDescription = "Writing the file";
        progress.PercentComplete = 90;
        WriteProgress(progress);
        var html = TextEncoding.DeclareCharset(UsageReportDocument.Html(data), Encoding);
        var file = OutputFiles.WriteText(target, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(html);
            StopToken.ThrowIfCancellationRequested();
            stream.Write(bytes, 0, bytes.Length);
        }, Encoding, Force);
        WriteVerbose($"Period: {Instant(start)} to {Instant(end)} ({zone.Id}); wrote {file.FullName} ({file.Length:N0} bytes, {Encoding.WebName}).");
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        WriteObject(new UsageExportResult
        {
            Path = file.FullName, Bytes = file.Length, Format = "Html", Content = "UsageReport",
            CustomerId = filter.CustomerId, Start = start, End = end,
        });
    });
}
