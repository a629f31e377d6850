namespace NSelf.Usage.Engine.Time;

/// <summary>
/// One calendar bucket (an hour, day or month of wall-clock time in a zone) as a half-open
/// UTC interval, with its start shown as local time in that zone.
/// </summary>
public readonly record struct CalendarPeriod(DateTimeOffset Start, DateTimeOffset End, DateTimeOffset LocalStart)
{
    public DateOnly LocalDate => DateOnly.FromDateTime(LocalStart.DateTime);
}

/// <summary>
/// Calendar arithmetic in a named zone. Days and months start at local midnight (or the first
/// wall-clock time that exists that day); hours start where the local clock reads minute 0, so a
/// day when DST starts has 23 hourly buckets and the day it ends has 25.
/// </summary>
public static class ZoneCalendar
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    public static DateTimeOffset PeriodStart(DateTimeOffset instant, UsageInterval interval, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        return interval switch
        {
            UsageInterval.Daily => TimeInput.StartOfLocalDay(DateOnly.FromDateTime(local.DateTime), zone).ToUniversalTime(),
            UsageInterval.Monthly => TimeInput.StartOfLocalDay(new DateOnly(local.Year, local.Month, 1), zone).ToUniversalTime(),
            _ => HourStart(instant, zone),
        };
    }

    public static DateTimeOffset NextPeriodStart(DateTimeOffset periodStart, UsageInterval interval, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(periodStart, zone);
        var date = DateOnly.FromDateTime(local.DateTime);
        return interval switch
        {
            UsageInterval.Daily => TimeInput.StartOfLocalDay(date.AddDays(1), zone).ToUniversalTime(),
            UsageInterval.Monthly => TimeInput.StartOfLocalDay(new DateOnly(local.Year, local.Month, 1).AddMonths(1), zone).ToUniversalTime(),
            _ => NextHourStart(periodStart, zone),
        };
    }

    /// <summary>The buckets that overlap [start, end), each clipped to that interval.</summary>
    public static IReadOnlyList<CalendarPeriod> Periods(DateTimeOffset start, DateTimeOffset end, UsageInterval interval, TimeZoneInfo zone)
    {
        var periods = new List<CalendarPeriod>();
        var cursor = PeriodStart(start, interval, zone);
        while (cursor < end)
        {
            var next = NextPeriodStart(cursor, interval, zone);
            var clippedStart = cursor < start ? start : cursor;
            var clippedEnd = next > end ? end : next;
            periods.Add(new CalendarPeriod(clippedStart, clippedEnd, TimeZoneInfo.ConvertTime(cursor, zone)));
            cursor = next;
        }
        return periods;
    }

    // Every zone in use today has an offset that is a whole number of quarter hours, so local
    // hour boundaries fall on UTC quarter hours. Historic odd offsets (local mean time) fall back
    // to UTC hours.
    private static DateTimeOffset HourStart(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var candidate = FloorQuarter(instant.ToUniversalTime());
        for (var i = 0; i < 8; i++, candidate -= Quarter)
            if (IsLocalHourBoundary(candidate, zone))
                return candidate;
        var utc = instant.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    private static DateTimeOffset NextHourStart(DateTimeOffset hourStart, TimeZoneInfo zone)
    {
        var candidate = FloorQuarter(hourStart.ToUniversalTime()) + Quarter;
        for (var i = 0; i < 8; i++, candidate += Quarter)
            if (IsLocalHourBoundary(candidate, zone))
                return candidate;
        var utc = hourStart.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero).AddHours(1);
    }

    private static bool IsLocalHourBoundary(DateTimeOffset utc, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(utc, zone);
        return local.Minute == 0 && local.Second == 0;
    }

    internal static DateTimeOffset FloorQuarter(DateTimeOffset utc) =>
        new(utc.UtcTicks - utc.UtcTicks % Quarter.Ticks, TimeSpan.Zero);
}
