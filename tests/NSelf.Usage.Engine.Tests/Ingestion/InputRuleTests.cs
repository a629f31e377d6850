using System.Globalization;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

/// <summary>
/// Issue 24: the input rules' refusals say what was wrong and what to type, and name the
/// offending input; the plain-number rule's limits, held on both sides.
/// </summary>
public sealed class InputRuleTests
{
    private static UsageException Refused(Action action) => Assert.Throws<UsageException>(action);

    [Fact]
    public void QuantityRefusals_NameTheQuantityAndTheRule_AndTargetTheInputOrTheCallersTarget()
    {
        var negative = Refused(() => Quantities.Validate(-1.50m));
        Assert.Equal((ErrorIds.InvalidQuantity, "Quantity -1.5 is negative; usage quantities must be zero or more.", (object?)(-1.50m)),
            (negative.ErrorId, negative.Message, negative.Target));
        var large = Refused(() => Quantities.Validate(1_000_000_000.5m));
        Assert.Equal(("Quantity 1000000000.5 is larger than the maximum of 1000000000 per event.", (object?)1_000_000_000.5m), (large.Message, large.Target));
        var precise = Refused(() => Quantities.Validate(0.0000001m, "row 3"));
        Assert.Equal(("Quantity 0.0000001 has more than 6 decimal places; round it first (usage is stored to 6 decimal places).", (object?)"row 3"),
            (precise.Message, precise.Target));
        // The caller's target wins for each refusal, not only the last.
        Assert.Equal((object?)"row 1", Refused(() => Quantities.Validate(-1, "row 1")).Target);
        Assert.Equal((object?)"row 2", Refused(() => Quantities.Validate(2_000_000_000, "row 2")).Target);
    }

    [Fact]
    public void QuantityText_IsRefusedAsAQuantity_AndTargetsTheCallersTargetOrTheText()
    {
        // Parse names the value a quantity (not the caller's 'what'), and a refusal of its range keeps the caller's target.
        var text = Refused(() => Quantities.Parse("x"));
        Assert.Equal((ErrorIds.InvalidQuantity, (object?)"x"), (text.ErrorId, text.Target));
        Assert.StartsWith("Quantity 'x' ", text.Message, StringComparison.Ordinal);
        Assert.Equal((object?)"row 9", Refused(() => Quantities.Parse("-1", "row 9")).Target);
        Assert.Equal((object?)"-1", Refused(() => Quantities.Parse("-1")).Target);
    }

    [Fact]
    public void AnEventIdOfOnlySpaces_AtTheLengthLimit_IsBlank_NotTooLong() =>
        // 255 spaces are within the limit: what is wrong with them is that they are blank.
        Assert.Equal("An event id must have at least one character that is not white space.",
            Refused(() => TextRules.EventId(new string(' ', 255))).Message);

    [Fact]
    public void NumberTextRefusal_SaysWhatToTypeInstead_AndHowToWriteANumber()
    {
        var comma = Refused(() => Quantities.ParseNumber("1,5", "Hours"));
        Assert.Equal(("Hours '1,5' is not a plain number: use 1.5. Write digits with a '.' decimal point, and no thousands separators, spaces or other signs.", (object?)"1,5"),
            (comma.Message, comma.Target));
        var word = Refused(() => Quantities.ParseNumber("ten", "Limit", "-Limit"));
        Assert.Equal(("Limit 'ten' is not a plain number: use a plain number such as 12.5. Write digits with a '.' decimal point, and no thousands separators, spaces or other signs.", (object?)"-Limit"),
            (word.Message, word.Target));
    }

