using System.Globalization;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tests.Billing;

/// <summary>Issue 18: the rules of tax by place, invoice numbers and the seller's and buyer's details, each held by name.</summary>
public sealed class SendableInvoiceRuleTests
{
    private static BillingProfile Seller(string? country = "DE", bool reverseCharge = true) =>
        new() { LegalName = "Beispiel GmbH", Country = country, InvoicePrefix = "BSP-", ReverseCharge = reverseCharge };

    private static BillingCustomer Buyer(string? country, string? taxId = null, string? region = null, bool exempt = false) => new()
    {
        CustomerId = "cus_x", ProjectName = "x", Metadata = "{}", CreatedAt = DateTimeOffset.UnixEpoch, UpdatedAt = DateTimeOffset.UnixEpoch,
        Country = country, TaxId = taxId, Region = region, TaxExempt = exempt,
    };

    private static BillingTaxRate Rate(string country, string? region, string name, decimal rate) =>
        new() { Country = country, Region = region, Name = name, Rate = rate, UpdatedAt = DateTimeOffset.UnixEpoch };

    private static readonly IReadOnlyList<BillingTaxRate> Rates =
    [
        Rate("DE", null, "USt.", 19m), Rate("FR", null, "TVA", 20m), Rate("US", null, "Sales tax", 0m), Rate("US", "CA", "CA sales tax", 7.25m),
    ];

    [Theory]
    // A business in another EU country, seller set up for it: reverse charge, named as the buyer's place names the tax.
    [InlineData("DE", true, "FR", "FR40303265045", null, false, TaxTreatment.ReverseCharge, "TVA", "0")]
    // The same buyer without a tax id is a consumer: the French rate.
    [InlineData("DE", true, "FR", null, null, false, TaxTreatment.Standard, "TVA", "20")]
    // An empty tax id is no tax id.
    [InlineData("DE", true, "FR", "", null, false, TaxTreatment.Standard, "TVA", "20")]
    // A business in the seller's own country pays the seller's country's tax.
    [InlineData("DE", true, "DE", "DE999999999", null, false, TaxTreatment.Standard, "USt.", "19")]
    // The seller not set up for reverse charge charges the buyer's place's rate.
    [InlineData("DE", false, "FR", "FR40303265045", null, false, TaxTreatment.Standard, "TVA", "20")]
    // Outside the seller's tax union there is no reverse charge: the place's rate.
    [InlineData("DE", true, "US", "12-3456789", "CA", false, TaxTreatment.Standard, "CA sales tax", "7.25")]
    // A seller outside any union reverse charges nobody.
    [InlineData("US", true, "FR", "FR40303265045", null, false, TaxTreatment.Standard, "TVA", "20")]
    // A seller without a country reverse charges nobody.
    [InlineData(null, true, "FR", "FR40303265045", null, false, TaxTreatment.Standard, "TVA", "20")]
    // The region's rate wins over the country's; an unknown region falls back to the country's.
    [InlineData("DE", true, "US", null, "CA", false, TaxTreatment.Standard, "CA sales tax", "7.25")]
    [InlineData("DE", true, "US", null, "NY", false, TaxTreatment.Standard, "Sales tax", "0")]
    // A place without a rate is taxed at BILLING_TAX_RATE, named Tax.
    [InlineData("DE", true, "JP", null, null, false, TaxTreatment.Standard, "Tax", "8.25")]
    [InlineData("DE", true, null, null, null, false, TaxTreatment.Standard, "Tax", "8.25")]
    // Exempt beats everything, reverse charge included; it is named by the buyer's place, else the seller's.
    [InlineData("DE", true, "FR", "FR40303265045", null, true, TaxTreatment.Exempt, "TVA", "0")]
    [InlineData("DE", true, "JP", null, null, true, TaxTreatment.Exempt, "USt.", "0")]
    [InlineData("JP", true, "JP", null, null, true, TaxTreatment.Exempt, "Tax", "0")]
    // Reverse charge to a place without a rate is named by the seller's country's tax.
    [InlineData("DE", true, "AT", "ATU12345678", null, false, TaxTreatment.ReverseCharge, "USt.", "0")]
    public void Tax_FollowsTheBuyersPlaceAndStatus(string? sellerCountry, bool reverseCharge, string? buyerCountry, string? taxId, string? region, bool exempt,
        TaxTreatment treatment, string name, string rate)
    {
        var decision = TaxPlaces.Decide(Seller(sellerCountry, reverseCharge), Buyer(buyerCountry, taxId, region, exempt), Rates, 8.25m);
        Assert.Equal((treatment, name, decimal.Parse(rate, CultureInfo.InvariantCulture)), (decision.Treatment, decision.Name, decision.Rate));
    }

