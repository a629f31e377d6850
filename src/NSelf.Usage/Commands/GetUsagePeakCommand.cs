using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The busiest hours or days by total (bash: usage_get_peaks), the earlier first on ties.</summary>
[Cmdlet(VerbsCommon.Get, "UsagePeak")]
[OutputType(typeof(UsagePeak))]
public sealed class GetUsagePeakCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    [Parameter(Position = 1)]
    [ValidateSet("Hourly", "Daily", IgnoreCase = true)]
    public string Interval { get; set; } = "Hourly";

    [Parameter(Position = 2)]
    [ValidateRange(1, 10000)]
    [PlainWholeNumber]
    public int Top { get; set; } = 10;

    /// <summary>How many days back from now to look (default 30).</summary>
    [Parameter]
    [ValidateRange(1, 3660)]
    [PlainWholeNumber]
    public int Days { get; set; } = 30;

    /// <summary>The IANA zone whose hours or days are ranked (default the session's, else UTC).</summary>
    [Parameter]
    public string? TimeZone { get; set; }

    private protected override void Finish() => Try(() =>
    {
        var zone = ResolveZone(TimeZone);
        var filter = CustomerFilter(Service);
        var interval = Enum.Parse<UsageInterval>(Interval, ignoreCase: true);
        var end = Now;
        var start = ZoneCalendar.PeriodStart(end.AddDays(-Days), interval, zone);
        WriteObject(new UsageAnalytics(Store).Peaks(filter, interval, Top, start, end, zone), enumerateCollection: true);
    });
}
