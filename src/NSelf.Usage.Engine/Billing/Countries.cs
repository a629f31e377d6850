using System.Collections.Frozen;

namespace NSelf.Usage.Engine.Billing;

/// <summary>Country codes (ISO 3166-1 alpha-2) and the tax unions reverse charge works within.</summary>
public static class Countries
{
    // The 249 officially assigned codes. Kept here, not taken from RegionInfo: ICU's list differs
    // between machines and accepts names that are not ISO codes (a store read on two hosts must
    // agree on what is a country).
    private static readonly FrozenSet<string> Assigned = """
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
        CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
        GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP
        KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT
        MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
        SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
        UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);

    /// <summary>The European Union's 27 members: the one tax union the module knows.</summary>
    private static readonly FrozenSet<string> EuropeanUnion = """
        AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK
        """.Split((char[])[' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).ToFrozenSet(StringComparer.Ordinal);

    public static int Count => Assigned.Count;

    /// <summary>A country code in upper case; anything but an assigned code fails with InvalidCountry.</summary>
    public static string Code(string? value, string what)
    {
        var code = value?.Trim().ToUpperInvariant();
        if (code is null || !Assigned.Contains(code))
            throw new UsageException(ErrorIds.InvalidCountry, UsageErrorKind.InvalidArgument,
                $"{what} '{value}' is not a country code; give the two-letter ISO 3166-1 code, such as DE, FR or US.", value);
        return code;
    }

    /// <summary>The tax union a country belongs to (EU), or null.</summary>
    public static string? TaxUnion(string? country) => country is not null && EuropeanUnion.Contains(country) ? "EU" : null;

    /// <summary>Codes starting with a prefix, for tab completion.</summary>
    public static IEnumerable<string> StartingWith(string prefix) =>
        Assigned.Where(c => c.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal);
}
