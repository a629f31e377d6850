using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Billing;

/// <summary>The rules for what a seller or buyer is printed with: addresses, regions, tax ids, locales, e-mail and logos.</summary>
public static partial class PartyDetails
{
    public const int MaximumLogoBytes = 1024 * 1024;

    [GeneratedRegex(@"^[A-Z0-9]{1,3}$", RegexOptions.CultureInvariant)]
    private static partial Regex RegionPattern();

    // Letters and digits with the separators tax ids are written with (DE 123 456 789, 12-3456789).
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9 ./-]{1,48}[A-Za-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex TaxIdPattern();

    /// <summary>A region as its ISO 3166-2 subdivision code (CA, or US-CA for a US buyer), upper case, without the country.</summary>
    public static string Region(string value, string? country)
    {
        var code = value.Trim().ToUpperInvariant();
        if (country is not null && code.StartsWith(country + "-", StringComparison.Ordinal))
            code = code[(country.Length + 1)..];
        if (!RegionPattern().IsMatch(code))
            throw new UsageException(ErrorIds.InvalidRegion, UsageErrorKind.InvalidArgument,
                $"The region '{value}' is not a subdivision code; give the ISO 3166-2 code, such as CA (or US-CA) for California or BY for Bavaria.", value);
        return code;
    }

    public static string TaxId(string value)
    {
        var id = value.Trim();
        if (!TaxIdPattern().IsMatch(id))
            throw new UsageException(ErrorIds.InvalidTaxId, UsageErrorKind.InvalidArgument,
                $"The tax id '{TextRules.Text(value, "The tax id", ErrorIds.InvalidTaxId, 200)}' is not one: give 3 to 50 letters and digits (spaces, dots, slashes and dashes may separate them), such as FR40303265045.", value);
        return id;
    }

    /// <summary>A locale's culture name as .NET spells it (de-DE); the invariant culture and names no culture has are refused.</summary>
    public static string Locale(string value)
    {
        try
        {
            var culture = CultureInfo.GetCultureInfo(value.Trim(), predefinedOnly: true);
            if (culture.Name.Length > 0)
                return culture.Name;
        }
        catch (CultureNotFoundException)
        {
        }
        throw new UsageException(ErrorIds.InvalidLocale, UsageErrorKind.InvalidArgument,
            $"The locale '{value}' is not a culture name; give one such as en-US, en-GB, de-DE or fr-FR.", value);
    }

    public static string Email(string value, string what)
    {
        var address = value.Trim();
        var at = address.IndexOf('@', StringComparison.Ordinal);
        if (at <= 0 || at != address.LastIndexOf('@') || at == address.Length - 1 || address.Any(char.IsWhiteSpace) || address.Length > 255)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"{what} '{value}' is not an e-mail address.", value);
        return address;
    }

    /// <summary>Multi-line text (an address, payment instructions) with its line ends made \n and its lines trimmed.</summary>
    public static string Lines(string value, string what, int maximumLength)
    {
        TextRules.Text(value, what, ErrorIds.InvalidArgument, maximumLength);
        var lines = value.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').Select(l => l.Trim());
        return string.Join('\n', lines).Trim('\n');
    }

    /// <summary>
    /// The media type of a logo (image/png or image/jpeg), checked to be a whole image of that kind:
    /// a file that only starts like one (cut short, or renamed) would break every invoice it is on.
    /// </summary>
    public static string LogoType(ReadOnlySpan<byte> image, string source)
    {
        if (image.Length > MaximumLogoBytes)
            throw BadLogo(source, string.Create(CultureInfo.InvariantCulture, $"it is {image.Length:N0} bytes; the limit is {MaximumLogoBytes:N0}"));
        if (IsPng(image))
            return "image/png";
        if (IsJpeg(image))
            return "image/jpeg";
        throw BadLogo(source, "it is not a whole PNG or JPEG image");
    }

    private static UsageException BadLogo(string source, string why) =>
        new(ErrorIds.InvalidLogo, UsageErrorKind.InvalidData, $"The logo {source} cannot be used: {why}.", source);

    // The signature, then chunks (length, type, data, CRC) from IHDR to IEND with nothing after.
    private static bool IsPng(ReadOnlySpan<byte> image)
    {
        ReadOnlySpan<byte> signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        if (!image.StartsWith(signature))
            return false;
        var at = signature.Length;
        var first = true;
        while (at + 12 <= image.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(image[at..]);
            // Stryker disable once Equality,Arithmetic : equivalent, a chunk of int.MaxValue bytes, or one a few bytes past the end, leaves the loop with no IEND found just the same
            if (length > int.MaxValue || at + 12 + (long)length > image.Length)
                return false;
            var type = image.Slice(at + 4, 4);
            if (first && !type.SequenceEqual("IHDR"u8))
                return false;
            first = false;
            at += 12 + (int)length;
            if (type.SequenceEqual("IEND"u8))
                return at == image.Length;
        }
        return false;
    }

    // The start-of-image marker first, a start of scan (the picture) between, and the end-of-image marker last.
    private static bool IsJpeg(ReadOnlySpan<byte> image) =>
        image.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) && image.EndsWith((ReadOnlySpan<byte>)[0xFF, 0xD9])
        && image[2..^2].IndexOf((ReadOnlySpan<byte>)[0xFF, 0xDA]) >= 0;
}