    [Fact]
    public void IdentifierRefusals_QuoteTheValue_SayTheRule_AndTargetTheValueAsGiven()
    {
        var customer = Refused(() => TextRules.CustomerId("cus abc"));
        Assert.Equal((ErrorIds.InvalidCustomerId, "'cus abc' is not a valid customer id: use 1 to 255 letters, digits, '_' or '-' (for example cus_abc123).", (object?)"cus abc"),
            (customer.ErrorId, customer.Message, customer.Target));
        Assert.Equal("'' is not a valid customer id: use 1 to 255 letters, digits, '_' or '-' (for example cus_abc123).", Refused(() => TextRules.CustomerId(null)).Message);

        var service = Refused(() => TextRules.ServiceName(" 1Api "));
        Assert.Equal((ErrorIds.InvalidService, "' 1Api ' is not a valid service name: start with a letter, then up to 99 lowercase letters, digits, '_', '.' or '-'.", (object?)" 1Api "),
            (service.ErrorId, service.Message, service.Target));

        var plan = Refused(() => TextRules.PlanName("2026"));
        Assert.Equal((ErrorIds.InvalidArgument, "'2026' is not a valid plan name: start with a letter, then up to 99 lowercase letters, digits, '_', '.' or '-' (for example team or pro-2026).", (object?)"2026"),
            (plan.ErrorId, plan.Message, plan.Target));
        Assert.Equal(ErrorIds.InvalidArgument, Refused(() => TextRules.PlanName(null)).ErrorId);
    }

