namespace NSelf.Usage;

/// <summary>How a service's billable quantity becomes money.</summary>
public enum PricingModel
{
    /// <summary>Every billable unit at one price (nself's overage price).</summary>
    PerUnit,
    /// <summary>Each tier prices the units that fall inside it.</summary>
    Graduated,
    /// <summary>The tier the whole quantity reaches prices every unit.</summary>
    Volume,
    /// <summary>Units are sold in packages of a fixed size; a started package is a whole one.</summary>
    Package,
}

public enum QuotaEnforcement
{
    /// <summary>Usage past the limit is allowed and billed as overage.</summary>
    Soft,
    /// <summary>Usage past the limit is refused (Test-UsageQuota -Quiet answers $false).</summary>
    Hard,
    /// <summary>
    /// Usage past the limit (the allowance) is paid from prepaid credit: once the customer has none
    /// left (its balance in the plan's currency, less what this period's usage has cost so far), the
    /// quota is Exceeded and Test-UsageQuota -Quiet answers $false. Past the limit with credit left,
    /// the level is Critical.
    /// </summary>
    Prepaid,
}

public enum QuotaLevel
{
    Ok,
    Warning,
    Critical,
    Exceeded,
    Unlimited,
}

/// <summary>How often a quota's count starts again (nself's reset_period).</summary>
public enum QuotaResetPeriod
{
    Daily,
    Weekly,
    /// <summary>With the billing period (the calendar month when there is no subscription).</summary>
    Monthly,
}

public enum BillingCycle
{
    Monthly,
    Yearly,
}

public enum SubscriptionStatus
{
    Active,
    Trialing,
    PastDue,
    Canceled,
    Unpaid,
}

public enum InvoiceStatus
{
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}

public enum InvoiceLineKind
{
    BaseFee,
    Usage,
    /// <summary>Usage that arrived after an earlier invoice for its period was finalized.</summary>
    Adjustment,
}

/// <summary>One tier of graduated or volume pricing: units up to <see cref="UpTo"/> (null: no end).</summary>
public sealed class PriceTier
{
    public decimal? UpTo { get; init; }
    public required decimal UnitPrice { get; init; }
    /// <summary>Charged once when any unit falls in (graduated) or reaches (volume) this tier.</summary>
    public decimal FlatFee { get; init; }

