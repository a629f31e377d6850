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
[Cmdlet(VerbsData.Export, "UsageReport", SupportsShouldProcess = true)]
[OutputType(typeof(UsageExportResult))]
public sealed class ExportUsageReportCommand : CustomerScopedCmdlet
{
    /// <summary>The HTML file, or a folder for the default name usage_report_yyyyMMdd_HHmmss.html.</summary>
    [Parameter(Position = 0)]
    [AllowEmptyString]
    [AllowNull]
    public string? Path { get; set; }

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
        var target = files.Target(Path, files.StampedName(prefix, "html"), Force, NoClobber);
        if (!ShouldProcess(target, "Write an HTML usage report"))
            return;
        var data = UsageReportDocument.Gather(Store, new Subscriptions(Store, Session.Time), filter, start, end, zone, AlertThresholds.From(Environment));
        var html = UsageReportDocument.Html(data);
        var file = OutputFiles.Write(target, stream =>
        {
            var bytes = new UTF8Encoding(false).GetBytes(html);
            stream.Write(bytes, 0, bytes.Length);
        }, Force);
        WriteObject(new UsageExportResult
        {
            Path = file.FullName, Bytes = file.Length, Format = "Html", Content = "UsageReport",
            CustomerId = filter.CustomerId, Start = start, End = end,
        });
    });
}
