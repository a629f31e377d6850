using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 24: the currency minor units and the events digest, each rule held by name.</summary>
public sealed class MoneyRulesTests
{
    // Every ISO 4217 exception Money knows, one row each: deleting any entry bills it in cents.
    [Theory]
    [InlineData("BIF", 0)] [InlineData("CLP", 0)] [InlineData("DJF", 0)] [InlineData("GNF", 0)]
    [InlineData("ISK", 0)] [InlineData("JPY", 0)] [InlineData("KMF", 0)] [InlineData("KRW", 0)]
    [InlineData("PYG", 0)] [InlineData("RWF", 0)] [InlineData("UGX", 0)] [InlineData("VND", 0)]
    [InlineData("VUV", 0)] [InlineData("XAF", 0)] [InlineData("XOF", 0)] [InlineData("XPF", 0)]
    [InlineData("BHD", 3)] [InlineData("IQD", 3)] [InlineData("JOD", 3)] [InlineData("KWD", 3)]
    [InlineData("LYD", 3)] [InlineData("OMR", 3)] [InlineData("TND", 3)]
    [InlineData("USD", 2)] [InlineData("EUR", 2)] [InlineData("GBP", 2)] [InlineData("CHF", 2)]
    public void MinorUnits_KrwClpJpyHaveNone_BhdOmrHaveThree_OthersTwo(string currency, int digits)
    {
        Assert.Equal(digits, Money.MinorUnitDigits(currency));
        Assert.Equal(digits, Money.MinorUnitDigits(currency.ToLowerInvariant()));
        // 10.0625 rounds half away from zero at the minor unit, and shows exactly that many places:
        // JPY 10, USD 10.06, BHD 10.063 (10.0625 -> the 3rd place is a tie, away from zero).
        var expected = digits switch { 0 => "10", 3 => "10.063", _ => "10.06" };
        Assert.Equal(expected, Money.Round(10.0625m, currency).ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("JPY", "0.5", "1")]
    [InlineData("JPY", "-0.5", "-1")]
    [InlineData("KRW", "1234.4999", "1234")]
    [InlineData("USD", "0.005", "0.01")]
    [InlineData("USD", "-0.005", "-0.01")]
    [InlineData("USD", "29", "29.00")]
    [InlineData("KWD", "0.0005", "0.001")]
    [InlineData("OMR", "29", "29.000")]
    public void Round_IsHalfAwayFromZero_AndShowsTheMinorUnit(string currency, string amount, string expected) =>
        Assert.Equal(expected, Money.Round(decimal.Parse(amount, CultureInfo.InvariantCulture), currency).ToString(CultureInfo.InvariantCulture));

    [Theory]
    [InlineData(null, "USD")]
    [InlineData(" eur ", "EUR")]
    [InlineData("jpy", "JPY")]
    public void Currency_IsAnUppercaseIsoCode_UsdWhenNotGiven(string? code, string expected) => Assert.Equal(expected, Money.Currency(code));

    [Theory]
    [InlineData("")]
    [InlineData("US")]
    [InlineData("USDX")]
    [InlineData("U5D")]
    [InlineData("€UR")]
    public void Currency_ThatIsNotThreeLetters_IsRefused(string code)
    {
        var error = Assert.Throws<UsageException>(() => Money.Currency(code));
        Assert.Equal((ErrorIds.InvalidArgument, (object?)code), (error.ErrorId, error.Target));
    }

    private static string Sha256(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();

    [Fact]
    public void EventsHash_IsTheSha256OfTheIdsEachFollowedByALineFeed()
    {
        var digest = EventsDigest.Summarize(new[] { new LedgerEntry("req-1", 1.5m), new LedgerEntry("req-2", 2.25m), new LedgerEntry("é", 0.000001m) });
        // 1.5 + 2.25 + 0.000001 = 3.750001; the id "é" is hashed as its UTF-8 bytes C3 A9.
        Assert.Equal((3L, 3.750001m, Sha256("req-1\nreq-2\né\n")), digest);
        Assert.Equal((0L, 0m, Sha256("")), EventsDigest.Summarize(Array.Empty<LedgerEntry>()));
    }

    [Fact]
    public void EventsHash_DependsOnTheEventIds()
    {
        var billed = EventsDigest.Summarize(new[] { new LedgerEntry("req-1", 1), new LedgerEntry("req-2", 1) });
        var other = EventsDigest.Summarize(new[] { new LedgerEntry("req-1", 1), new LedgerEntry("req-3", 1) });
        // Same count, same quantity: only the ids tell the two sets apart.
        Assert.Equal((billed.Events, billed.Quantity), (other.Events, other.Quantity));
        Assert.NotEqual(billed.Hash, other.Hash);
        // The line feed after each id keeps "ab","c" apart from "a","bc" (both "abc" without it).
        Assert.NotEqual(EventsDigest.Summarize(new[] { new LedgerEntry("ab", 1), new LedgerEntry("c", 1) }).Hash,
            EventsDigest.Summarize(new[] { new LedgerEntry("a", 1), new LedgerEntry("bc", 1) }).Hash);
    }

    [Fact]
    public void EventsHash_FollowsTheOrderTheStoreReadsIn_SoBothSidesMustSortOrdinally()
    {
        // The digest does not sort: it hashes in the order given, which is why every store reads
        // the ledger in ordinal order of the ids (held for both stores in the contract tests).
        var ordinal = EventsDigest.Summarize(new[] { new LedgerEntry("a", 1), new LedgerEntry("b", 1) });
        var reversed = EventsDigest.Summarize(new[] { new LedgerEntry("b", 1), new LedgerEntry("a", 1) });
        Assert.NotEqual(ordinal.Hash, reversed.Hash);
    }
}
