using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Time;

public sealed class ZoneCalendarTests
{
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York");

    [Fact]
    public void DaysInNewYork_AreTwentyThreeAndTwentyFiveHoursLongOnTheDstChangeDays()
    {
        var days = ZoneCalendar.Periods(Clock.Utc(2026, 3, 7, 5), Clock.Utc(2026, 3, 10, 4), UsageInterval.Daily, NewYork);
        Assert.Equal(new[] { 24.0, 23.0, 24.0 }, days.Select(d => (d.End - d.Start).TotalHours));
        Assert.Equal(new DateOnly(2026, 3, 8), days[1].LocalDate);

        var autumn = ZoneCalendar.Periods(Clock.Utc(2026, 10, 31, 4), Clock.Utc(2026, 11, 3, 5), UsageInterval.Daily, NewYork);
        Assert.Equal(new[] { 24.0, 25.0, 24.0 }, autumn.Select(d => (d.End - d.Start).TotalHours));
    }

    [Fact]
    public void HoursInNewYork_NumberTwentyThreeAndTwentyFiveOnTheDstChangeDays()
    {
        Assert.Equal(23, ZoneCalendar.Periods(Clock.Utc(2026, 3, 8, 5), Clock.Utc(2026, 3, 9, 4), UsageInterval.Hourly, NewYork).Count);
        var autumn = ZoneCalendar.Periods(Clock.Utc(2026, 11, 1, 4), Clock.Utc(2026, 11, 2, 5), UsageInterval.Hourly, NewYork);
        Assert.Equal(25, autumn.Count);
        // 01:00 local happens twice; the two buckets are told apart by their offsets.
        var ones = autumn.Where(p => p.LocalStart.Hour == 1).ToList();
        Assert.Equal(2, ones.Count);
        Assert.Equal(new[] { TimeSpan.FromHours(-4), TimeSpan.FromHours(-5) }, ones.Select(p => p.LocalStart.Offset));
    }

    [Fact]
    public void HoursInIndia_StartAtHalfPastTheUtcHour()
    {
        var kolkata = TimeZones.Find("Asia/Kolkata");
        var hours = ZoneCalendar.Periods(Clock.Utc(2026, 1, 1, 0, 30), Clock.Utc(2026, 1, 1, 3, 30), UsageInterval.Hourly, kolkata);
        Assert.Equal(3, hours.Count);
        Assert.All(hours, h => Assert.Equal(30, h.Start.Minute));
        Assert.All(hours, h => Assert.Equal(0, h.LocalStart.Minute));
    }

    [Fact]
    public void HoursInNepal_StartAtFifteenPastTheUtcHour()
    {
        var kathmandu = TimeZones.Find("Asia/Kathmandu");
        var start = ZoneCalendar.PeriodStart(Clock.Utc(2026, 1, 1, 10, 20), UsageInterval.Hourly, kathmandu);
        Assert.Equal(Clock.Utc(2026, 1, 1, 10, 15), start);
    }

    [Fact]
    public void Months_RunFromLocalMidnightOnTheFirst()
    {
        var months = ZoneCalendar.Periods(Clock.Utc(2026, 1, 1, 5), Clock.Utc(2027, 1, 1, 5), UsageInterval.Monthly, NewYork);
        Assert.Equal(12, months.Count);
        Assert.Equal(Clock.Utc(2026, 3, 1, 5), months[2].Start);
        Assert.Equal(Clock.Utc(2026, 4, 1, 4), months[3].Start);
        Assert.Equal(new[] { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 }, months.Select(m => m.LocalStart.AddMonths(1).Subtract(m.LocalStart).Days));
    }

    [Fact]
    public void Periods_AreClippedToTheRequestedInterval()
    {
        var days = ZoneCalendar.Periods(Clock.Utc(2026, 1, 1, 10), Clock.Utc(2026, 1, 3, 6), UsageInterval.Daily, TimeZoneInfo.Utc);
        Assert.Equal(3, days.Count);
        Assert.Equal(Clock.Utc(2026, 1, 1, 10), days[0].Start);
        Assert.Equal(Clock.Utc(2026, 1, 1), days[0].LocalStart);
        Assert.Equal(Clock.Utc(2026, 1, 3, 6), days[2].End);
    }

    [Fact]
    public void HalfHourDst_InLordHowe_KeepsHourBoundariesOnTheLocalClock()
    {
        // Lord Howe Island moves its clocks by 30 minutes.
        var lordHowe = TimeZones.Find("Australia/Lord_Howe");
        var hours = ZoneCalendar.Periods(Clock.Utc(2026, 10, 3, 12), Clock.Utc(2026, 10, 4, 12), UsageInterval.Hourly, lordHowe);
        Assert.All(hours.Skip(1), h => Assert.Equal(0, h.LocalStart.Minute));
        Assert.Equal(TimeSpan.FromHours(24), hours.Aggregate(TimeSpan.Zero, (sum, h) => sum + (h.End - h.Start)));
    }
}