    public override string ToString() =>
        $"{(UpTo is { } up ? "up to " + up.ToString(System.Globalization.CultureInfo.InvariantCulture) : "above")} @ {UnitPrice.ToString(System.Globalization.CultureInfo.InvariantCulture)}" +
        (FlatFee == 0 ? "" : $" + {FlatFee.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
}

/// <summary>A plan (nself's billing_plans row) with its base fees and currency.</summary>
public sealed class BillingPlan
{
    public required string Name { get; init; }
    public string? DisplayName { get; init; }
    public string? Description { get; init; }
    public required decimal PriceMonthly { get; init; }
    public required decimal PriceYearly { get; init; }
    public required string Currency { get; init; }
    public required bool IsActive { get; init; }
    public required int SortOrder { get; init; }
}

/// <summary>A quota and its price: a plan's (nself's billing_quotas row) or one customer's override.</summary>
public sealed class BillingQuota
{
    public string? Plan { get; init; }
    /// <summary>Set when this is a per-customer override of the plan's quota.</summary>
    public string? CustomerId { get; init; }
    public required string Service { get; init; }
    /// <summary>The limit in <see cref="LimitType"/> units; null is unlimited (nself's -1).</summary>
    public decimal? Limit { get; init; }
    /// <summary>nself's label of the limit's unit (requests, gb, cpu-hours, connections...).</summary>
    public required string LimitType { get; init; }
    /// <summary>The unit usage is counted in for this quota (storage counts GB-hours against a GB limit).</summary>
    public required string UsageUnit { get; init; }
    public required QuotaEnforcement Enforcement { get; init; }
    public required QuotaResetPeriod ResetPeriod { get; init; }
    public required PricingModel PricingModel { get; init; }
    /// <summary>Per billable unit (PerUnit), nself's overage price.</summary>
    public required decimal OveragePrice { get; init; }
    public IReadOnlyList<PriceTier> Tiers { get; init; } = Array.Empty<PriceTier>();
    public decimal? PackageSize { get; init; }
    public decimal? PackagePrice { get; init; }
    /// <summary>With -IncludeUsage: use in the current period, in limit units.</summary>
    public decimal? Used { get; init; }
    public decimal? Percent { get; init; }
}

/// <summary>A customer's subscription to a plan; its period rolls forward by itself.</summary>
public sealed class BillingSubscription
{
    public required string SubscriptionId { get; init; }
    public required string CustomerId { get; init; }
    public required string Plan { get; init; }
    public required SubscriptionStatus Status { get; init; }
    public required BillingCycle BillingCycle { get; init; }
    public required DateTimeOffset CurrentPeriodStart { get; init; }
    public required DateTimeOffset CurrentPeriodEnd { get; init; }
    /// <summary>The local start the periods are anchored to (the day of month repeats, clamped to short months).</summary>
    public required DateTimeOffset Anchor { get; init; }
    public required string TimeZone { get; init; }
    public required bool CancelAtPeriodEnd { get; init; }
    public DateTimeOffset? CanceledAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
}

/// <summary>How much of a quota a customer has used in the current period.</summary>
public sealed class QuotaStatus
{
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public string? Plan { get; init; }
    public required decimal Used { get; init; }
    /// <summary>Null when unlimited.</summary>
    public decimal? Limit { get; init; }
    public decimal? Remaining { get; init; }
    /// <summary>Used as a percentage of the limit, to two decimal places (the level is decided on the exact value).</summary>
    public decimal? Percent { get; init; }
    public required QuotaLevel Level { get; init; }
    public required QuotaEnforcement Enforcement { get; init; }
    public required string Unit { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    /// <summary>True when this check raised a new alert (the first time this level was reached this period).</summary>
    public bool Alerted { get; init; }
    /// <summary>
    /// A Prepaid quota's credit left: the customer's balance in the plan's currency less what this
    /// billing period's usage has cost so far. At 0 or below the quota is Exceeded. Null for other quotas.
    /// </summary>
    public decimal? CreditLeft { get; init; }
}

/// <summary>A recorded quota alert: raised once per customer, service, level and period.</summary>
public sealed class UsageAlert
{
    public required long AlertId { get; init; }
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required QuotaLevel Level { get; init; }
    public required decimal Used { get; init; }
    public required decimal Limit { get; init; }
    public required decimal Percent { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required DateTimeOffset RaisedAt { get; init; }
    public required string Message { get; init; }
}

/// <summary>The part of a tiered line's amount that came from one tier.</summary>
public sealed class InvoiceTierAmount
{
    public decimal? UpTo { get; init; }
    public required decimal Quantity { get; init; }
    public required decimal UnitPrice { get; init; }
    public required decimal FlatFee { get; init; }
    public required decimal Amount { get; init; }
}

/// <summary>One line of an invoice, with the period it bills and the usage it came from.</summary>
/// <remarks>A record so a copy with one thing changed (an amount rounded) names only that thing.</remarks>
public sealed record BillingInvoiceLine
{
    public required int LineNumber { get; init; }
    public required InvoiceLineKind Kind { get; init; }
    public string? Service { get; init; }
    public required string Description { get; init; }
    public required decimal Quantity { get; init; }
    public required decimal Included { get; init; }
    public required decimal Billable { get; init; }
    public string? Unit { get; init; }
    /// <summary>The per-unit price (PerUnit and Volume pricing); null for tiered and package lines.</summary>
    public decimal? UnitPrice { get; init; }
    /// <summary>Rounded to the currency's minor unit, half away from zero.</summary>
    public required decimal Amount { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public IReadOnlyList<InvoiceTierAmount> Tiers { get; init; } = Array.Empty<InvoiceTierAmount>();
    /// <summary>How many usage events the line bills.</summary>
    public long Events { get; init; }
    /// <summary>SHA-256 of the sorted ids of those events: the same usage always gives the same hash.</summary>
    public string? EventsHash { get; init; }
}

/// <summary>How an invoice is taxed, decided by the buyer's place and status (TaxPlaces).</summary>
public enum TaxTreatment
{
    /// <summary>The rate of the buyer's country and region, else BILLING_TAX_RATE.</summary>
    Standard,
    /// <summary>A business buyer in another country of the seller's tax union accounts for the tax itself.</summary>
    ReverseCharge,
    /// <summary>The buyer is exempt from tax.</summary>
    Exempt,
}

/// <summary>The seller (Set-BillingProfile): one per store, so every host prints the same.</summary>
public sealed class BillingProfile
{
    public string? LegalName { get; init; }
    /// <summary>The postal address, one line per line.</summary>
    public string? Address { get; init; }
    /// <summary>ISO 3166-1 alpha-2.</summary>
    public string? Country { get; init; }
    public string? TaxId { get; init; }
    public string? Email { get; init; }
    public string? Website { get; init; }
    /// <summary>The logo image (PNG or JPEG) printed on invoices.</summary>
    public byte[]? Logo { get; init; }
    /// <summary>image/png or image/jpeg.</summary>
    public string? LogoType { get; init; }
    public string? PaymentInstructions { get; init; }
    /// <summary>The invoice numbers' prefix: ACME- gives ACME-000001, ACME-000002...</summary>
    public required string InvoicePrefix { get; init; }
    /// <summary>The language and formats of invoices whose buyer names none (en-US when unset).</summary>
    public string? Locale { get; init; }
    /// <summary>Whether a business buyer with a tax id in another country of the seller's tax union is reverse charged.</summary>
    public required bool ReverseCharge { get; init; }
    /// <summary>The SMTP server Send-BillingInvoice hands invoices to (BILLING_SMTP_SERVER overrides it, with all SMTP settings).</summary>
    public string? SmtpServer { get; init; }
    /// <summary>Null: 587, or 465 with TLS required when that is the server's port.</summary>
    public int? SmtpPort { get; init; }
    /// <summary>true: TLS required; false: never; null: STARTTLS when offered (required once a login is set).</summary>
    public bool? SmtpUseTls { get; init; }
    public string? SmtpUserName { get; init; }
    /// <summary>Whether a password is stored for <see cref="SmtpUserName"/>; the password itself is never shown.</summary>
    public bool SmtpPasswordSet { get; init; }
    /// <summary>A pinned server certificate (SHA-256, hex): accepted even if self-signed or issued for another name.</summary>
    public string? SmtpCertificateSha256 { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
}

/// <summary>A tax rate of a country, or of a region within it (Set-BillingTaxRate).</summary>
public sealed class BillingTaxRate
{
    /// <summary>What the invoice calls the tax: VAT, USt., TVA, Sales tax...</summary>
    public required string Name { get; init; }
    /// <summary>In percent: 19 is 19 %.</summary>
    public required decimal Rate { get; init; }
    /// <summary>ISO 3166-1 alpha-2.</summary>
    public required string Country { get; init; }
    /// <summary>The ISO 3166-2 subdivision (CA for US-CA); null for the whole country.</summary>
    public string? Region { get; init; }
    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>The seller or the buyer as an invoice prints them, kept as they were when it was finalized.</summary>
public sealed class BillingParty
{
    /// <summary>The legal name (seller), or the company or name (buyer).</summary>
    public string? Name { get; init; }
    /// <summary>The buyer's contact person when the invoice is addressed to a company.</summary>
    public string? Attention { get; init; }
    public string? Address { get; init; }
    public string? Country { get; init; }
    public string? Region { get; init; }
    public string? TaxId { get; init; }
    public string? Email { get; init; }
    public string? Website { get; init; }
    public string? Locale { get; init; }
    /// <summary>How to pay (the seller's bank details), as they were when the invoice was issued.</summary>
    public string? PaymentInstructions { get; init; }
}

/// <summary>An invoice: a draft until Complete-BillingInvoice finalizes it (status Open).</summary>
/// <remarks>A record so a copy with one thing changed (its id, its number) names only that thing.</remarks>
public sealed record BillingInvoice
{
    public required string InvoiceId { get; init; }
    /// <summary>The number from the seller's gapless series, given when the invoice is finalized.</summary>
    public string? InvoiceNumber { get; init; }
    public required string CustomerId { get; init; }
    public string? Plan { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required InvoiceStatus Status { get; init; }
    public required string Currency { get; init; }
    public required decimal Subtotal { get; init; }
    /// <summary>The tax rate in percent: the buyer's place's (Set-BillingTaxRate), else BILLING_TAX_RATE.</summary>
    public required decimal TaxRate { get; init; }
    /// <summary>What the tax is called on the invoice (VAT); Tax when it comes from BILLING_TAX_RATE.</summary>
    public string TaxName { get; init; } = "Tax";
    public TaxTreatment TaxTreatment { get; init; } = TaxTreatment.Standard;
    public required decimal Tax { get; init; }
    public required decimal Total { get; init; }
    public required IReadOnlyList<BillingInvoiceLine> Lines { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? FinalizedAt { get; init; }
    public DateTimeOffset? DueDate { get; init; }
    /// <summary>The seller as printed: as it was at finalization (a draft's is the current profile's).</summary>
    public BillingParty? Seller { get; init; }
    /// <summary>The buyer as printed: as it was at finalization (a draft's is the customer's now).</summary>
    public BillingParty? Buyer { get; init; }
    /// <summary>When Send-BillingInvoice last handed the invoice to the SMTP server; null if never.</summary>
    public DateTimeOffset? SentAt { get; init; }
    /// <summary>The recipients (To) of that sending.</summary>
    public IReadOnlyList<string> SentTo { get; init; } = Array.Empty<string>();
    /// <summary>Prepaid credit put on the invoice when it was finalized (less credit given back when it was voided).</summary>
    public decimal CreditsApplied { get; init; }
    /// <summary>What payments recorded by Set-BillingInvoice -Paid came to.</summary>
    public decimal AmountPaid { get; init; }
    /// <summary>What credit notes took off what was due.</summary>
    public decimal AmountCredited { get; init; }
    /// <summary>
    /// What is still owed: the total less credits applied, payments and credit notes, summed from
    /// the ledger when read. 0 for a paid or void invoice; a draft's is its total.
    /// </summary>
    public decimal AmountDue { get; init; }
    /// <summary>When it was paid in full.</summary>
    public DateTimeOffset? PaidAt { get; init; }
}

/// <summary>An invoice handed to the SMTP server by Send-BillingInvoice.</summary>
public sealed class BillingInvoiceDelivery
{
    public required string InvoiceId { get; init; }
    public required string InvoiceNumber { get; init; }
    public required string CustomerId { get; init; }
    public required IReadOnlyList<string> To { get; init; }
    public IReadOnlyList<string> Cc { get; init; } = Array.Empty<string>();
    public required DateTimeOffset SentAt { get; init; }
    /// <summary>The mail's Message-ID (without angle brackets): what the recipient's mail system files it under.</summary>
    public required string MessageId { get; init; }
    /// <summary>The SMTP server, host:port.</summary>
    public required string Server { get; init; }
}

/// <summary>A customer's billing at a glance: plan, period, cost so far, invoices.</summary>
public sealed class BillingSummary
{
    public required string CustomerId { get; init; }
    public string? Plan { get; init; }
    public SubscriptionStatus? Status { get; init; }
    public BillingCycle? BillingCycle { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required string Currency { get; init; }
    public required decimal BaseFee { get; init; }
    /// <summary>What this period's usage costs so far under the plan (included allowances applied).</summary>
    public required decimal UsageCost { get; init; }
    /// <summary>Services used this period whose only price is a display price in another currency than the plan's: not in UsageCost.</summary>
    public IReadOnlyList<string> UnpricedServices { get; init; } = Array.Empty<string>();
    public required decimal EstimatedTotal { get; init; }
    public required int Invoices { get; init; }
    public required int OpenInvoices { get; init; }
    /// <summary>What the customer's open invoices still owe (after credits, payments and credit notes).</summary>
    public required decimal AmountDue { get; init; }
    /// <summary>The part of AmountDue past its due date.</summary>
    public decimal OverdueAmount { get; init; }
    /// <summary>The customer's prepaid credit in the billing currency (Get-BillingBalance).</summary>
    public decimal Balance { get; init; }
    public IReadOnlyList<QuotaStatus> Quotas { get; init; } = Array.Empty<QuotaStatus>();
}

/// <summary>What Test-BillingInvoice found wrong between finalized invoices and the stored usage.</summary>
public enum DiscrepancyKind
{
    /// <summary>A usage event of a finalized period that a finalization sealed but no line billed.</summary>
    Unbilled,
    /// <summary>A usage event billed by more than one line.</summary>
    BilledTwice,
    /// <summary>
    /// An event billed at another quantity than it now has (changed or deleted after it was
    /// billed), or a line whose events, quantity or hash are not those of what it billed.
    /// </summary>
    AmountMismatch,
}

/// <summary>One problem Test-BillingInvoice found, with the event (or line) and the invoice it concerns.</summary>
public sealed class BillingInvoiceDiscrepancy
{
    public required string CustomerId { get; init; }
    public required DiscrepancyKind Kind { get; init; }
    /// <summary>The finalized invoice whose period the event is in (or whose line is wrong).</summary>
    public required string InvoiceId { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    /// <summary>The event; null for a line whose totals are wrong.</summary>
    public string? EventId { get; init; }
    public string? Service { get; init; }
    /// <summary>The event's quantity as stored now; null when it is no longer stored.</summary>
    public decimal? Quantity { get; init; }
    /// <summary>What the lines billed of it, in total.</summary>
    public decimal? BilledQuantity { get; init; }
    /// <summary>The lines that billed it, as invoice#line.</summary>
    public IReadOnlyList<string> Lines { get; init; } = Array.Empty<string>();
    public required string Detail { get; init; }
}
