using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>
/// Issue 23, item 4: adjoining parts of a base fee add up to the fee exactly. BaseFeeShare rounds the
/// cumulative fraction, R(fee F(end)) - R(fee F(start)); this checks it has what a largest-remainder
/// split guarantees (every part the floor or the ceiling of its exact share in the minor unit, the
/// parts summing to the fee) for any cuts, and pins where it differs from one (decisions-pending).
/// </summary>
public sealed class BaseFeeSplitTests
{
    private static decimal Share(decimal fee, string currency, DateTimeOffset start, DateTimeOffset end, DateTimeOffset from, DateTimeOffset to) =>
        PeriodCharges.BaseFeeShare(fee, currency, start, end, from, to);

    [Theory]
    [InlineData("USD", 2)]
    [InlineData("JPY", 0)]
    [InlineData("KWD", 3)]
    public void AnyAdjoiningParts_AreEachWithinAMinorUnitOfTheirShare_AndSumToTheFee(string currency, int digits)
    {
        var random = new Random(23);
        var unit = digits switch { 0 => 1m, 3 => 0.001m, _ => 0.01m };
        for (var run = 0; run < 2000; run++)
        {
            var start = Clock.Utc(2026, 1, 1).AddDays(random.Next(0, 730));
            var end = run % 5 == 0 ? start.AddYears(1) : start.AddMonths(1);
            var fee = random.Next(0, 10_000_000) * unit;
            var cuts = Enumerable.Range(0, random.Next(1, 12)).Select(_ => start.AddTicks((long)(random.NextDouble() * (end - start).Ticks)))
                .Append(start).Append(end).Distinct().Order().ToList();
            var parts = cuts.Zip(cuts.Skip(1)).Select(p => (Exact: fee * ((decimal)(p.Second - p.First).Ticks / (end - start).Ticks), Billed: Share(fee, currency, start, end, p.First, p.Second))).ToList();
            Assert.Equal(fee, parts.Sum(p => p.Billed));
            foreach (var (exact, billed) in parts)
            {
                var floor = decimal.Floor(exact / unit) * unit;
                Assert.True(billed == floor || billed == floor + unit, $"{currency} {fee}: a part billed {billed} for an exact share of {exact}.");
            }
        }
    }

    [Fact]
    public void ThirdsInEveryMinorUnit_AddUpToTheFee()
    {
        // November 2026, cut on the 11th and 21st. USD 10.00: R(3.333) = 3.33, R(6.667) = 6.67: 3.33, 3.34, 3.33.
        // JPY 1000: R(333.3) = 333, R(666.7) = 667: 333, 334, 333. KWD 29.000: R(9.6667) = 9.667, R(19.3333) = 19.333:
        // 9.667, 9.666, 9.667.
        var (s, e) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 12, 1));
        var cuts = new[] { s, Clock.Utc(2026, 11, 11), Clock.Utc(2026, 11, 21), e };
        decimal[] Thirds(decimal fee, string currency) => cuts.Zip(cuts.Skip(1)).Select(p => Share(fee, currency, s, e, p.First, p.Second)).ToArray();
        Assert.Equal(new[] { 3.33m, 3.34m, 3.33m }, Thirds(10m, "USD"));
        Assert.Equal(new[] { 333m, 334m, 333m }, Thirds(1000m, "JPY"));
        Assert.Equal(new[] { 9.667m, 9.666m, 9.667m }, Thirds(29m, "KWD"));
    }

    [Fact]
    public void TheOddCent_GoesWhereTheCumulativeFeeCrossesHalfACent_NotToTheLargestRemainder()
    {
        // A fee of 0.01 over 20 days, cut after 9 and 11 days: exact shares 0.0045, 0.0010, 0.0045. Cumulative:
        // R(0.0045) = 0.00, R(0.0055) = 0.01, R(0.01) = 0.01, so the middle part bills the cent. A largest-remainder
        // split of all three would give it to the first or last (remainder 0.45 of a cent, not 0.10). Both give
        // every part the floor or ceiling of its share and sum to the fee; the cumulative rule needs only the
        // part's own edges, so a part invoiced before the later ones are cut never changes (decisions-pending).
        var (s, e) = (Clock.Utc(2026, 11, 1), Clock.Utc(2026, 11, 21));
        var cuts = new[] { s, Clock.Utc(2026, 11, 10), Clock.Utc(2026, 11, 12), e };
        Assert.Equal(new[] { 0.00m, 0.01m, 0.00m }, cuts.Zip(cuts.Skip(1)).Select(p => Share(0.01m, "USD", s, e, p.First, p.Second)));
    }
}
