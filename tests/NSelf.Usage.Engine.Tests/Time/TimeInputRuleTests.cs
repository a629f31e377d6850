using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Time;

/// <summary>
/// The rules of reading a typed time that TimeInputTests and InputBoundaryTests leave open: what each
/// refusal tells the user, the edges of the calendar, and the DST corners where a day starts twice.
/// </summary>
public sealed class TimeInputRuleTests
{
    private static readonly TimeZoneInfo NewYork = TimeZones.Find("America/New_York");

    private static UsageException Refused(object value, TimeZoneInfo zone, TimeBound bound = TimeBound.Start)
    {
        var e = Assert.Throws<UsageException>(() => TimeInput.ToInstant(value, zone, bound));
        Assert.Equal((ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument), (e.ErrorId, e.Kind));
        Assert.Equal(value, e.Target);
        return e;
    }

    [Fact]
    public void ToInstant_AValueThatIsNoTime_IsRefusedNamingTheFormsToUse()
    {
        var e = Refused(42, TimeZoneInfo.Utc);
        Assert.Equal($"'42' is not a time. Use a [datetime], a [datetimeoffset] or a string such as {TimeInput.AcceptedForms}.", e.Message);
    }

    [Fact]
    public void ToInstant_TextInNoAcceptedForm_IsRefusedNamingTheForms()
    {
        var e = Refused("31/01/2026", TimeZoneInfo.Utc);
        Assert.Equal($"'31/01/2026' is not a time this module reads. Use {TimeInput.AcceptedForms}.", e.Message);
    }

    [Fact]
    public void ToInstant_ADayThatIsNotInTheCalendar_IsRefusedAsNotAValidDate()
    {
        var e = Refused("2026-02-29 10:00:00", TimeZoneInfo.Utc);
        Assert.Equal("'2026-02-29 10:00:00' is not a valid date or time of day.", e.Message);
    }

    [Fact]
    public void ToInstant_AnOffsetBeyond14Hours_IsRefusedNamingTheRange()
    {
        var e = Refused("2026-01-31T12:00:00+14:30", TimeZoneInfo.Utc);
        Assert.Equal("'2026-01-31T12:00:00+14:30' has an offset outside -14:00..+14:00.", e.Message);
    }

    [Theory]
    // Year 1 at +01:00 is 0000-12-31T23:00Z, before the first instant .NET holds.
    [InlineData("0001-01-01T00:00:00+01:00")]
    // The last day as an end bound ends at 10000-01-01, after the last instant.
    [InlineData("9999-12-31")]
    public void ToInstant_ATimeOutsideYears1To9999InUtc_IsRefusedAsOutOfRange(string text)
    {
        var e = Refused(text, TimeZoneInfo.Utc, TimeBound.End);
        Assert.Equal($"'{text}' is outside the range of times this module reads (years 0001 to 9999 in UTC).", e.Message);
    }

    [Fact]
    public void ToInstant_TextWithSpacesAroundIt_IsReadAsTheTimeInside()
    {
        Assert.Equal(Clock.Utc(2026, 1, 31, 10, 15), TimeInput.ToInstant("  2026-01-31T10:15:00Z \t", NewYork));
    }

    [Fact]
    public void ToInstant_ALowercaseZ_IsUtc()
    {
        // In New York the same wall time would be 15:15Z; the z makes it 10:15Z.
        Assert.Equal(Clock.Utc(2026, 1, 31, 10, 15), TimeInput.ToInstant("2026-01-31t10:15:00z", NewYork));
    }

    [Fact]
    public void ToInstant_HoursAndMinutesWithoutSeconds_AreReadInTheZone()
    {
        // 2026-01-31 10:15 in New York (EST, -05:00) is 15:15Z; the seconds default to zero.
        Assert.Equal(Clock.Utc(2026, 1, 31, 15, 15), TimeInput.ToInstant("2026-01-31 10:15", NewYork));
    }

