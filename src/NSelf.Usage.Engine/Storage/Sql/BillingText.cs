using System.Globalization;
using System.Text.Json;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// How billing values are spelled in the database: nself's lower-case words for statuses and
/// modes, snake_case for our own enums, JSON for price tiers. Shared by every store.
/// </summary>
internal static class BillingText
{
    public static string Spell(QuotaEnforcement value) => value is QuotaEnforcement.Hard or QuotaEnforcement.Prepaid ? "hard" : "soft";

    public static QuotaEnforcement Enforcement(string text) =>
        text.Equals("prepaid", StringComparison.Ordinal) ? QuotaEnforcement.Prepaid
        : text.Equals("hard", StringComparison.OrdinalIgnoreCase) ? QuotaEnforcement.Hard : QuotaEnforcement.Soft;

    public static string Spell(QuotaResetPeriod value) => value.ToString().ToLowerInvariant();

    public static QuotaResetPeriod Reset(string? text) => text?.ToLowerInvariant() switch
    {
        "daily" => QuotaResetPeriod.Daily,
        "weekly" => QuotaResetPeriod.Weekly,
        _ => QuotaResetPeriod.Monthly,
    };

    public static string Spell(PricingModel value) => value switch
    {
        PricingModel.Graduated => "graduated",
        PricingModel.Volume => "volume",
        PricingModel.Package => "package",
        _ => "per_unit",
    };

    public static PricingModel Pricing(string? text) => text switch
    {
        "graduated" => PricingModel.Graduated,
        "volume" => PricingModel.Volume,
        "package" => PricingModel.Package,
        _ => PricingModel.PerUnit,
    };

    public static string Spell(SubscriptionStatus value) => value switch
    {
        SubscriptionStatus.PastDue => "past_due",
        _ => value.ToString().ToLowerInvariant(),
    };

    public static SubscriptionStatus Status(string text) => text switch
    {
        "trialing" => SubscriptionStatus.Trialing,
        "past_due" => SubscriptionStatus.PastDue,
        "canceled" => SubscriptionStatus.Canceled,
        "unpaid" => SubscriptionStatus.Unpaid,
        _ => SubscriptionStatus.Active,
    };

    public static string Spell(BillingCycle value) => value == BillingCycle.Yearly ? "yearly" : "monthly";

    public static BillingCycle Cycle(string text) => text == "yearly" ? BillingCycle.Yearly : BillingCycle.Monthly;

    public static string Spell(InvoiceStatus value) => value.ToString().ToLowerInvariant();

    public static InvoiceStatus Invoice(string text) => Enum.Parse<InvoiceStatus>(text, ignoreCase: true);

    public static string Spell(InvoiceLineKind value) => value switch
    {
        InvoiceLineKind.BaseFee => "base_fee",
        InvoiceLineKind.Adjustment => "adjustment",
        _ => "usage",
    };

    public static InvoiceLineKind LineKind(string text) => text switch
    {
        "base_fee" => InvoiceLineKind.BaseFee,
        "adjustment" => InvoiceLineKind.Adjustment,
        _ => InvoiceLineKind.Usage,
    };

    public static string Spell(QuotaLevel value) => value.ToString().ToLowerInvariant();

    // The ledger's kinds as stored: snake case, as nself's columns are.
    private static readonly (LedgerEntryKind Kind, string Text)[] LedgerKinds =
    [
        (LedgerEntryKind.Invoiced, "invoiced"), (LedgerEntryKind.CreditApplied, "credit_applied"), (LedgerEntryKind.CreditReturned, "credit_returned"),
        (LedgerEntryKind.Payment, "payment"), (LedgerEntryKind.CreditNote, "credit_note"), (LedgerEntryKind.Void, "void"),
        (LedgerEntryKind.Grant, "grant"), (LedgerEntryKind.GrantRemoved, "grant_removed"),
    ];

    public static string Spell(LedgerEntryKind value) => LedgerKinds.Single(k => k.Kind == value).Text;

    public static LedgerEntryKind LedgerKind(string text) => LedgerKinds.Single(k => k.Text == text).Kind;

    public static QuotaLevel Level(string text) => Enum.Parse<QuotaLevel>(text, ignoreCase: true);

    private sealed record TierJson(decimal? UpTo, decimal UnitPrice, decimal FlatFee);

