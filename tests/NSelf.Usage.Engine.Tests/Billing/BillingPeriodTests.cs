using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Billing periods: month ends, leap years and DST, in several zones.</summary>
public sealed class BillingPeriodTests
{
    private static DateTime Local(int y, int m, int d, int h = 0) => new(y, m, d, h, 0, 0, DateTimeKind.Unspecified);

    private static IEnumerable<DateTime> LocalStarts(DateTime anchor, BillingCycle cycle, string zoneId, int count)
    {
        var zone = TimeZones.Find(zoneId);
        return Enumerable.Range(0, count).Select(i => TimeZoneInfo.ConvertTime(BillingPeriods.StartOf(i, anchor, cycle, zone), zone).DateTime);
    }

    [Fact]
    public void AnchorOnThe31st_ClampsToShortMonthsAndComesBack()
    {
        Assert.Equal(new[] { Local(2026, 1, 31), Local(2026, 2, 28), Local(2026, 3, 31), Local(2026, 4, 30), Local(2026, 5, 31) },
            LocalStarts(Local(2026, 1, 31), BillingCycle.Monthly, "UTC", 5));
    }

    [Fact]
    public void LeapYears_GiveFebruaryItsTwentyNinth()
    {
        Assert.Equal(new[] { Local(2028, 1, 30), Local(2028, 2, 29), Local(2028, 3, 30) },
            LocalStarts(Local(2028, 1, 30), BillingCycle.Monthly, "UTC", 3));
        Assert.Equal(new[] { Local(2028, 2, 29), Local(2029, 2, 28), Local(2030, 2, 28), Local(2031, 2, 28), Local(2032, 2, 29) },
            LocalStarts(Local(2028, 2, 29), BillingCycle.Yearly, "UTC", 5));
    }

    [Theory]
    [InlineData("America/New_York")]
    [InlineData("Europe/London")]
    [InlineData("Australia/Sydney")]
    [InlineData("Asia/Kolkata")]
    [InlineData("Pacific/Auckland")]
    public void PeriodsStartAtLocalMidnight_AcrossDst(string zoneId)
    {
        var starts = LocalStarts(Local(2026, 1, 15), BillingCycle.Monthly, zoneId, 24).ToList();
        Assert.All(starts, s => Assert.Equal((15, TimeSpan.Zero), (s.Day, s.TimeOfDay)));
        Assert.Equal(Enumerable.Range(0, 24).Select(i => Local(2026, 1, 15).AddMonths(i)), starts);
    }

    [Fact]
    public void PeriodLength_FollowsDst_InNewYork()
    {
        var zone = TimeZones.Find("America/New_York");
        var march = BillingPeriods.Containing(Clock.Utc(2026, 3, 20), Local(2026, 1, 1), BillingCycle.Monthly, zone);
        var november = BillingPeriods.Containing(Clock.Utc(2026, 11, 20), Local(2026, 1, 1), BillingCycle.Monthly, zone);
        Assert.Equal(31 * 24 - 1, (march.End - march.Start).TotalHours);
        Assert.Equal(30 * 24 + 1, (november.End - november.Start).TotalHours);
    }

    [Fact]
    public void AnchorTimeSkippedByDst_StartsAtTheFirstTimeThatExists()
    {
        // Santiago skips from 00:00 to 01:00 on 2026-09-06.
        var zone = TimeZones.Find("America/Santiago");
        var start = BillingPeriods.StartOf(8, Local(2026, 1, 6), BillingCycle.Monthly, zone);
        Assert.Equal(Local(2026, 9, 6, 1), TimeZoneInfo.ConvertTime(start, zone).DateTime);
    }

    [Fact]
    public void Containing_FindsTheRightPeriodAroundItsEdges()
    {
        var anchor = Local(2026, 1, 31);
        var zone = TimeZoneInfo.Utc;
        Assert.Equal(1, BillingPeriods.Containing(Clock.Utc(2026, 2, 28), anchor, BillingCycle.Monthly, zone).Index);
        Assert.Equal(0, BillingPeriods.Containing(Clock.Utc(2026, 2, 27, 23, 59, 59), anchor, BillingCycle.Monthly, zone).Index);
        Assert.Equal(2, BillingPeriods.Containing(Clock.Utc(2026, 3, 31), anchor, BillingCycle.Monthly, zone).Index);
        var closed = BillingPeriods.LastClosed(Clock.Utc(2026, 3, 5), anchor, BillingCycle.Monthly, zone);
        Assert.Equal((Clock.Utc(2026, 1, 31), Clock.Utc(2026, 2, 28)), (closed!.Value.Start, closed.Value.End));
        Assert.Null(BillingPeriods.LastClosed(Clock.Utc(2026, 2, 10), anchor, BillingCycle.Monthly, zone));
    }

    [Fact]
    public void Subscriptions_RollForwardWithoutAJob_AndEndWhenCanceledAtPeriodEnd()
    {
        var subscription = new BillingSubscription
        {
            SubscriptionId = "sub_1", CustomerId = "cus_a", Plan = "pro", Status = SubscriptionStatus.Active, BillingCycle = BillingCycle.Monthly,
            CurrentPeriodStart = Clock.Utc(2026, 1, 31), CurrentPeriodEnd = Clock.Utc(2026, 2, 28), Anchor = Clock.Utc(2026, 1, 31), TimeZone = "UTC",
            CancelAtPeriodEnd = false, CreatedAt = Clock.Utc(2026, 1, 31),
        };
        var rolled = Subscriptions.Rolled(subscription, Clock.Utc(2026, 5, 3));
        Assert.Equal((Clock.Utc(2026, 4, 30), Clock.Utc(2026, 5, 31)), (rolled.CurrentPeriodStart, rolled.CurrentPeriodEnd));
        var ending = new BillingSubscription
        {
            SubscriptionId = "sub_1", CustomerId = "cus_a", Plan = "pro", Status = SubscriptionStatus.Active, BillingCycle = BillingCycle.Monthly,
            CurrentPeriodStart = Clock.Utc(2026, 1, 31), CurrentPeriodEnd = Clock.Utc(2026, 2, 28), Anchor = Clock.Utc(2026, 1, 31), TimeZone = "UTC",
            CancelAtPeriodEnd = true, CreatedAt = Clock.Utc(2026, 1, 31),
        };
        var canceled = Subscriptions.Rolled(ending, Clock.Utc(2026, 3, 2));
        Assert.Equal((SubscriptionStatus.Canceled, Clock.Utc(2026, 2, 28)), (canceled.Status, canceled.CanceledAt!.Value));
    }

    [Fact]
    public void QuotaPeriods_AreLocalDaysWeeksFromMondayOrTheBillingPeriod()
    {
        var zone = TimeZones.Find("Europe/Berlin");
        var billing = new BillingPeriods.Period(0, Clock.Utc(2026, 11, 14, 23), Clock.Utc(2026, 12, 14, 23));
        var now = Clock.Utc(2026, 11, 27, 12); // a Friday
        Assert.Equal((Clock.Utc(2026, 11, 26, 23), Clock.Utc(2026, 11, 27, 23)), BillingPeriods.QuotaPeriod(QuotaResetPeriod.Daily, now, billing, zone));
        Assert.Equal((Clock.Utc(2026, 11, 22, 23), Clock.Utc(2026, 11, 29, 23)), BillingPeriods.QuotaPeriod(QuotaResetPeriod.Weekly, now, billing, zone));
        Assert.Equal((billing.Start, billing.End), BillingPeriods.QuotaPeriod(QuotaResetPeriod.Monthly, now, billing, zone));
    }
}