    [Fact]
    public void LongValues_AreQuotedInMessagesToTheirFirst80Characters()
    {
        // 80 characters are quoted whole; from 81 on, the first 80 and an ellipsis.
        var eighty = "1" + new string('x', 79);
        Assert.StartsWith($"'{eighty}' is not", Refused(() => TextRules.ServiceName(eighty)).Message, StringComparison.Ordinal);
        var eightyOne = eighty + "y";
        Assert.StartsWith($"'{eighty}…' is not", Refused(() => TextRules.ServiceName(eightyOne)).Message, StringComparison.Ordinal);
        Assert.Equal((object?)eightyOne, Refused(() => TextRules.ServiceName(eightyOne)).Target);
        Assert.StartsWith($"'{new string('c', 80)}…' is not a valid customer id", Refused(() => TextRules.CustomerId(new string('c', 256))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EventIdRefusals_SayWhichRuleTheIdBroke()
    {
        const string blank = "An event id must have at least one character that is not white space.";
        Assert.Equal(blank, Refused(() => TextRules.EventId(null)).Message);
        var spaces = Refused(() => TextRules.EventId("  "));
        Assert.Equal((ErrorIds.InvalidEventId, blank, (object?)"  "), (spaces.ErrorId, spaces.Message, spaces.Target));
        // The length is written with a thousands separator: 1,000, whatever the culture.
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal("An event id must be at most 255 characters; got 1,000.", Refused(() => TextRules.EventId(new string('e', 1000))).Message);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        Assert.Equal("An event id must be at most 255 characters; got 256.", Refused(() => TextRules.EventId(new string('e', 256))).Message);
        var control = Refused(() => TextRules.EventId("req\t1"));
        Assert.Equal(("An event id must not contain control characters.", (object?)"req\t1"), (control.Message, control.Target));
        Assert.Equal("The event id contains a NUL character, which cannot be stored.", Refused(() => TextRules.EventId("req\0")).Message);
    }

    [Fact]
    public void TextRefusals_SayTheLengthAndLimit_OrWhereTheTextIsNotUnicode()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("fr-FR");
            var longText = new string('t', TextRules.MaximumTextLength + 1);
            var tooLong = Refused(() => TextRules.Text(longText, "Endpoint", ErrorIds.InvalidArgument));
            // The target is the text shortened to 80 characters: a 2,049-character value would flood the error view.
            Assert.Equal(("Endpoint is 2,049 characters long; the limit is 2,048.", (object?)(new string('t', 80) + "…")), (tooLong.Message, tooLong.Target));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
        var nul = Refused(() => TextRules.Text("a\0b", "The endpoint", ErrorIds.InvalidArgument));
        Assert.Equal(("The endpoint contains a NUL character, which cannot be stored.", (object?)"a\0b"), (nul.Message, nul.Target));
        // Built at run time: attribute strings cannot carry a lone surrogate intact. Position 4 counts UTF-16 units from 0.
        var lone = "bad " + '\ud800' + " x";
        Assert.Equal("The endpoint is not valid Unicode text (it has an unpaired surrogate at position 4).",
            Refused(() => TextRules.Text(lone, "The endpoint", ErrorIds.InvalidArgument)).Message);
        // After a well-formed pair (two units), the position still counts both of its units.
        var afterPair = "\ud83d\ude00" + '\udc00';
        Assert.Equal("The endpoint is not valid Unicode text (it has an unpaired surrogate at position 2).",
            Refused(() => TextRules.Text(afterPair, "The endpoint", ErrorIds.InvalidArgument)).Message);
    }

    [Theory]
    [InlineData("1234567890123456789012345678", "1234567890123456789012345678")]     // 28 digits: all an exact decimal holds
    [InlineData("0.1234567890123456789012345678", "0.1234567890123456789012345678")] // leading zeros are not significant
    [InlineData("0000000000000000000000000000001.5", "1.5")]
    [InlineData("-000.5", "-0.5")]
    public void ANumberOfUpTo28SignificantDigits_IsReadExactly(string text, string expected)
    {
        Assert.True(PlainNumbers.TryParse(text, allowExponent: false, out var value));
        Assert.Equal(expected, value.ToString(CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("12345678901234567890123456789")]      // 29 digits would be rounded
    [InlineData("1.2345678901234567890123456789")]
    [InlineData("1e+")]
    [InlineData("1e-")]
    [InlineData("1e3.5")]
    [InlineData("1-")]
    [InlineData(null)]
    public void TextBeyondTheRule_IsNotANumber(string? text)
    {
        Assert.False(PlainNumbers.TryParse(text, allowExponent: true, out var value));
        Assert.Equal(0m, value);
    }

    [Theory]
    [InlineData("1,000,000")]   // two commas: neither reading is sure
    [InlineData("1,000.5")]     // a comma and a point: a thousands separator, refused without a guess
    [InlineData("a,b")]         // not a number either way
    [InlineData("5")]
    [InlineData("1,5e3")]       // a decimal comma with an exponent: money and counts take no exponent, so no reading
    [InlineData(",500")]        // a leading comma: '.500' is not a plain number either
    public void Suggest_GivesTheGeneralExample_WhenACommaCannotBeReadOneWay(string text) =>
        Assert.Equal("EXAMPLE", PlainNumbers.Suggest(text, "EXAMPLE"));

    [Theory]
    [InlineData(" 12,3456 ", "12.3456")]
    [InlineData("12,30", "12.30")]
    [InlineData("-1,500", "-1.500 (if the comma is a decimal comma) or -1500 (if it separates thousands)")]
    public void Suggest_ReadsASingleDecimalComma_AndOffersBothReadingsOfThreeDigitsAfterIt(string text, string expected) =>
        Assert.Equal(expected, PlainNumbers.Suggest(text, "EXAMPLE"));

    [Fact]
    public void ADoubleOrFloatFrom7Point9e28Up_InEitherSign_HasNoDecimal()
    {
        // decimal holds up to about 7.92e28; the rule stops at 7.9e28, below it.
        Assert.Null(PlainNumbers.FromDouble(7.9e28));
        Assert.Null(PlainNumbers.FromDouble(-7.9e28));
        Assert.Null(PlainNumbers.FromDouble(-1e29));
        Assert.Equal(78_000_000_000_000_000_000_000_000_000m, PlainNumbers.FromDouble(7.8e28));
        Assert.Equal(-78_000_000_000_000_000_000_000_000_000m, PlainNumbers.FromDouble(-7.8e28));
        Assert.Null(PlainNumbers.FromSingle(7.9e28f));
        Assert.Null(PlainNumbers.FromSingle(-1e29f));
        Assert.Null(PlainNumbers.FromSingle(float.PositiveInfinity));
        Assert.Null(PlainNumbers.FromSingle(float.NegativeInfinity));
        Assert.Equal(-2.5m, PlainNumbers.FromSingle(-2.5f));
        Assert.Equal(1e20m, PlainNumbers.FromSingle(1e20f));
    }

    [Fact]
    public void CurrencyRefusal_QuotesTheCode_AndNamesTheStandardWithExamples()
    {
        var error = Refused(() => NSelf.Usage.Engine.Billing.Money.Currency("US$"));
        Assert.Equal((ErrorIds.InvalidArgument, "'US$' is not an ISO 4217 currency code such as USD or EUR.", (object?)"US$"), (error.ErrorId, error.Message, error.Target));
    }
}
