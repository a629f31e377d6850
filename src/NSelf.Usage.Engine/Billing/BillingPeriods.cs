using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// Billing periods anchored to a subscription's start, in the customer's zone. Period n starts
/// n months (or years) after the anchor, on the anchor's day of month clamped to the month's
/// length, at the anchor's wall-clock time. Every period is computed from the anchor, never from
/// the previous period, so a subscription started on January 31 bills Jan 31, Feb 28 (29 in a
/// leap year), Mar 31, Apr 30, May 31: the day comes back after a short month.
/// </summary>
public static class BillingPeriods
{
    public readonly record struct Period(long Index, DateTimeOffset Start, DateTimeOffset End);

    public static DateTimeOffset StartOf(long index, DateTime anchorLocal, BillingCycle cycle, TimeZoneInfo zone)
    {
        // Overflow checking is on for the whole build (Directory.Build.props), so an index past the
        // calendar throws here, in the product and the cast, rather than wrapping to an early period.
        var months = (int)(cycle == BillingCycle.Yearly ? index * 12 : index);
        var first = new DateTime(anchorLocal.Year, anchorLocal.Month, 1).AddMonths(months);
        var day = Math.Min(anchorLocal.Day, DateTime.DaysInMonth(first.Year, first.Month));
        var local = new DateTime(first.Year, first.Month, day).Add(anchorLocal.TimeOfDay);
        return AtLocal(local, zone);
    }

    /// <summary>The period containing an instant (an instant before the anchor is in period 0).</summary>
    public static Period Containing(DateTimeOffset instant, DateTime anchorLocal, BillingCycle cycle, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone).DateTime;
        var months = (local.Year - anchorLocal.Year) * 12 + local.Month - anchorLocal.Month;
        long index = Math.Max(0, cycle == BillingCycle.Yearly ? months / 12 : months);
        // The calendar count is usually the period or the one after it (the anchor's day and time may
        // not have come yet in the instant's month), but not always: where .NET moves a zone's base
        // offset forward at midnight (America/Managua, 1993-01-01) it reads 00:00 on the 1st as an
        // instant that converts back to 23:00 on the 31st, so the count is one short. Walk up first,
        // then down: each walk stops exactly on a period start, so an error at the boundary in either
        // one shows instead of being undone by the other.
        while (StartOf(index + 1, anchorLocal, cycle, zone) <= instant)
            index++;
        while (index > 0 && StartOf(index, anchorLocal, cycle, zone) > instant)
            index--;
        return new Period(index, StartOf(index, anchorLocal, cycle, zone), StartOf(index + 1, anchorLocal, cycle, zone));
    }

    /// <summary>The last period that ended at or before an instant, if any.</summary>
    public static Period? LastClosed(DateTimeOffset instant, DateTime anchorLocal, BillingCycle cycle, TimeZoneInfo zone)
    {
        var current = Containing(instant, anchorLocal, cycle, zone);
        if (current.Start > instant || current.Index == 0)
            return null;
        return new Period(current.Index - 1, StartOf(current.Index - 1, anchorLocal, cycle, zone), current.Start);
    }

    /// <summary>
    /// How many billing periods [start, end) covers, as an exact fraction summed period by
    /// period (each part over its own period's length, so February's half is 14 of 28 days). Time
    /// before the anchor is not covered. The base fee of a partial period is prorated by it.
    /// </summary>
    public static decimal PeriodsCovered(DateTimeOffset start, DateTimeOffset end, DateTime anchorLocal, BillingCycle cycle, TimeZoneInfo zone)
    {
        var covered = 0m;
        // A start before the anchor is in period 0, whose own start then bounds the first part:
        // time before the anchor is not covered.
        for (var index = Containing(start, anchorLocal, cycle, zone).Index; ; index++)
        {
            var (periodStart, periodEnd) = (StartOf(index, anchorLocal, cycle, zone), StartOf(index + 1, anchorLocal, cycle, zone));
            // A period starting exactly at the end would add max(0, end - periodStart) = 0, so > here
            // bills the same as >= (an equivalent mutant, left standing: disabling it would hide <).
            if (periodStart >= end)
                return covered;
            var part = Math.Min(end.UtcTicks, periodEnd.UtcTicks) - Math.Max(start.UtcTicks, periodStart.UtcTicks);
            // Never negative: an end before the start covers nothing.
            covered += (decimal)Math.Max(0, part) / (periodEnd - periodStart).Ticks;
        }
    }

    /// <summary>A local wall-clock time as an instant: skipped times move forward, repeated ones take the first.</summary>
    public static DateTimeOffset AtLocal(DateTime local, TimeZoneInfo zone) =>
        TimeInput.FirstExisting(local, zone).ToUniversalTime();

    /// <summary>The quota period of a reset period: a local day, a local week from Monday, or the billing period.</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) QuotaPeriod(QuotaResetPeriod reset, DateTimeOffset now, Period billingPeriod, TimeZoneInfo zone)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        switch (reset)
        {
            case QuotaResetPeriod.Daily:
                return (TimeInput.StartOfLocalDay(today, zone).ToUniversalTime(), TimeInput.StartOfLocalDay(today.AddDays(1), zone).ToUniversalTime());
            case QuotaResetPeriod.Weekly:
                var monday = today.AddDays(-(((int)today.DayOfWeek + 6) % 7));
                return (TimeInput.StartOfLocalDay(monday, zone).ToUniversalTime(), TimeInput.StartOfLocalDay(monday.AddDays(7), zone).ToUniversalTime());
            default:
                return (billingPeriod.Start, billingPeriod.End);
        }
    }

    /// <summary>
    /// The parts of the billing periods [start, end) falls in: each with its period. Without a
    /// subscription the interval is its own period; time before a subscription's first period
    /// counts as part of it.
    /// </summary>
    /// <remarks>
    /// A conditional rather than an early 'yield break' in one iterator: a mutation tester that
    /// removes the 'yield break' leaves the pattern variable unassigned, and cannot then test any
    /// fault in the proration below (it sets aside every mutant of the method).
    /// </remarks>
    public static IEnumerable<(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, DateTimeOffset From, DateTimeOffset To)> Parts(CustomerTerms terms, DateTimeOffset start, DateTimeOffset end) =>
        terms.Subscription is { } subscription ? PeriodParts(subscription, start, end) : new[] { (start, end, start, end) };

    private static IEnumerable<(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, DateTimeOffset From, DateTimeOffset To)> PeriodParts(BillingSubscription subscription, DateTimeOffset start, DateTimeOffset end)
    {
        var zone = TimeZones.Find(subscription.TimeZone);
        for (var from = start; from < end;)
        {
            var period = BillingPeriods.Containing(from, subscription.Anchor.DateTime, subscription.BillingCycle, zone);
            // Stryker disable once Equality : equivalent, at equal instants either is the answer
            var to = end < period.End ? end : period.End;
            // Stryker disable once Equality : equivalent, at equal instants either is the answer
            yield return (from < period.Start ? from : period.Start, period.End, from, to);
            from = to;
        }
    }
}
