using System.Globalization;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tests.Ingestion;

/// <summary>Issue 24: each input limit held on both sides of its boundary.</summary>
public sealed class InputBoundaryTests
{
    [Fact]
    public void EventId_OfUpTo255Characters_IsAccepted_And256IsRefused()
    {
        Assert.Equal(255, TextRules.EventId(new string('e', 255)).Length);
        Assert.Equal("e", TextRules.EventId("e"));
        var error = Assert.Throws<UsageException>(() => TextRules.EventId(new string('e', 256)));
        Assert.Equal(ErrorIds.InvalidEventId, error.ErrorId);
        Assert.Contains("at most 255", error.Message);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("req\t1")]
    [InlineData("req-1\n")]
    [InlineData("req\0")]
    public void EventId_BlankOrWithControlCharacters_IsRefused(string? id) =>
        Assert.Equal(ErrorIds.InvalidEventId, Assert.Throws<UsageException>(() => TextRules.EventId(id)).ErrorId);

    [Fact]
    public void EventId_WithAnUnpairedSurrogate_IsRefused() =>
        // Built here, not in InlineData: test discovery would turn the lone surrogate into U+FFFD.
        Assert.Equal(ErrorIds.InvalidEventId, Assert.Throws<UsageException>(() => TextRules.EventId("req" + '\ud800')).ErrorId);

    [Fact]
    public void CustomerId_WithATrailingNewline_IsRefused() =>
        Assert.Equal(ErrorIds.InvalidCustomerId, Assert.Throws<UsageException>(() => TextRules.CustomerId("cus_a\n")).ErrorId);

