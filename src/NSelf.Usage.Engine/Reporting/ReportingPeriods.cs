using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Reporting;

/// <summary>The named periods of Get-Usage, as half-open UTC intervals computed in a zone.</summary>
public static class ReportingPeriods
{
    public static (DateTimeOffset Start, DateTimeOffset End) Resolve(UsagePeriod period, DateTimeOffset now, TimeZoneInfo zone)
    {
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(now, zone).DateTime);
        var month = new DateOnly(today.Year, today.Month, 1);
        (DateOnly from, DateOnly to) = period switch
        {
            UsagePeriod.Today => (today, today.AddDays(1)),
            UsagePeriod.Yesterday => (today.AddDays(-1), today),
            UsagePeriod.LastMonth => (month.AddMonths(-1), month),
            _ => (month, month.AddMonths(1)),
        };
        return (TimeInput.StartOfLocalDay(from, zone).ToUniversalTime(), TimeInput.StartOfLocalDay(to, zone).ToUniversalTime());
    }

    /// <summary>Checks that an interval is not backwards or empty.</summary>
    public static void RequireOrdered(DateTimeOffset start, DateTimeOffset end, object? target = null)
    {
        if (end <= start)
            throw new UsageException(ErrorIds.InvalidDateRange, UsageErrorKind.InvalidArgument,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The end ({end:yyyy-MM-ddTHH:mm:ss.FFFFFFFZ}) must be after the start ({start:yyyy-MM-ddTHH:mm:ss.FFFFFFFZ}). Intervals are half-open: a date-only end covers that whole day."), target ?? end);
    }
}