/// <summary>Fields of the seller's profile to set; null leaves a field as it is.</summary>
public sealed record ProfileChange(
    string? LegalName = null,
    string? Address = null,
    string? Country = null,
    string? TaxId = null,
    string? Email = null,
    string? Website = null,
    byte[]? Logo = null,
    string? LogoType = null,
    string? PaymentInstructions = null,
    string? InvoicePrefix = null,
    string? Locale = null,
    bool? ReverseCharge = null)
{
    /// <summary>The profile's fields that can be emptied (Set-BillingProfile -Clear), by their parameter names.</summary>
    public static readonly IReadOnlyList<string> Clearable =
        ["Address", "TaxId", "Email", "Website", "Logo", "PaymentInstructions", "Locale", "SmtpServer", "SmtpPort", "SmtpUseTls", "SmtpCredential", "SmtpCertificateSha256"];

    public string? SmtpServer { get; init; }
    public int? SmtpPort { get; init; }
    public bool? SmtpUseTls { get; init; }
    /// <summary>The login and password; its ToString leaves the password out.</summary>
    public Exports.SmtpCredential? SmtpCredential { get; init; }
    public string? SmtpCertificateSha256 { get; init; }

    public IReadOnlySet<string> Cleared { get; init; } = new HashSet<string>();
}

/// <summary>The seller's and buyer's details as given to Set-BillingProfile and New-/Set-BillingCustomer, checked.</summary>
public static class PartyEdits
{
    /// <summary>A given value checked by its rule; null when not given. A given but empty value is refused, never taken as "leave it".</summary>
    public static string? Check(string? value, string what, string errorId, Func<string, string> rule)
    {
        if (value is null)
            return null;
        if (string.IsNullOrWhiteSpace(value))
            throw new UsageException(errorId, UsageErrorKind.InvalidArgument, $"{what} is empty: give a value, or leave the parameter out.", value);
        return rule(value);
    }

    public static string? Line(string? value, string what, int maximumLength = 255) =>
        Check(value, what, ErrorIds.InvalidArgument, v => Ingestion.TextRules.Text(v.Trim(), what, ErrorIds.InvalidArgument, maximumLength));

    /// <summary>The seller's profile change from what the command was given (null: not given).</summary>
    public static ProfileChange Profile(string? legalName, string? address, string? country, string? taxId, string? email, string? website,
        (byte[] Image, string Source)? logo, string? paymentInstructions, string? invoicePrefix, string? locale, bool? reverseCharge, BillingProfile? current)
    {
        var seller = Check(country, "The country", ErrorIds.InvalidCountry, v => Countries.Code(v, "The country"));
        var change = new ProfileChange(
            LegalName: Line(legalName, "The legal name"),
            Address: Check(address, "The address", ErrorIds.InvalidArgument, v => PartyDetails.Lines(v, "The address", 1000)),
            Country: seller,
            TaxId: Check(taxId, "The tax id", ErrorIds.InvalidTaxId, PartyDetails.TaxId),
            Email: Check(email, "The e-mail address", ErrorIds.InvalidArgument, v => PartyDetails.Email(v, "The e-mail address")),
            Website: Line(website, "The website"),
            Logo: logo?.Image,
            LogoType: logo is { } l ? PartyDetails.LogoType(l.Image, l.Source) : null,
            PaymentInstructions: Check(paymentInstructions, "The payment instructions", ErrorIds.InvalidArgument, v => PartyDetails.Lines(v, "The payment instructions", 2000)),
            InvoicePrefix: invoicePrefix is null ? null : InvoiceNumbering.Prefix(invoicePrefix),
            Locale: Check(locale, "The locale", ErrorIds.InvalidLocale, PartyDetails.Locale),
            ReverseCharge: reverseCharge);
        // Reverse charge works within a tax union: a seller outside one cannot use it, set now
        // or kept from before while the country changes.
        var sellerCountry = seller ?? current?.Country;
        if ((reverseCharge ?? current?.ReverseCharge) == true && Countries.TaxUnion(sellerCountry) is null)
            throw new UsageException(ErrorIds.InvalidCountry, UsageErrorKind.InvalidArgument,
                sellerCountry is null
                    ? "Reverse charge needs the seller's country: give -Country too."
                    : $"Reverse charge applies between countries of a tax union (the EU), and {sellerCountry} is in none the module knows.", sellerCountry);
        // (Turning reverse charge off with a country outside any union is allowed: -ReverseCharge:$false.)
        return change;
    }

