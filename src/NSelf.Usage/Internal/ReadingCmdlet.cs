using System.Management.Automation;
using NSelf.Usage.Completion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Internal;

/// <summary>The shared half of the reading commands: whose usage, which services, which zone, which interval.</summary>
public abstract class ReadingCmdlet : CustomerScopedCmdlet
{
    [Parameter]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>IANA zone for calendar buckets and for times without an offset (default UTC).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    /// <summary>
    /// The half-open interval to read. A date-only end covers that whole day; a missing end is
    /// now; a missing start with an end given is the beginning of stored time.
    /// </summary>
    /// <param name="customer">The customer being read (null for every customer): -Period BillingPeriod is its own period.</param>
    internal (DateTimeOffset Start, DateTimeOffset End) ResolveRange(object? start, object? end, UsagePeriod? period, TimeZoneInfo zone, Func<(DateTimeOffset, DateTimeOffset)> fallback, string? customer = null)
    {
        var range = Range(start, end, period, zone, fallback, customer);
        VerboseOnce($"Period: {Instant(range.Start)} to {Instant(range.End)} (end excluded; calendar in {zone.Id}).");
        return range;
    }

    private (DateTimeOffset Start, DateTimeOffset End) Range(object? start, object? end, UsagePeriod? period, TimeZoneInfo zone, Func<(DateTimeOffset, DateTimeOffset)> fallback, string? customer)
    {
        if (period is { } named)
        {
            if (start is not null || end is not null)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "Use either -Period or -Start/-End, not both.", named);
            if (named == UsagePeriod.BillingPeriod)
            {
                // Each customer has its own period, from its subscription's anchor.
                var one = customer ?? throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    "-Period BillingPeriod is each customer's own period; name one customer (Test-UsageQuota -AllCustomers checks every customer in its period).", named);
                var billing = new Engine.Accounts.Subscriptions(Store, Session.Time).Terms(one, zone).BillingPeriod;
                return (billing.Start, billing.End);
            }
            return ReportingPeriods.Resolve(named, Now, zone);
        }
        if (start is null && end is null)
            return fallback();
        var from = start is null ? Engine.Ingestion.UsageEventFactory.EarliestTimestamp : ToInstant(start, zone, TimeBound.Start);
        var to = end is null ? Now : ToInstant(end, zone, TimeBound.End);
        ReportingPeriods.RequireOrdered(from, to, end ?? start);
        return (from, to);
    }
}
