using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 24: periods, invoice ids, payment terms and BILLING_TAX_RATE, without a store.</summary>
public sealed class InvoiceRulesTests
{
    private static DateTime Local(int y, int m, int d) => new(y, m, d, 0, 0, 0, DateTimeKind.Unspecified);

    [Fact]
    public void Proration_OfAFeeRangeCrossingAPeriodBoundary_SharesEachPeriodsFee()
    {
        // Anchor January 1 (UTC, monthly). January 16 to February 15 covers 16 of January's 31
        // days and 14 of February's 28: 16/31 + 1/2 = 1.016129... periods, not 30/31 or 30/28.
        var covered = BillingPeriods.PeriodsCovered(Clock.Utc(2026, 1, 16), Clock.Utc(2026, 2, 15), Local(2026, 1, 1), BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal(16m / 31m + 0.5m, covered);
        // The fee follows each period's share: of 29.00, January's part is R(29) - R(29 x 15/31) =
        // 29.00 - 14.03 = 14.97, February's R(29 x 14/28) - 0 = 14.50; 29.47 in all.
        var january = PeriodCharges.BaseFeeShare(29m, "USD", Clock.Utc(2026, 1, 1), Clock.Utc(2026, 2, 1), Clock.Utc(2026, 1, 16), Clock.Utc(2026, 2, 15));
        var february = PeriodCharges.BaseFeeShare(29m, "USD", Clock.Utc(2026, 2, 1), Clock.Utc(2026, 3, 1), Clock.Utc(2026, 2, 1), Clock.Utc(2026, 2, 15));
        Assert.Equal((14.97m, 14.50m), (january, february));
    }

    [Fact]
    public void Proration_StopsAtTheAnchor_AndAWholePeriodIsOne()
    {
        var anchor = Local(2026, 1, 1);
        // Time before the anchor is not covered: December 20 to January 16 is 15 of January's 31 days.
        Assert.Equal(15m / 31m, BillingPeriods.PeriodsCovered(Clock.Utc(2025, 12, 20), Clock.Utc(2026, 1, 16), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        Assert.Equal(0m, BillingPeriods.PeriodsCovered(Clock.Utc(2025, 12, 1), Clock.Utc(2026, 1, 1), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        // Exactly two whole periods are 2, and a range ending on a boundary adds nothing after it.
        Assert.Equal(2m, BillingPeriods.PeriodsCovered(Clock.Utc(2026, 1, 1), Clock.Utc(2026, 3, 1), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        Assert.Equal(1m, BillingPeriods.PeriodsCovered(Clock.Utc(2026, 1, 1), Clock.Utc(2027, 1, 1), anchor, BillingCycle.Yearly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void BaseFeeShare_BeforeThePeriod_IsNothing_AndAfterItIsTheWholeFee()
    {
        // Clamped at both ends: a range reaching past the period bills the period's fee once.
        Assert.Equal(29.00m, PeriodCharges.BaseFeeShare(29m, "USD", Clock.Utc(2026, 2, 1), Clock.Utc(2026, 3, 1), Clock.Utc(2026, 1, 1), Clock.Utc(2026, 4, 1)));
        Assert.Equal(0m, PeriodCharges.BaseFeeShare(29m, "USD", Clock.Utc(2026, 2, 1), Clock.Utc(2026, 3, 1), Clock.Utc(2026, 1, 1), Clock.Utc(2026, 2, 1)));
    }

    [Fact]
    public void InvoiceIds_DifferBetweenTwoCustomersBilledForTheSamePeriod()
    {
        var (start, end) = (Clock.Utc(2026, 10, 1), Clock.Utc(2026, 11, 1));
        var a = InvoiceBuilder.InvoiceId("cus_a", start, end);
        Assert.NotEqual(a, InvoiceBuilder.InvoiceId("cus_b", start, end));
        // The same customer and period always get the same id (a second New-BillingInvoice finds it) ...
        Assert.Equal(a, InvoiceBuilder.InvoiceId("cus_a", start, end));
        // ... and another end is another invoice, though it starts the same day.
        Assert.NotEqual(a, InvoiceBuilder.InvoiceId("cus_a", start, Clock.Utc(2026, 10, 16)));
        Assert.Matches("^INV-20261001-[0-9A-F]{10}$", a);
    }

    [Fact]
    public void PaymentTerms_AreThirtyDays() => Assert.Equal(30, InvoiceBuilder.DefaultDueDays);

    private static EnvironmentSettings TaxRateSetTo(string? value) => new(name => name == "BILLING_TAX_RATE" ? value : null);

    [Theory]
    [InlineData("8.25", "8.25")]
    [InlineData("8.25%", "8.25")]
    [InlineData(" 8.25 ", "8.25")]
    [InlineData("8.25 %", "8.25")]
    [InlineData("0", "0")]
    [InlineData("100", "100")]
    [InlineData("100%", "100")]
    public void TaxRate_IsAPercentageFromZeroToAHundred(string text, string expected) =>
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), InvoiceBuilder.TaxRate(TaxRateSetTo(text)));

    [Theory]
    [InlineData("-1")]
    [InlineData("-0.01")]
    [InlineData("101")]
    [InlineData("100.01")]
    [InlineData("8,25")]
    [InlineData("1,000")]
    [InlineData("abc")]
    [InlineData("%")]
    [InlineData("+5")]
    [InlineData("1e1")]
    [InlineData(".5")]
    [InlineData("5.")]
    [InlineData("8.250000000000000000000000000001")]
    public void TaxRate_ThatIsNotAPlainPercentageFromZeroToAHundred_IsRefused(string text)
    {
        var error = Assert.Throws<UsageException>(() => InvoiceBuilder.TaxRate(TaxRateSetTo(text)));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)"BILLING_TAX_RATE"), (error.ErrorId, error.Target));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void TaxRate_UnsetOrEmpty_IsZero_LikeEveryEnvironmentVariable(string? text) =>
        // PowerShell's $env:BILLING_TAX_RATE = '' removes the variable; an empty value is unset
        // for every variable EnvironmentSettings reads (decisions-pending/i24-rules.md).
        Assert.Equal(0m, InvoiceBuilder.TaxRate(TaxRateSetTo(text)));

    [Fact]
    public void Containing_AnInstantBeforeTheAnchor_IsPeriodZero_AndAPeriodStartBelongsToItsOwnPeriod()
    {
        var anchor = Local(2026, 3, 15);
        var early = BillingPeriods.Containing(Clock.Utc(2026, 1, 1), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal((0L, Clock.Utc(2026, 3, 15), Clock.Utc(2026, 4, 15)), (early.Index, early.Start, early.End));
        var onStart = BillingPeriods.Containing(Clock.Utc(2026, 5, 15), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal((2L, Clock.Utc(2026, 5, 15)), (onStart.Index, onStart.Start));
        var yearly = BillingPeriods.Containing(Clock.Utc(2028, 3, 14, 23, 59, 59), anchor, BillingCycle.Yearly, TimeZoneInfo.Utc);
        Assert.Equal((1L, Clock.Utc(2027, 3, 15), Clock.Utc(2028, 3, 15)), (yearly.Index, yearly.Start, yearly.End));
    }

    [Fact]
    public void LastClosed_OnAPeriodBoundary_IsThePeriodThatJustEnded_AndNoneInTheFirstPeriod()
    {
        var anchor = Local(2026, 3, 15);
        var closed = BillingPeriods.LastClosed(Clock.Utc(2026, 4, 15), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc);
        Assert.Equal((0L, Clock.Utc(2026, 3, 15), Clock.Utc(2026, 4, 15)), (closed!.Value.Index, closed.Value.Start, closed.Value.End));
        Assert.Null(BillingPeriods.LastClosed(Clock.Utc(2026, 4, 14, 23, 59, 59), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
        Assert.Null(BillingPeriods.LastClosed(Clock.Utc(2026, 1, 1), anchor, BillingCycle.Monthly, TimeZoneInfo.Utc));
    }

    [Fact]
    public void AtLocal_ARepeatedWallClockTime_IsItsFirstOccurrence()
    {
        // New York repeats 01:00-02:00 on 2026-11-01: 01:30 is first 05:30Z (EDT), then 06:30Z (EST).
        var zone = NSelf.Usage.Engine.Time.TimeZones.Find("America/New_York");
        Assert.Equal(Clock.Utc(2026, 11, 1, 5, 30), BillingPeriods.AtLocal(new DateTime(2026, 11, 1, 1, 30, 0), zone));
        // A skipped one (02:30 on 2026-03-08) moves forward to 03:00 EDT, 07:00Z.
        Assert.Equal(Clock.Utc(2026, 3, 8, 7), BillingPeriods.AtLocal(new DateTime(2026, 3, 8, 2, 30, 0), zone));
    }
}
