using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Usage per service over a period (bash: usage_get_all, usage_get_service).</summary>
[Cmdlet(VerbsCommon.Get, "Usage", DefaultParameterSetName = RangeSet)]
[OutputType(typeof(UsageSummary), ParameterSetName = new[] { RangeSet, PeriodSet })]
[OutputType(typeof(UsageBreakdown))]
public sealed class GetUsageCommand : ReadingCmdlet
{
    private const string RangeSet = "Range";
    private const string PeriodSet = "Period";

    /// <summary>Start of the interval (inclusive). Default: the start of this month.</summary>
    [Parameter(Position = 0, ParameterSetName = RangeSet)]
    public object? Start { get; set; }

    /// <summary>End of the interval (exclusive); a date-only end covers that whole day. Default: now.</summary>
    [Parameter(Position = 1, ParameterSetName = RangeSet)]
    public object? End { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = PeriodSet)]
    public UsagePeriod Period { get; set; }

    /// <summary>One row per calendar day and service (UsageBreakdown) instead of one per service.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Split each row by the value of a metadata key, for example endpoint or status.</summary>
    [Parameter]
    public string? GroupBy { get; set; }

    private protected override void Finish()
    {
        Try(() =>
        {
            var zone = ResolveZone(TimeZone);
            var filter = BuildFilter();
            var (start, end) = ResolveRange(Start, End, ParameterSetName == PeriodSet ? Period : null, zone,
                () => ReportingPeriods.Resolve(UsagePeriod.ThisMonth, Now, zone));
            var groupKey = string.IsNullOrWhiteSpace(GroupBy) ? null : GroupBy.Trim();
            var reports = new UsageReports(Store, new Engine.Accounts.PlanCosts(new Engine.Accounts.Subscriptions(Store, Session.Time), zone));
            if (Detailed)
            {
                foreach (var row in reports.Breakdown(filter, start, end, zone, groupKey))
                    WriteObject(Grouped(row, groupKey));
            }
            else
            {
                foreach (var row in reports.Summaries(filter, TimeZoneInfo.ConvertTime(start, zone), TimeZoneInfo.ConvertTime(end, zone), groupKey))
                    WriteObject(Grouped(row, groupKey));
            }
        });
    }

    // Grouped rows get a second type name, so their table view shows the Group column.
    internal static object Grouped(object row, string? groupKey)
    {
        if (groupKey is null)
            return row;
        var wrapped = PSObject.AsPSObject(row);
        wrapped.TypeNames.Insert(0, row.GetType().FullName + "#Grouped");
        return wrapped;
    }
}
