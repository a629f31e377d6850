using System.Management.Automation;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Usage per hour, day or month in a time zone (bash: usage_aggregate).</summary>
[Cmdlet(VerbsCommon.Get, "UsageAggregate")]
[OutputType(typeof(UsageAggregate))]
public sealed class GetUsageAggregateCommand : ReadingCmdlet
{
    [Parameter(Position = 0)]
    public UsageInterval Interval { get; set; } = UsageInterval.Daily;

    /// <summary>Start (inclusive). Default: today for Hourly, this month for Daily, this year for Monthly.</summary>
    [Parameter(Position = 1)]
    public object? Start { get; set; }

    /// <summary>End (exclusive); a date-only end covers that whole day.</summary>
    [Parameter(Position = 2)]
    public object? End { get; set; }

    [Parameter]
    public string? GroupBy { get; set; }

    private protected override void Finish()
    {
        Try(() =>
        {
            var zone = ResolveZone(TimeZone);
            var filter = BuildFilter();
            var (start, end) = ResolveRange(Start, End, null, zone, () => DefaultRange(zone));
            var groupKey = string.IsNullOrWhiteSpace(GroupBy) ? null : GroupBy.Trim();
            foreach (var row in new UsageReports(Store, new Engine.Accounts.PlanCosts(new Engine.Accounts.Subscriptions(Store, Session.Time), zone)).Aggregates(filter, start, end, Interval, zone, groupKey))
                WriteObject(GetUsageCommand.Grouped(row, groupKey));
        });
    }

    private (DateTimeOffset, DateTimeOffset) DefaultRange(TimeZoneInfo zone)
    {
        switch (Interval)
        {
            case UsageInterval.Hourly:
                return ReportingPeriods.Resolve(UsagePeriod.Today, Now, zone);
            case UsageInterval.Monthly:
                var year = TimeZoneInfo.ConvertTime(Now, zone).Year;
                return (TimeInput.StartOfLocalDay(new DateOnly(year, 1, 1), zone).ToUniversalTime(), TimeInput.StartOfLocalDay(new DateOnly(year + 1, 1, 1), zone).ToUniversalTime());
            default:
                return ReportingPeriods.Resolve(UsagePeriod.ThisMonth, Now, zone);
        }
    }
}
