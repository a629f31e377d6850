using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Statistics of per-event quantities over the last days or an interval (bash: usage_get_stats):
/// events, total, average, minimum, maximum, median, P95 and P99.
/// </summary>
/// <remarks>
/// -Days and -Start/-End are two parameter sets, so giving both is refused by parameter binding,
/// as Get-Usage refuses -Period with -Start/-End.
/// </remarks>
[Cmdlet(VerbsCommon.Get, "UsageStatistic", DefaultParameterSetName = DaysSet)]
[OutputType(typeof(UsageStatistic))]
public sealed class GetUsageStatisticCommand : CustomerScopedCmdlet
{
    private const string DaysSet = "Days";
    private const string RangeSet = "Range";

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>How many days back from now (default 30).</summary>
    [Parameter(Position = 1, ParameterSetName = DaysSet)]
    [ValidateRange(1, 3660)]
    [PlainWholeNumber]
    public int Days { get; set; } = 30;

    /// <summary>Start of the interval (inclusive), as every other reader takes it. Default: the beginning of stored time.</summary>
    [Parameter(ParameterSetName = RangeSet)]
    public object? Start { get; set; }

    /// <summary>End of the interval (exclusive); a date-only end covers that whole day. Default: now.</summary>
    [Parameter(ParameterSetName = RangeSet)]
    public object? End { get; set; }

    /// <summary>The IANA zone of -Start and -End given without an offset (default the session's, else UTC).</summary>
    [Parameter(ParameterSetName = RangeSet)]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    // Per record: each piped customer is read on its own.
    protected override void ProcessRecord() => ForEachCustomer(Service, filter =>
    {
        var (start, end) = Range();
        WriteObject(new UsageAnalytics(Store).Statistics(filter, start, end), enumerateCollection: true);
    });

    private (DateTimeOffset Start, DateTimeOffset End) Range()
    {
        if (ParameterSetName == DaysSet)
            return (Now.AddDays(-Days), Now);
        var zone = ResolveZone(TimeZone);
        // Bound as $null (an unset variable?) is refused, not read as "from the beginning".
        foreach (var (name, value) in new[] { (nameof(Start), Start), (nameof(End), End) })
            if (value is null && MyInvocation.BoundParameters.ContainsKey(name))
                throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                    $"-{name} was given as $null (an unset variable?). Give a date such as 2026-11-01, or leave -{name} out.", null);
        var from = Start is null ? Engine.Ingestion.UsageEventFactory.EarliestTimestamp : ToInstant(Start, zone, TimeBound.Start);
        var to = End is null ? Now : ToInstant(End, zone, TimeBound.End);
        ReportingPeriods.RequireOrdered(from, to, End ?? Start);
        return (from, to);
    }
}
