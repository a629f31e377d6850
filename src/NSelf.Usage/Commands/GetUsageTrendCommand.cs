using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Daily usage over the last days, each day beside the one before (bash: usage_get_trends);
/// days without usage are included as 0.
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsageTrend")]
[OutputType(typeof(UsageTrend))]
public sealed class GetUsageTrendCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>How many days, ending today (default 7).</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, 3660)]
    [PlainWholeNumber]
    public int Days { get; set; } = 7;

    /// <summary>The IANA zone whose calendar days are used (default the session's, else UTC).</summary>
    [Parameter]
    public string? TimeZone { get; set; }

    private protected override void Finish() => Try(() =>
    {
        var zone = ResolveZone(TimeZone);
        var filter = CustomerFilter(Service);
        WriteObject(new UsageAnalytics(Store).Trends(filter, Days, Now, zone), enumerateCollection: true);
    });
}
