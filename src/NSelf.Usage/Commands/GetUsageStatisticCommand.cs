using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Statistics of per-event quantities over the last days (bash: usage_get_stats): events, total,
/// average, minimum, maximum, median, P95 and P99.
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsageStatistic")]
[OutputType(typeof(UsageStatistic))]
public sealed class GetUsageStatisticCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>How many days back from now (default 30).</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, 3660)]
    [PlainWholeNumber]
    public int Days { get; set; } = 30;

    private protected override void Finish() => Try(() =>
    {
        var filter = CustomerFilter(Service);
        WriteObject(new UsageAnalytics(Store).Statistics(filter, Now.AddDays(-Days), Now), enumerateCollection: true);
    });
}
