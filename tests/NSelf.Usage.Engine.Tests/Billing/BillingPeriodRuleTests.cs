using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// The period rules a bill depends on that BillingPeriodTests leaves open: which period an instant far
/// from the anchor falls in, how much of a fee a range crossing period edges earns, and the wall clock
/// of a period start that DST repeats.
/// </summary>
public sealed class BillingPeriodRuleTests
{
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York");

    private static DateTime Local(int y, int m, int d, int h = 0, int mi = 0) => new(y, m, d, h, mi, 0, DateTimeKind.Unspecified);

    [Fact]
    public void Containing_YearsAfterTheAnchor_IsTheMonthlyPeriodOfThatMonth()
    {
        // Anchor 2020-03-15 10:00: period n starts on the 15th, n months later. 2026-11-20 is
        // (2026-2020)*12 + 11 - 3 = 80 months on, after the 15th: period 80, 2026-11-15 10:00 to 2026-12-15 10:00.
        var period = BillingPeriods.Containing(Clock.Utc(2026, 11, 20), Local(2020, 3, 15, 10), BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal(new BillingPeriods.Period(80, Clock.Utc(2026, 11, 15, 10), Clock.Utc(2026, 12, 15, 10)), period);
        // 2026-11-15 09:59 is still before the 15th's 10:00, so period 79.
        Assert.Equal(79, BillingPeriods.Containing(Clock.Utc(2026, 11, 15, 9, 59), Local(2020, 3, 15, 10), BillingCycle.Monthly, TimeZoneInfo.Utc).Index);
    }

    [Fact]
    public void Containing_YearsAfterTheAnchor_IsTheYearlyPeriodCountedInWholeYears()
    {
        // Yearly from 2020-03-15: 2026-11-20 is 80 months on, 6 whole years: period 6, 2026-03-15 to 2027-03-15.
        var anchor = Local(2020, 3, 15);
        Assert.Equal(new BillingPeriods.Period(6, Clock.Utc(2026, 3, 15), Clock.Utc(2027, 3, 15)),
            BillingPeriods.Containing(Clock.Utc(2026, 11, 20), anchor, BillingCycle.Yearly, TimeZoneInfo.Utc));
        // 2026-02-01 is 71 months on, before March: still period 5, from 2025-03-15.
        Assert.Equal(new BillingPeriods.Period(5, Clock.Utc(2025, 3, 15), Clock.Utc(2026, 3, 15)),
            BillingPeriods.Containing(Clock.Utc(2026, 2, 1), anchor, BillingCycle.Yearly, TimeZoneInfo.Utc));
        // Exactly at a start, the instant belongs to the period it opens.
        Assert.Equal(6, BillingPeriods.Containing(Clock.Utc(2026, 3, 15), anchor, BillingCycle.Yearly, TimeZoneInfo.Utc).Index);
    }

    [Fact]
    public void Containing_AnInstantBeforeTheAnchor_IsInTheFirstPeriod()
    {
        var anchor = Local(2026, 1, 15);
        var first = new BillingPeriods.Period(0, Clock.Utc(2026, 1, 15), Clock.Utc(2026, 2, 15));
        // Same month, before the anchor day; and a year and more before the anchor.
        Assert.Equal(first, BillingPeriods.Containing(Clock.Utc(2026, 1, 10), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        Assert.Equal(first, BillingPeriods.Containing(Clock.Utc(2024, 11, 10), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        Assert.Null(BillingPeriods.LastClosed(Clock.Utc(2024, 11, 10), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void Containing_WhereTheLocalMonthLagsThePeriodStart_IsStillThePeriodThatHasStarted()
    {
        // Managua moved from -06:00 to -05:00 at midnight on 1993-01-01. .NET reads 1993-01-01 00:00
        // there as 05:00Z, yet shows 05:00Z as 1992-12-31 23:00: counted by local month, the instant is
        // still in December. Monthly from 1992-11-01, period 2 starts at 05:00Z and runs to 1993-02-01
        // 00:00 -05:00 = 05:00Z; both its first instant and one half an hour in belong to it.
        var managua = TimeZones.Find("America/Managua");
        var anchor = Local(1992, 11, 1);
        var january = new BillingPeriods.Period(2, Clock.Utc(1993, 1, 1, 5), Clock.Utc(1993, 2, 1, 5));
        Assert.Equal(january, BillingPeriods.Containing(Clock.Utc(1993, 1, 1, 5), anchor, BillingCycle.Monthly, managua));
        Assert.Equal(january, BillingPeriods.Containing(Clock.Utc(1993, 1, 1, 5, 30), anchor, BillingCycle.Monthly, managua));
        Assert.Equal(1, BillingPeriods.Containing(Clock.Utc(1993, 1, 1, 4, 59), anchor, BillingCycle.Monthly, managua).Index);
    }

    [Fact]
    public void Containing_AnyPeriodOverEightCenturies_IsFoundFromItsFirstAndLastInstant()
    {
        // Every 97th monthly and every 7th yearly period from a New York anchor on 1900-01-31 00:30:
        // the period's first instant and the tick before the next one's start give back that period.
        // The search starts from the instant's calendar month, so it takes a step or two; a count that
        // strayed from it would walk here for tens of thousands of periods per instant.
        var anchor = Local(1900, 1, 31, 0, 30);
        foreach (var (cycle, count, step) in new[] { (BillingCycle.Monthly, 8000L * 12, 97L), (BillingCycle.Yearly, 8000L, 7L) })
        {
            for (var index = 0L; index < count; index += step)
            {
                var period = new BillingPeriods.Period(index, BillingPeriods.StartOf(index, anchor, cycle, NewYork), BillingPeriods.StartOf(index + 1, anchor, cycle, NewYork));
                Assert.Equal(period, BillingPeriods.Containing(period.Start, anchor, cycle, NewYork));
                Assert.Equal(period, BillingPeriods.Containing(period.End.AddTicks(-1), anchor, cycle, NewYork));
            }
        }
    }

    [Fact]
    public void StartOf_AnIndexPastTheCalendar_OverflowsInsteadOfWrappingToAnEarlyPeriod()
    {
        // (2^64 + 8) / 12 years is 2^64 + 8 months: wrapped to 64 bits that is 8 months, which would
        // silently give 2026-09-01. 2^32 + 8 months cut to 32 bits is 8 months too.
        Assert.Throws<OverflowException>(() => BillingPeriods.StartOf(1_537_228_672_809_129_302, Local(2026, 1, 1), BillingCycle.Yearly, TimeZoneInfo.Utc));
        Assert.Throws<OverflowException>(() => BillingPeriods.StartOf(4_294_967_304, Local(2026, 1, 1), BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void PeriodsCovered_ARangeAcrossAPeriodEdge_IsEachPartOverItsOwnPeriod()
    {
        // Monthly from Jan 1: Jan 17 to Feb 1 is 15 of January's 31 days, Feb 1 to Feb 15 is 14 of
        // February's 28: 15/31 + 1/2 of a period (0.98387...).
        var covered = BillingPeriods.PeriodsCovered(Clock.Utc(2026, 1, 17), Clock.Utc(2026, 2, 15), Local(2026, 1, 1), BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal(15m / 31m + 0.5m, covered);
    }

    [Fact]
    public void PeriodsCovered_WholePeriods_AreWholeNumbers()
    {
        // March and April from Jan 1: two periods exactly; the range ending on May 1 takes nothing of May.
        Assert.Equal(2m, BillingPeriods.PeriodsCovered(Clock.Utc(2026, 3, 1), Clock.Utc(2026, 5, 1), Local(2026, 1, 1), BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void PeriodsCovered_TimeBeforeTheAnchor_IsNotCovered()
    {
        // Anchor Jan 15: of Jan 1 to Feb 1 only Jan 15 to Feb 1 counts, 17 of the first period's 31 days.
        Assert.Equal(17m / 31m, BillingPeriods.PeriodsCovered(Clock.Utc(2026, 1, 1), Clock.Utc(2026, 2, 1), Local(2026, 1, 15), BillingCycle.Monthly, TimeZoneInfo.Utc));
        // A range wholly before the anchor covers nothing.
        Assert.Equal(0m, BillingPeriods.PeriodsCovered(Clock.Utc(2025, 12, 1), Clock.Utc(2026, 1, 15), Local(2026, 1, 15), BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void PeriodsCovered_AnEndBeforeTheStart_CoversNothing()
    {
        // Never a negative fee: Feb 15 back to Jan 17 is no time at all.
        Assert.Equal(0m, BillingPeriods.PeriodsCovered(Clock.Utc(2026, 2, 15), Clock.Utc(2026, 1, 17), Local(2026, 1, 1), BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void PeriodsCovered_AcrossTheSpringForward_CountsRealHours()
    {
        // New York, monthly from Jan 1: March is 31*24 - 1 = 743 hours long. March 1 to March 16
        // (local midnights) is 15*24 - 1 = 359 hours, the lost hour falling on March 8: 359/743.
        var covered = BillingPeriods.PeriodsCovered(Clock.Utc(2026, 3, 1, 5), Clock.Utc(2026, 3, 16, 4), Local(2026, 1, 1), BillingCycle.Monthly, NewYork);
        Assert.Equal(359m / 743m, covered);
    }

    [Fact]
    public void PeriodsCovered_Yearly_IsDaysOverTheDaysOfEachYear()
    {
        // Yearly from 2028-01-01 (a leap year): Jul 1 2028 to Jan 1 2029 is 184 of 366 days, Jan 1 to
        // Jul 1 2029 is 181 of 365.
        var covered = BillingPeriods.PeriodsCovered(Clock.Utc(2028, 7, 1), Clock.Utc(2029, 7, 1), Local(2028, 1, 1), BillingCycle.Yearly, TimeZoneInfo.Utc);
        Assert.Equal(184m / 366m + 181m / 365m, covered);
    }

    [Fact]
    public void StartOf_AWallClockThatDstRepeats_IsItsFirstOccurrence()
    {
        // Anchored at 01:30 in New York, period 10 starts 2026-11-01 01:30, which happens at -04:00
        // (05:30Z) and again at -05:00 (06:30Z): the period starts at the first, in UTC.
        var start = BillingPeriods.StartOf(10, Local(2026, 1, 1, 1, 30), BillingCycle.Monthly, NewYork);
        Assert.Equal(Clock.Utc(2026, 11, 1, 5, 30), start);
        Assert.Equal(TimeSpan.Zero, start.Offset);
    }

    [Fact]
    public void AtLocal_ReadsTheWallClockWhateverTheKindOfTheValue()
    {
        // A stored anchor may come back as Utc or Local kind; 12:00 is still 12:00 in New York (EDT): 16:00Z.
        Assert.Equal(Clock.Utc(2026, 7, 1, 16), BillingPeriods.AtLocal(new DateTime(2026, 7, 1, 12, 0, 0, DateTimeKind.Utc), NewYork));
        Assert.Equal(Clock.Utc(2026, 7, 1, 16), BillingPeriods.AtLocal(new DateTime(2026, 7, 1, 12, 0, 0, DateTimeKind.Local), NewYork));
    }
}