    [Fact]
    public void ServiceName_IsALetterAndUpTo99More()
    {
        var longest = "s" + new string('x', 99);
        Assert.Equal(longest, TextRules.ServiceName(longest.ToUpperInvariant()));
        Assert.Equal("a", TextRules.ServiceName("a"));
        Assert.Equal(ErrorIds.InvalidService, Assert.Throws<UsageException>(() => TextRules.ServiceName(longest + "x")).ErrorId);
        Assert.Equal(ErrorIds.InvalidService, Assert.Throws<UsageException>(() => TextRules.ServiceName(null)).ErrorId);
        // Plan names follow the same rule, with the plan's error id.
        Assert.Equal("pro-2026", TextRules.PlanName(" Pro-2026 "));
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => TextRules.PlanName(longest + "x")).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => TextRules.PlanName("2026")).ErrorId);
    }

    [Fact]
    public void Text_OfExactlyTheLimit_IsKept_AndOneMoreIsRefused()
    {
        var atLimit = new string('t', TextRules.MaximumTextLength);
        Assert.Equal(atLimit, TextRules.Text(atLimit, "Endpoint", ErrorIds.InvalidArgument));
        var error = Assert.Throws<UsageException>(() => TextRules.Text(atLimit + "t", "Endpoint", ErrorIds.InvalidArgument));
        Assert.Equal(ErrorIds.InvalidArgument, error.ErrorId);
        Assert.Equal("abc", TextRules.Text("abc", "Name", ErrorIds.InvalidArgument, maximumLength: 3));
        Assert.Throws<UsageException>(() => TextRules.Text("abcd", "Name", ErrorIds.InvalidArgument, maximumLength: 3));
        Assert.Equal(string.Empty, TextRules.Text(null, "Name", ErrorIds.InvalidArgument));
        // A surrogate pair is one well-formed character, kept as it is.
        Assert.Equal("ok \ud83d\ude00", TextRules.Text("ok \ud83d\ude00", "Name", ErrorIds.InvalidArgument));
    }

    private static readonly DateTimeOffset Now = Clock.Utc(2026, 11, 27, 12);

    private static UsageEventFactory Factory() => new(new ServiceCatalog(ServiceCatalog.BuiltIn), Clock.At(Now));

    [Fact]
    public void Timestamp_From2000_01_01_ToOneDayAfterNow_IsAccepted_AndAMicrosecondOutsideIsRefused()
    {
        var earliest = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(earliest, UsageEventFactory.EarliestTimestamp);
        Assert.Equal(earliest, Factory().Create("cus_a", "api", 1, earliest).Timestamp);
        Assert.Equal(Now.AddDays(1), Factory().Create("cus_a", "api", 1, Now.AddDays(1)).Timestamp);
        foreach (var outside in new[] { earliest.AddTicks(-10), Now.AddDays(1).AddTicks(10) })
        {
            var error = Assert.Throws<UsageException>(() => Factory().Create("cus_a", "api", 1, outside));
            Assert.Equal((ErrorIds.InvalidTimestamp, (object?)outside), (error.ErrorId, error.Target));
        }
    }

    [Fact]
    public void Quantity_FromZeroToABillionWithSixPlaces_IsAccepted_AtTheFactoryToo()
    {
        Assert.Equal(0m, Factory().Create("cus_a", "api", 0, Now).Quantity);
        Assert.Equal(1_000_000_000m, Factory().Create("cus_a", "api", 1_000_000_000m, Now).Quantity);
        Assert.Equal(0.000001m, Factory().Create("cus_a", "api", 0.000001m, Now).Quantity);
        foreach (var bad in new[] { -0.000001m, 1_000_000_000.000001m, 0.0000001m })
            Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Factory().Create("cus_a", "api", bad, Now)).ErrorId);
    }

    [Theory]
    [InlineData("1e3", "1000")]
    [InlineData("1E-06", "0.000001")]
    [InlineData("1e9", "1000000000")]
    public void QuantityText_MayCarryAnExponent_WithinTheSameLimits(string text, string expected) =>
        Assert.Equal(decimal.Parse(expected, CultureInfo.InvariantCulture), Quantities.Parse(text));

    [Theory]
    [InlineData("1e-7")]
    [InlineData("1.000001e9")]
    [InlineData("-1e0")]
    public void QuantityText_WithAnExponentOutsideTheLimits_IsRefused(string text) =>
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => Quantities.Parse(text)).ErrorId);

    [Fact]
    public void Scaled_IsMicroUnits_AndNormalizeDropsTrailingZeros()
    {
        Assert.Equal((1L, 1_000_000_000_000_000L), (Quantities.ToScaled(0.000001m), Quantities.ToScaled(1_000_000_000m)));
        Assert.Equal(0.000001m, Quantities.FromScaled(1));
        Assert.Equal("1.5", Quantities.Normalize(1.500000m).ToString(CultureInfo.InvariantCulture));
        Assert.Equal("1.5", Quantities.Format(1.500000m));
    }

    [Theory]
    [InlineData("2026-01-31T12:00:00+14:00", "2026-01-30T22:00:00Z")]
    [InlineData("2026-01-31T12:00:00-14:00", "2026-02-01T02:00:00Z")]
    [InlineData("2026-01-31T12:00:00+13:59", "2026-01-30T22:01:00Z")]
    [InlineData("2026-01-31T12:00:00+1400", "2026-01-30T22:00:00Z")]
    [InlineData("2026-01-31T12:00:00,25Z", "2026-01-31T12:00:00.25Z")]
    public void Offset_UpTo14Hours_IsRead(string text, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, CultureInfo.InvariantCulture), TimeInput.ToInstant(text, TimeZoneInfo.Utc));

    [Theory]
    [InlineData("2026-01-31T12:00:00+14:01")]
    [InlineData("2026-01-31T12:00:00-14:01")]
    [InlineData("2026-01-31T12:00:00+15:00")]
    [InlineData("2026-01-31T12:00:00+12:60")]
    public void Offset_Beyond14HoursOrWith60Minutes_IsRefused(string text) =>
        Assert.Equal(ErrorIds.InvalidTimestamp, Assert.Throws<UsageException>(() => TimeInput.ToInstant(text, TimeZoneInfo.Utc)).ErrorId);

    [Fact]
    public void DateOnlyWithAnOffset_AsAnEnd_IsTheNextMidnightAtThatOffset()
    {
        // 2026-01-31 at +02:00 starts at 2026-01-30T22:00Z; as an end it covers the whole day, to 2026-01-31T22:00Z.
        Assert.Equal(Clock.Utc(2026, 1, 30, 22), TimeInput.ToInstant("2026-01-31+02:00", TimeZoneInfo.Utc));
        Assert.Equal(Clock.Utc(2026, 1, 31, 22), TimeInput.ToInstant("2026-01-31+02:00", TimeZoneInfo.Utc, TimeBound.End));
    }
}