    private sealed record TierAmountJson(decimal? UpTo, decimal Quantity, decimal UnitPrice, decimal FlatFee, decimal Amount);

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string? TiersJson(IReadOnlyList<PriceTier> tiers) =>
        tiers.Count == 0 ? null : JsonSerializer.Serialize(tiers.Select(t => new TierJson(t.UpTo, t.UnitPrice, t.FlatFee)), Json);

    public static IReadOnlyList<PriceTier> Tiers(string? json) =>
        string.IsNullOrEmpty(json) ? Array.Empty<PriceTier>()
        : JsonSerializer.Deserialize<List<TierJson>>(json, Json)!.Select(t => new PriceTier { UpTo = t.UpTo, UnitPrice = t.UnitPrice, FlatFee = t.FlatFee }).ToList();

    public static string? TierAmountsJson(IReadOnlyList<InvoiceTierAmount> tiers) =>
        tiers.Count == 0 ? null : JsonSerializer.Serialize(tiers.Select(t => new TierAmountJson(t.UpTo, t.Quantity, t.UnitPrice, t.FlatFee, t.Amount)), Json);

    public static IReadOnlyList<InvoiceTierAmount> TierAmounts(string? json) =>
        string.IsNullOrEmpty(json) ? Array.Empty<InvoiceTierAmount>()
        : JsonSerializer.Deserialize<List<TierAmountJson>>(json, Json)!.Select(t => new InvoiceTierAmount { UpTo = t.UpTo, Quantity = t.Quantity, UnitPrice = t.UnitPrice, FlatFee = t.FlatFee, Amount = t.Amount }).ToList();

    /// <summary>nself keeps the lines as a JSON array too (line_items); fill it so nself's tools see them.</summary>
    public static string LineItemsJson(IReadOnlyList<BillingInvoiceLine> lines) =>
        JsonSerializer.Serialize(lines.Select(l => new
        {
            line = l.LineNumber, kind = Spell(l.Kind), service = l.Service, description = l.Description, quantity = l.Quantity,
            included = l.Included, billable = l.Billable, unit = l.Unit, unit_price = l.UnitPrice, amount = l.Amount,
            period_start = l.PeriodStart.ToString("O", CultureInfo.InvariantCulture), period_end = l.PeriodEnd.ToString("O", CultureInfo.InvariantCulture),
            events = l.Events, events_hash = l.EventsHash,
        }));

    public static string Spell(TaxTreatment value) => value switch
    {
        TaxTreatment.ReverseCharge => "reverse_charge",
        TaxTreatment.Exempt => "exempt",
        _ => "standard",
    };

    // Invoices stored before treatments existed were taxed at BILLING_TAX_RATE: standard.
    public static TaxTreatment Treatment(string? text) => text switch
    {
        "reverse_charge" => TaxTreatment.ReverseCharge,
        "exempt" => TaxTreatment.Exempt,
        _ => TaxTreatment.Standard,
    };

    private sealed record PartyJson(string? Name, string? Attention, string? Address, string? Country, string? Region, string? TaxId, string? Email, string? Website, string? Locale,
        string? PaymentInstructions = null);

    /// <summary>The seller or buyer as an invoice keeps them.</summary>
    public static string? PartyJsonText(BillingParty? party) => party is null ? null : JsonSerializer.Serialize(
        new PartyJson(party.Name, party.Attention, party.Address, party.Country, party.Region, party.TaxId, party.Email, party.Website, party.Locale, party.PaymentInstructions), Json);

    public static BillingParty? Party(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return null;
        var p = JsonSerializer.Deserialize<PartyJson>(json, Json)!;
        return new BillingParty
        {
            Name = p.Name, Attention = p.Attention, Address = p.Address, Country = p.Country, Region = p.Region, TaxId = p.TaxId, Email = p.Email, Website = p.Website,
            Locale = p.Locale, PaymentInstructions = p.PaymentInstructions,
        };
    }

    /// <summary>The local anchor of a subscription, as stored ('yyyy-MM-ddTHH:mm:ss').</summary>
    public static string AnchorText(DateTime local) => local.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture);

    public static DateTime Anchor(string text) => DateTime.ParseExact(text, "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.None);

    public static string Decimal(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    public static decimal Decimal(string text) => decimal.Parse(text, NumberStyles.Number | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);

}