    [Fact]
    public void Tax_WithoutSellerOrBuyer_IsTheFallbackRate()
    {
        Assert.Equal(new TaxDecision(TaxTreatment.Standard, "Tax", 5m), TaxPlaces.Decide(null, null, Rates, 5m));
        Assert.False(TaxPlaces.IsReverseCharged(Seller(), null));
        Assert.False(TaxPlaces.IsReverseCharged(null, Buyer("FR", "FR40303265045")));
    }

    [Theory]
    [InlineData("100.00", "19", "EUR", "19.00")]
    [InlineData("0.05", "19", "EUR", "0.01")]      // 0.0095 rounds half away from zero... to 0.01
    [InlineData("0.02", "25", "EUR", "0.01")]      // 0.005 exactly: away from zero
    [InlineData("0.01", "19", "EUR", "0.00")]      // 0.0019
    [InlineData("1000", "8.875", "JPY", "89")]     // 88.75 to whole yen
    [InlineData("10.000", "7.5", "KWD", "0.750")]
    [InlineData("-10.00", "19", "EUR", "-1.90")]
    public void Tax_IsTheRoundedSubtotalTaxed_RoundedOnceToTheMinorUnit(string subtotal, string rate, string currency, string tax) =>
        Assert.Equal(decimal.Parse(tax, CultureInfo.InvariantCulture),
            TaxPlaces.Tax(decimal.Parse(subtotal, CultureInfo.InvariantCulture), decimal.Parse(rate, CultureInfo.InvariantCulture), currency));

    [Fact]
    public void Notes_SayWhyNoTaxIsCharged_AndATaxedInvoiceHasNone()
    {
        Assert.Equal("Reverse charge: the customer accounts for the VAT (Article 196, Council Directive 2006/112/EC).", Exports.InvoiceWords.English.TaxNote(TaxTreatment.ReverseCharge, "VAT"));
        Assert.Equal("Exempt from VAT: the customer is tax exempt.", Exports.InvoiceWords.English.TaxNote(TaxTreatment.Exempt, "VAT"));
        Assert.Null(Exports.InvoiceWords.English.TaxNote(TaxTreatment.Standard, "VAT"));
    }

    [Theory]
    [InlineData("de", "DE")]
    [InlineData(" fr ", "FR")]
    [InlineData("US", "US")]
    [InlineData("ZW", "ZW")]
    [InlineData("AD", "AD")]
    public void Country_IsAnAssignedCode_InUpperCase(string given, string code) => Assert.Equal(code, Countries.Code(given, "The country"));