    [Fact]
    public void ToInstant_IsAlwaysAUtcInstant()
    {
        // Stored times are UTC: an instant typed at -05:00 or read in New York comes back at offset zero,
        // 2026-01-31T18:00:00-05:00 as 23:00Z.
        var typed = TimeInput.ToInstant("2026-01-31T18:00:00-05:00", NewYork);
        var local = TimeInput.ToInstant("2026-01-31 18:00:00", NewYork);
        var value = TimeInput.ToInstant(new DateTimeOffset(2026, 1, 31, 18, 0, 0, TimeSpan.FromHours(-5)), NewYork);
        Assert.All(new[] { typed, local, value }, instant => Assert.Equal((Clock.Utc(2026, 1, 31, 23), TimeSpan.Zero), (instant, instant.Offset)));
    }

    [Fact]
    public void ToInstant_ANegativeOffsetWithMinutes_SubtractsBoth()
    {
        // 12:00 at -03:30 (Newfoundland) is 15:30Z; a sign lost on the minutes would give 14:30Z.
        Assert.Equal(Clock.Utc(2026, 1, 31, 15, 30), TimeInput.ToInstant("2026-01-31T12:00:00-0330", TimeZoneInfo.Utc));
    }

    [Fact]
    public void ToInstant_ASkippedLocalTime_IsRefusedSuggestingTheOffsetBeforeTheChange()
    {
        // New York skips 02:00-03:00 on 2026-03-08; three hours earlier the offset was -05:00 (EST).
        var e = Refused("2026-03-08 02:30:00", NewYork);
        Assert.Equal("2026-03-08 02:30:00 does not exist in America/New_York (the clocks skip it for daylight saving). Give an offset, for example 2026-03-08T02:30:00-05:00.", e.Message);
    }

    [Fact]
    public void ToInstant_ARepeatedLocalTime_IsRefusedListingTheEarlierOccurrenceFirst()
    {
        // 01:30 on 2026-11-01 happens first at -04:00 (EDT), then at -05:00 (EST).
        var e = Refused(new DateTime(2026, 11, 1, 1, 30, 0, DateTimeKind.Unspecified), NewYork);
        Assert.Equal("2026-11-01 01:30:00 is ambiguous in America/New_York: it happens twice when daylight saving ends. Give an offset: 2026-11-01T01:30:00-04:00 or 2026-11-01T01:30:00-05:00.", e.Message);
    }

    [Theory]
    [InlineData("th-TH")]
    [InlineData("fi-FI")]
    public void ToInstant_ARepeatedLocalTime_IsNamedInTheGregorianIsoFormInEveryCulture(string culture)
    {
        // th-TH would write the year as 2569 and fi-FI the time as 01.30.00: the user could not type either back.
        var e = Culture.CultureTests.InCulture(culture, () => Refused("2026-11-01 01:30:00", NewYork));
        Assert.StartsWith("2026-11-01 01:30:00 is ambiguous in America/New_York", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartOfLocalDay_WhereMidnightHappensTwice_IsTheFirstMidnight()
    {
        // Havana turns 01:00 CDT back to 00:00 CST on 2026-11-01: the day starts at 00:00-04:00 = 04:00Z,
        // an hour before the second midnight (05:00Z).
        var havana = TimeZones.Find("America/Havana");
        Assert.Equal(Clock.Utc(2026, 11, 1, 4), TimeInput.StartOfLocalDay(new DateOnly(2026, 11, 1), havana));
        Assert.Equal(Clock.Utc(2026, 11, 1, 4), TimeInput.ToInstant(new DateOnly(2026, 11, 1), havana));
        Assert.Equal(Clock.Utc(2026, 11, 1, 4), TimeInput.ToInstant("2026-10-31", havana, TimeBound.End));
    }

    [Theory]
    [InlineData(0, 0, "+00:00")]
    [InlineData(5, 30, "+05:30")]
    [InlineData(-3, -30, "-03:30")]
    [InlineData(-14, 0, "-14:00")]
    public void FormatOffset_IsSignHoursColonMinutes(int hours, int minutes, string expected)
    {
        Assert.Equal(expected, TimeInput.FormatOffset(new TimeSpan(hours, minutes, 0)));
    }
}