    /// <summary>The SMTP settings of a profile change, checked (null: not given).</summary>
    public static ProfileChange WithSmtp(ProfileChange change, string? server, int? port, bool? useTls, (string UserName, string Password)? credential, string? certificateSha256) =>
        change with
        {
            SmtpServer = Check(server, "The SMTP server", ErrorIds.InvalidArgument, Exports.SmtpRules.Server),
            SmtpPort = port is { } p ? Exports.SmtpRules.Port(p) : null,
            SmtpUseTls = useTls,
            SmtpCredential = credential is { } c ? Exports.SmtpRules.Credential(c.UserName, c.Password) : null,
            SmtpCertificateSha256 = Check(certificateSha256, "The SMTP certificate fingerprint", ErrorIds.InvalidArgument, Exports.SmtpRules.CertificateSha256),
        };

    /// <summary>The buyer's details of a customer change (null: not given); the region is read in the buyer's country.</summary>
    public static (string? Address, string? Country, string? Region, string? TaxId, string? Locale, string? InvoiceEmail) Buyer(
        string? address, string? country, string? region, string? taxId, string? locale, string? invoiceEmail, string? currentCountry)
    {
        var buyer = Check(country, "The country", ErrorIds.InvalidCountry, v => Countries.Code(v, "The country"));
        return (
            Check(address, "The address", ErrorIds.InvalidArgument, v => PartyDetails.Lines(v, "The address", 1000)),
            buyer,
            Check(region, "The region", ErrorIds.InvalidRegion, v => PartyDetails.Region(v, buyer ?? currentCountry)),
            Check(taxId, "The tax id", ErrorIds.InvalidTaxId, PartyDetails.TaxId),
            Check(locale, "The locale", ErrorIds.InvalidLocale, PartyDetails.Locale),
            Check(invoiceEmail, "The invoice e-mail address", ErrorIds.InvalidArgument, v => PartyDetails.Email(v, "The invoice e-mail address")));
    }

    /// <summary>
    /// The fields a change empties, checked: each must be one that can be emptied, and not also
    /// given a value in the same change (which of the two was meant cannot be guessed).
    /// </summary>
    public static IReadOnlySet<string> Cleared(IEnumerable<string>? clear, IReadOnlyList<string> clearable, IEnumerable<string> given)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var set = given.ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var name in clear ?? [])
        {
            var field = clearable.FirstOrDefault(c => string.Equals(c, name?.Trim(), StringComparison.OrdinalIgnoreCase))
                ?? throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    $"-Clear '{name}' is not a field that can be emptied; those are {string.Join(", ", clearable)}.", name);
            if (set.Contains(field))
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    $"-{field} is given a value and named in -Clear; give one or the other.", field);
            names.Add(field);
        }
        return names;
    }

    /// <summary>
    /// A region belongs to its country: a buyer moved to another country without a region given
    /// loses the old one (California is not a region of France).
    /// </summary>
    public static IReadOnlySet<string> RegionOfAnotherCountry(IReadOnlySet<string> cleared, string? currentCountry, string? currentRegion, string? newCountry, bool regionGiven)
    {
        if (regionGiven || currentRegion is null || newCountry is null || string.Equals(Countries.Code(newCountry, "The country"), currentCountry, StringComparison.Ordinal))
            return cleared;
        return new HashSet<string>(cleared, StringComparer.Ordinal) { "Region" };
    }

    /// <summary>A tax rate as given: 0 to 100 percent, at most four decimal places (what the stores keep).</summary>
    public static decimal TaxRate(decimal rate, object? given)
    {
        if (rate < 0 || rate > 100 || decimal.Round(rate, 4) != rate)
            throw new UsageException(ErrorIds.InvalidTaxRate, UsageErrorKind.InvalidArgument,
                $"The tax rate {given} is not a percentage from 0 to 100 with at most four decimal places (19 is 19 %).", given);
        return rate;
    }

    public static string TaxName(string? name) =>
        Check(name, "The tax name", ErrorIds.InvalidTaxRate, v => Ingestion.TextRules.Text(v.Trim(), "The tax name", ErrorIds.InvalidTaxRate, 50))
        ?? throw new UsageException(ErrorIds.InvalidTaxRate, UsageErrorKind.InvalidArgument, "The tax name is missing: give -Name, such as VAT.", name);
}