    [Theory]
    [InlineData("XX")]
    [InlineData("DEU")]
    [InlineData("D")]
    [InlineData("EU")]   // a union, not a country
    [InlineData("UK")]   // reserved, not assigned: GB is the United Kingdom
    [InlineData("")]
    [InlineData(null)]
    public void Country_ThatIsNotAnAssignedCode_IsInvalidCountry(string? given)
    {
        var e = Assert.Throws<UsageException>(() => Countries.Code(given, "The country"));
        Assert.Equal((ErrorIds.InvalidCountry, UsageErrorKind.InvalidArgument), (e.ErrorId, e.Kind));
        Assert.Contains("ISO 3166-1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Countries_Are249_AndTheEuropeanUnionIsTheOneTaxUnion()
    {
        Assert.Equal(249, Countries.Count);
        var members = new[] { "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK" };
        Assert.All(members, m => Assert.Equal("EU", Countries.TaxUnion(m)));
        Assert.All(new[] { "GB", "CH", "NO", "US", "IS", "LI" }, c => Assert.Null(Countries.TaxUnion(c)));
        Assert.Null(Countries.TaxUnion(null));
        Assert.Equal(new[] { "DE", "DJ", "DK", "DM", "DO", "DZ" }, Countries.StartingWith("d"));
    }

    [Theory]
    [InlineData("ca", "US", "CA")]
    [InlineData("US-CA", "US", "CA")]
    [InlineData(" by ", "DE", "BY")]
    [InlineData("75", "FR", "75")]
    [InlineData("FR-75", "FR", "75")]
    [InlineData("NSW", null, "NSW")]
    [InlineData("USC", "US", "USC")]   // starts like the country, without its dash: a code of its own
    public void Region_IsTheSubdivisionCode_WithoutItsCountry(string given, string? country, string expected) =>
        Assert.Equal(expected, PartyDetails.Region(given, country));

    [Theory]
    [InlineData("US-CA", "DE")]   // another country's subdivision
    [InlineData("CALI", "US")]
    [InlineData("C A", "US")]
    [InlineData("US-", "US")]
    public void Region_ThatIsNotACode_IsInvalidRegion(string given, string? country) =>
        Assert.Equal(ErrorIds.InvalidRegion, Assert.Throws<UsageException>(() => PartyDetails.Region(given, country)).ErrorId);

    [Theory]
    [InlineData("FR40303265045", "FR40303265045")]
    [InlineData(" DE 123 456 789 ", "DE 123 456 789")]
    [InlineData("12-3456789", "12-3456789")]
    [InlineData("ABC", "ABC")]
    public void TaxId_IsKeptAsWritten_Trimmed(string given, string expected) => Assert.Equal(expected, PartyDetails.TaxId(given));

    [Theory]
    [InlineData("AB")]
    [InlineData("FR4030326504!")]
    [InlineData("-FR403")]
    [InlineData("FR403-")]
    [InlineData("FR4030326504512345678901234567890123456789012345678")] // 51 characters
    public void TaxId_ThatCannotBeOne_IsInvalidTaxId(string given) =>
        Assert.Equal(ErrorIds.InvalidTaxId, Assert.Throws<UsageException>(() => PartyDetails.TaxId(given)).ErrorId);

    [Theory]
    [InlineData("de-de", "de-DE")]
    [InlineData("fr-FR", "fr-FR")]
    [InlineData(" en-GB ", "en-GB")]
    public void Locale_IsTheCultureName(string given, string expected) => Assert.Equal(expected, PartyDetails.Locale(given));

    [Theory]
    [InlineData("xx-YY-nonsense")]
    [InlineData("not a culture")]
    [InlineData("iv")]
    [InlineData("")]
    public void Locale_ThatIsNoCulture_IsInvalidLocale(string given) =>
        Assert.Equal(ErrorIds.InvalidLocale, Assert.Throws<UsageException>(() => PartyDetails.Locale(given)).ErrorId);

    [Theory]
    [InlineData("billing@example.com")]
    [InlineData(" a@b ")]
    public void Email_WithOneAtAndNoSpace_IsKept(string given) => Assert.Equal(given.Trim(), PartyDetails.Email(given, "The e-mail address"));

    [Theory]
    [InlineData("billing")]
    [InlineData("@example.com")]
    [InlineData("billing@")]
    [InlineData("a@b@c")]
    [InlineData("a b@c")]
    public void Email_ThatIsNotAnAddress_IsRefused(string given) =>
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => PartyDetails.Email(given, "The e-mail address")).ErrorId);

