using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Time;

public sealed class TimeInputTests
{
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York");

    [Theory]
    [InlineData("2026-01-31", "2026-01-31T00:00:00Z")]
    [InlineData("2026-01-31 23:59:59", "2026-01-31T23:59:59Z")]
    [InlineData("2026-01-31T23:59:59.9", "2026-01-31T23:59:59.9Z")]
    [InlineData("2026-01-31T23:59:59.9Z", "2026-01-31T23:59:59.9Z")]
    [InlineData("2026-01-31T18:00:00-05:00", "2026-01-31T23:00:00Z")]
    [InlineData("2026-01-31T18:00:00+0530", "2026-01-31T12:30:00Z")]
    [InlineData("2026-01-31T18:00+01", "2026-01-31T17:00:00Z")]
    [InlineData("2026-01-31T10:15:30.1234567Z", "2026-01-31T10:15:30.123456Z")]
    public void ToInstant_ReadsIsoFormsAsUtcUnlessAnOffsetIsGiven(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), TimeInput.ToInstant(text, TimeZoneInfo.Utc));
    }

    [Fact]
    public void DateOnlyEnd_CoversTheWholeDay()
    {
        var end = TimeInput.ToInstant("2026-01-31", TimeZoneInfo.Utc, TimeBound.End);
        Assert.Equal(Clock.Utc(2026, 2, 1), end);
        Assert.True(Clock.Utc(2026, 1, 31, 23, 59, 59, 900) < end);
    }

    [Fact]
    public void DateOnlyEnd_InAZone_EndsAtThatZonesNextMidnight()
    {
        Assert.Equal(Clock.Utc(2026, 2, 1, 5), TimeInput.ToInstant("2026-01-31", NewYork, TimeBound.End));
        Assert.Equal(Clock.Utc(2026, 7, 1, 4), TimeInput.ToInstant("2026-06-30", NewYork, TimeBound.End));
    }

    [Fact]
    public void LocalTime_IsReadInTheGivenZone()
    {
        Assert.Equal(Clock.Utc(2026, 1, 15, 15), TimeInput.ToInstant("2026-01-15 10:00:00", NewYork));
        Assert.Equal(Clock.Utc(2026, 7, 15, 14), TimeInput.ToInstant("2026-07-15 10:00:00", NewYork));
    }

    [Fact]
    public void SkippedLocalTime_IsRefused()
    {
        var e = Assert.Throws<UsageException>(() => TimeInput.ToInstant("2026-03-08 02:30:00", NewYork));
        Assert.Equal(ErrorIds.InvalidTimestamp, e.ErrorId);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void RepeatedLocalTime_IsRefusedAsAmbiguous()
    {
        var e = Assert.Throws<UsageException>(() => TimeInput.ToInstant("2026-11-01 01:30:00", NewYork));
        Assert.Equal(ErrorIds.InvalidTimestamp, e.ErrorId);
        Assert.Contains("ambiguous", e.Message);
        Assert.Contains("-04:00", e.Message);
        Assert.Contains("-05:00", e.Message);
    }

    [Fact]
    public void RepeatedLocalTime_WithAnOffset_IsExact()
    {
        Assert.Equal(Clock.Utc(2026, 11, 1, 5, 30), TimeInput.ToInstant("2026-11-01T01:30:00-04:00", NewYork));
        Assert.Equal(Clock.Utc(2026, 11, 1, 6, 30), TimeInput.ToInstant("2026-11-01T01:30:00-05:00", NewYork));
    }

    [Theory]
    [InlineData("31/01/2026")]
    [InlineData("01.02.2026")]
    [InlineData("01/02/2026")]
    [InlineData("Jan 31 2026")]
    [InlineData("2026-02-30")]
    [InlineData("2026-01-31T25:00:00")]
    [InlineData("2026-01-31T10:00:00+15:00")]
    [InlineData("")]
    [InlineData("yesterday")]
    public void OtherFormats_AreRefusedRatherThanGuessed(string text)
    {
        var e = Assert.Throws<UsageException>(() => TimeInput.ToInstant(text, TimeZoneInfo.Utc));
        Assert.Equal(ErrorIds.InvalidTimestamp, e.ErrorId);
    }

    [Fact]
    public void DateTimeKinds_AreHonoured()
    {
        var utc = new DateTime(2026, 1, 15, 10, 0, 0, DateTimeKind.Utc);
        Assert.Equal(Clock.Utc(2026, 1, 15, 10), TimeInput.ToInstant(utc, NewYork));
        var unspecified = new DateTime(2026, 1, 15, 10, 0, 0, DateTimeKind.Unspecified);
        Assert.Equal(Clock.Utc(2026, 1, 15, 15), TimeInput.ToInstant(unspecified, NewYork));
        var local = new DateTime(2026, 1, 15, 10, 0, 0, DateTimeKind.Local);
        Assert.Equal(new DateTimeOffset(local).ToUniversalTime(), TimeInput.ToInstant(local, NewYork));
    }

    [Fact]
    public void DateOnlyValue_IsAWholeDay()
    {
        Assert.Equal(Clock.Utc(2026, 2, 1), TimeInput.ToInstant(new DateOnly(2026, 1, 31), TimeZoneInfo.Utc, TimeBound.End));
        Assert.Equal(Clock.Utc(2026, 1, 31), TimeInput.ToInstant(new DateOnly(2026, 1, 31), TimeZoneInfo.Utc));
    }

    [Fact]
    public void StartOfLocalDay_WhereMidnightIsSkipped_IsTheFirstExistingTime()
    {
        // Chile moves clocks from 00:00 to 01:00 on the first Sunday of September.
        var santiago = TimeZones.Find("America/Santiago");
        var start = TimeInput.StartOfLocalDay(new DateOnly(2026, 9, 6), santiago);
        Assert.Equal(1, TimeZoneInfo.ConvertTime(start, santiago).Hour);
        Assert.Equal(Clock.Utc(2026, 9, 6, 4), start.ToUniversalTime());
    }

    [Fact]
    public void UnknownZone_IsInvalidTimeZone()
    {
        var e = Assert.Throws<UsageException>(() => TimeZones.Find("Mars/Olympus_Mons"));
        Assert.Equal(ErrorIds.InvalidTimeZone, e.ErrorId);
    }
}