    [Fact]
    public void Messages_NameTheValue_AndSayWhatToGive()
    {
        string Message(Action act) => Assert.Throws<UsageException>(act).Message;
        Assert.Equal("The region 'CALI' is not a subdivision code; give the ISO 3166-2 code, such as CA (or US-CA) for California or BY for Bavaria.", Message(() => PartyDetails.Region("CALI", "US")));
        Assert.StartsWith("The tax id '!' is not one: give 3 to 50 letters and digits", Message(() => PartyDetails.TaxId("!")), StringComparison.Ordinal);
        // A tax id too long even to quote is refused by the text rule, named as a tax id.
        Assert.StartsWith("The tax id is 201 characters long", Message(() => PartyDetails.TaxId(new string('1', 201))), StringComparison.Ordinal);
        Assert.Equal("The locale 'xx-nonsense' is not a culture name; give one such as en-US, en-GB, de-DE or fr-FR.", Message(() => PartyDetails.Locale("xx-nonsense")));
        Assert.Equal("The e-mail address 'nobody' is not an e-mail address.", Message(() => PartyDetails.Email("nobody", "The e-mail address")));
        Assert.Equal("The logo logo.gif cannot be used: it is not a whole PNG or JPEG image.", Message(() => PartyDetails.LogoType("GIF89a"u8, "logo.gif")));
        Assert.StartsWith("The invoice prefix 'A B' is not usable: give 1 to 20 letters", Message(() => InvoiceNumbering.Prefix("A B")), StringComparison.Ordinal);
        Assert.Equal("The tax rate 101 is not a percentage from 0 to 100 with at most four decimal places (19 is 19 %).", Message(() => PartyEdits.TaxRate(101m, 101m)));
        Assert.Equal("The tax name is missing: give -Name, such as VAT.", Message(() => PartyEdits.TaxName(null)));
        Assert.Equal("The tax name is empty: give a value, or leave the parameter out.", Message(() => PartyEdits.TaxName(" ")));
        Assert.StartsWith("The tax name is 51 characters long", Message(() => PartyEdits.TaxName(new string('x', 51))), StringComparison.Ordinal);
        Assert.Equal("-Clear 'Name' is not a field that can be emptied; those are Address, Country, Region, TaxId, Locale, InvoiceEmail.",
            Message(() => PartyEdits.Cleared(["Name"], CustomerChange.Clearable, [])));
        Assert.Equal("-TaxId is given a value and named in -Clear; give one or the other.", Message(() => PartyEdits.Cleared(["taxid"], CustomerChange.Clearable, ["TaxId"])));
        Assert.StartsWith("The country 'XX' is not a country code", Message(() => PartyEdits.RegionOfAnotherCountry(new HashSet<string>(), "US", "CA", "XX", false)), StringComparison.Ordinal);
    }

    // Each field of a profile or buyer change is checked by its own rule and named in its error.
    [Theory]
    [InlineData("legalName", "The legal name is empty")]
    [InlineData("address", "The address is empty")]
    [InlineData("country", "The country is empty")]
    [InlineData("taxId", "The tax id is empty")]
    [InlineData("email", "The e-mail address is empty")]
    [InlineData("website", "The website is empty")]
    [InlineData("payment", "The payment instructions is empty")]
    [InlineData("locale", "The locale is empty")]
    public void ProfileChange_NamesTheEmptyField(string field, string message)
    {
        string? Given(string name) => name == field ? " " : null;
        var e = Assert.Throws<UsageException>(() => PartyEdits.Profile(Given("legalName"), Given("address"), Given("country"), Given("taxId"), Given("email"), Given("website"),
            null, Given("payment"), null, Given("locale"), null, null));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("address", "The address is empty")]
    [InlineData("country", "The country is empty")]
    [InlineData("region", "The region is empty")]
    [InlineData("taxId", "The tax id is empty")]
    [InlineData("locale", "The locale is empty")]
    [InlineData("invoiceEmail", "The invoice e-mail address is empty")]
    public void BuyerChange_NamesTheEmptyField(string field, string message)
    {
        string? Given(string name) => name == field ? "" : null;
        var e = Assert.Throws<UsageException>(() => PartyEdits.Buyer(Given("address"), Given("country"), Given("region"), Given("taxId"), Given("locale"), Given("invoiceEmail"), null));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("address", "The address is 1,001 characters long")]
    [InlineData("payment", "The payment instructions is 2,001 characters long")]
    [InlineData("legalName", "The legal name is 256 characters long")]
    [InlineData("website", "The website is 256 characters long")]
    [InlineData("email", "The e-mail address '")]
    [InlineData("country", "The country '")]
    public void ProfileChange_NamesTheFieldThatIsTooLongOrWrong(string field, string message)
    {
        var longText = new string('x', field switch { "address" => 1001, "payment" => 2001, _ => 256 });
        string? Given(string name) => name == field ? longText : null;
        var e = Assert.Throws<UsageException>(() => PartyEdits.Profile(Given("legalName"), Given("address"), Given("country"), null, Given("email"), Given("website"),
            null, Given("payment"), null, null, null, null));
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
        Assert.Equal("The invoice e-mail address 'x' is not an e-mail address.", Assert.Throws<UsageException>(() => PartyEdits.Buyer(null, null, null, null, null, "x", null)).Message);
        Assert.Equal("The country 'XX' is not a country code; give the two-letter ISO 3166-1 code, such as DE, FR or US.",
            Assert.Throws<UsageException>(() => PartyEdits.Buyer(null, "XX", null, null, null, null, null)).Message);
    }

    [Fact]
    public void ReverseCharge_Refusal_NamesTheCountryGivenOrKept()
    {
        var given = Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, true, null));
        Assert.Equal(("Reverse charge applies between countries of a tax union (the EU), and US is in none the module knows.", "US"), (given.Message, given.Target as string));
        var kept = Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, null, null, null, null, null, null, null, null, true, Seller("CH", reverseCharge: false)));
        Assert.Equal(("Reverse charge applies between countries of a tax union (the EU), and CH is in none the module knows.", "CH"), (kept.Message, kept.Target as string));
        var none = Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, null, null, null, null, null, null, null, null, true, null));
        Assert.Equal("Reverse charge needs the seller's country: give -Country too.", none.Message);
    }

    [Fact]
    public void Clearable_ProfileFields_AreTheOptionalOnes()
    {
        Assert.Equal(new[] { "Address", "TaxId", "Email", "Website", "Logo", "PaymentInstructions", "Locale",
            "SmtpServer", "SmtpPort", "SmtpUseTls", "SmtpCredential", "SmtpCertificateSha256" }, ProfileChange.Clearable);
        Assert.Equal(new[] { "Address", "Country", "Region", "TaxId", "Locale", "InvoiceEmail" }, CustomerChange.Clearable);
    }

    [Fact]
    public void Email_Of255Characters_IsKept_256Refused()
    {
        var longest = new string('a', 253) + "@b";
        Assert.Equal(longest, PartyDetails.Email(longest, "The e-mail address"));
        Assert.Throws<UsageException>(() => PartyDetails.Email("a" + longest, "The e-mail address"));
    }

    [Fact]
    public void Logo_OfExactlyOneMegabyte_IsKept()
    {
        // The PNG with a private ancillary chunk before IEND filling it to exactly 1 MB.
        var filler = PartyDetails.MaximumLogoBytes - Png.Length - 12;
        var chunk = new byte[12 + filler];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(chunk, (uint)filler);
        "prVt"u8.CopyTo(chunk.AsSpan(4));
        byte[] image = [.. Png[..^12], .. chunk, .. Png[^12..]];
        Assert.Equal(PartyDetails.MaximumLogoBytes, image.Length);
        Assert.Equal("image/png", PartyDetails.LogoType(image, "big.png"));
    }

    [Fact]
    public void Lines_AreTrimmed_WithNewLinesOnly()
    {
        Assert.Equal("Musterstraße 1\n10115 Berlin", PartyDetails.Lines("  Musterstraße 1  \r\n 10115 Berlin\n", "The address", 100));
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => PartyDetails.Lines(new string('x', 101), "The address", 100)).ErrorId);
    }

    private static readonly byte[] Png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==");

    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0xFF, 0xD9];

    [Fact]
    public void Logo_IsAWholePngOrJpeg()
    {
        Assert.Equal("image/png", PartyDetails.LogoType(Png, "logo.png"));
        Assert.Equal("image/jpeg", PartyDetails.LogoType(Jpeg, "logo.jpg"));
        // The scan may follow the start-of-image marker at once.
        Assert.Equal("image/jpeg", PartyDetails.LogoType((byte[])[0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0xFF, 0xD9], "tiny.jpg"));
    }

    public static TheoryData<string, byte[]> NotImages => new()
    {
        { "text", "hello, I am not an image"u8.ToArray() },
        { "empty", [] },
        { "png cut short", Png[..^12] },
        { "png with bytes after IEND", [.. Png, 0x00] },
        { "png without IHDR first", [.. Png[..8], .. Png[33..]] },
        { "png signature only", Png[..8] },
        { "png chunk longer than the file", [.. Png[..8], 0x7F, 0xFF, 0xFF, 0xFF, .. Png[12..]] },
        { "jpeg without its end", Jpeg[..^2] },
        { "jpeg ending FF only", [.. Jpeg[..^1], 0xD8] },
        { "jpeg start only", [0xFF, 0xD8, 0xFF] },
        { "jpeg start and end only", [0xFF, 0xD8, 0xFF, 0xD9] },
        { "jpeg without a scan", [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0xFF, 0xD9] },
        { "gif", "GIF89a\x01\x00\x01\x00"u8.ToArray() },
    };

    [Theory]
    [MemberData(nameof(NotImages))]
    public void Logo_ThatIsNotAWholeImage_IsInvalidLogo(string what, byte[] bytes)
    {
        var e = Assert.Throws<UsageException>(() => PartyDetails.LogoType(bytes, what));
        Assert.Equal((ErrorIds.InvalidLogo, UsageErrorKind.InvalidData), (e.ErrorId, e.Kind));
    }

    [Fact]
    public void Logo_OverOneMegabyte_IsInvalidLogo()
    {
        var big = new byte[PartyDetails.MaximumLogoBytes + 1];
        Png.CopyTo(big, 0);
        Assert.Contains("1,048,577 bytes", Assert.Throws<UsageException>(() => PartyDetails.LogoType(big, "big.png")).Message, StringComparison.Ordinal);
        Assert.Equal(1_048_576, PartyDetails.MaximumLogoBytes);
    }

    [Theory]
    [InlineData("INV-", 1, "INV-000001")]
    [InlineData("ACME-", 42, "ACME-000042")]
    [InlineData("2026/", 999_999, "2026/999999")]
    [InlineData("A", 1_234_567, "A1234567")]
    public void Number_IsThePrefixAndACounterOfAtLeastSixDigits(string prefix, long number, string expected) =>
        Assert.Equal(expected, InvoiceNumbering.Format(prefix, number));

    [Fact]
    public void Series_AreCountedPerKindAndPrefix() =>
        Assert.Equal(("invoice:ACME-", "credit_note:ACME-"), (InvoiceNumbering.Series("invoice", "ACME-"), InvoiceNumbering.Series("credit_note", "ACME-")));

    [Theory]
    [InlineData("ACME-")]
    [InlineData("2026/")]
    [InlineData("a.b_c")]
    [InlineData("X")]
    [InlineData("2026-")]
    [InlineData("ABCDEFGHIJKLMNOPQRST")] // 20
    public void Prefix_OfLettersDigitsAndSeparators_IsKept(string prefix) => Assert.Equal(prefix, InvoiceNumbering.Prefix(prefix));

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("-ACME")]
    [InlineData("AC ME")]
    [InlineData("ACME#")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTU")] // 21
    [InlineData("ACME-1")]  // with 1 it would be ACME-1000001, as ACME- is with 1,000,001
    [InlineData("2026")]
    [InlineData("7")]
    public void Prefix_ThatCannotStartANumber_IsRefused(string? prefix) =>
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => InvoiceNumbering.Prefix(prefix)).ErrorId);

    [Theory]
    [InlineData("0", true)]
    [InlineData("100", true)]
    [InlineData("8.875", true)]
    [InlineData("19.1234", true)]
    [InlineData("-0.0001", false)]
    [InlineData("100.0001", false)]
    [InlineData("19.12345", false)]
    public void TaxRate_IsAPercentageWithAtMostFourDecimals(string rate, bool valid)
    {
        var value = decimal.Parse(rate, CultureInfo.InvariantCulture);
        if (valid)
            Assert.Equal(value, PartyEdits.TaxRate(value, rate));
        else
            Assert.Equal(ErrorIds.InvalidTaxRate, Assert.Throws<UsageException>(() => PartyEdits.TaxRate(value, rate)).ErrorId);
    }

    [Fact]
    public void GivenButEmpty_IsRefused_NotTakenAsLeaveItAlone()
    {
        Assert.Null(PartyEdits.Check(null, "The country", ErrorIds.InvalidCountry, v => v));
        Assert.Equal(ErrorIds.InvalidCountry, Assert.Throws<UsageException>(() => PartyEdits.Check(" ", "The country", ErrorIds.InvalidCountry, v => v)).ErrorId);
        Assert.Equal(ErrorIds.InvalidTaxRate, Assert.Throws<UsageException>(() => PartyEdits.TaxName("")).ErrorId);
        Assert.Equal(ErrorIds.InvalidTaxRate, Assert.Throws<UsageException>(() => PartyEdits.TaxName(null)).ErrorId);
        Assert.Equal("VAT", PartyEdits.TaxName(" VAT "));
    }

    [Fact]
    public void ReverseCharge_NeedsASellerInATaxUnion()
    {
        Assert.True(PartyEdits.Profile(null, null, "DE", null, null, null, null, null, null, null, true, null).ReverseCharge);
        Assert.True(PartyEdits.Profile(null, null, null, null, null, null, null, null, null, null, true, Seller("AT")).ReverseCharge);
        Assert.Equal(ErrorIds.InvalidCountry, Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, true, null)).ErrorId);
        Assert.Equal(ErrorIds.InvalidCountry, Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, null, null, null, null, null, null, null, null, true, null)).ErrorId);
        // Turning it off needs no union.
        Assert.False(PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, false, null).ReverseCharge);
    }

    [Fact]
    public void ReverseCharge_KeptOn_RefusesACountryOutsideTheUnion()
    {
        Assert.Equal(ErrorIds.InvalidCountry, Assert.Throws<UsageException>(() => PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, null, Seller("DE", reverseCharge: true))).ErrorId);
        Assert.Equal("US", PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, null, Seller("DE", reverseCharge: false)).Country);
        Assert.Equal("US", PartyEdits.Profile(null, null, "US", null, null, null, null, null, null, null, false, Seller("DE", reverseCharge: true)).Country);
    }

    [Fact]
    public void Region_OfTheOldCountry_IsClearedWhenTheBuyerMoves()
    {
        var none = new HashSet<string>();
        Assert.Equal(new[] { "Region" }, PartyEdits.RegionOfAnotherCountry(none, "US", "CA", "fr", regionGiven: false));
        Assert.Empty(PartyEdits.RegionOfAnotherCountry(none, "US", "CA", "us", regionGiven: false));   // the same country
        Assert.Empty(PartyEdits.RegionOfAnotherCountry(none, "US", "CA", "FR", regionGiven: true));    // a region given with it
        Assert.Empty(PartyEdits.RegionOfAnotherCountry(none, "US", null, "FR", regionGiven: false));   // no region to lose
        Assert.Empty(PartyEdits.RegionOfAnotherCountry(none, "US", "CA", null, regionGiven: false));   // the country not changed
        Assert.Equal(new[] { "Region", "TaxId" }, PartyEdits.RegionOfAnotherCountry(new HashSet<string> { "TaxId" }, "US", "CA", "FR", false).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ProfileChange_ChecksEachGivenValue_AndLeavesTheOthersNull()
    {
        var change = PartyEdits.Profile(" Beispiel GmbH ", "Musterstraße 1\r\n10115 Berlin", "de", "DE123456789", "a@b.example", "https://beispiel.example",
            (Png, "logo.png"), "IBAN DE89 3704 0044 0532 0130 00", "BSP-", "de-de", null, null);
        Assert.Equal(("Beispiel GmbH", "Musterstraße 1\n10115 Berlin", "DE", "DE123456789", "a@b.example", "image/png", "BSP-", "de-DE", (bool?)null),
            (change.LegalName, change.Address, change.Country, change.TaxId, change.Email, change.LogoType, change.InvoicePrefix, change.Locale, change.ReverseCharge));
        var none = PartyEdits.Profile(null, null, null, null, null, null, null, null, null, null, null, null);
        Assert.Equal(new ProfileChange() with { Cleared = none.Cleared }, none);
        Assert.Empty(none.Cleared);
    }

    [Fact]
    public void Cleared_NamesClearableFields_NeverOneAlsoGiven()
    {
        Assert.Equal(new[] { "Region", "TaxId" }, PartyEdits.Cleared([" taxid", "REGION"], CustomerChange.Clearable, ["Name"]).Order(StringComparer.Ordinal));
        Assert.Empty(PartyEdits.Cleared(null, CustomerChange.Clearable, []));
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => PartyEdits.Cleared(["Name"], CustomerChange.Clearable, [])).ErrorId);
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => PartyEdits.Cleared(["TaxId"], CustomerChange.Clearable, ["taxid"])).ErrorId);
        Assert.Contains("Logo", ProfileChange.Clearable);
    }

    [Fact]
    public void BuyerChange_ReadsTheRegionInTheGivenOrCurrentCountry()
    {
        Assert.Equal(("US", "CA"), PartyEdits.Buyer(null, "us", "US-CA", null, null, null, null) is var b ? (b.Country, b.Region) : default);
        Assert.Equal(((string?)null, "CA"), PartyEdits.Buyer(null, null, "US-CA", null, null, null, "US") is var c ? (c.Country, c.Region) : default);
        Assert.Equal(ErrorIds.InvalidRegion, Assert.Throws<UsageException>(() => PartyEdits.Buyer(null, "DE", "US-CA", null, null, null, "US")).ErrorId);
    }
}
