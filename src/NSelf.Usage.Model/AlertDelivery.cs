namespace NSelf.Usage;

/// <summary>How an alert action reaches people.</summary>
public enum AlertActionKind
{
    /// <summary>An HTTP POST signed as Standard Webhooks sign them.</summary>
    Webhook,
    /// <summary>An e-mail through the SMTP server invoices are sent through.</summary>
    Email,
}

/// <summary>Where a delivery of an alert stands.</summary>
public enum AlertDeliveryStatus
{
    /// <summary>Waiting for its next attempt (or being attempted now, when Leased).</summary>
    Pending,
    /// <summary>The receiver took it (a 2xx answer; the SMTP server accepted the mail).</summary>
    Delivered,
    /// <summary>Every attempt failed; Submit-UsageAlertDelivery -DeliveryId tries again.</summary>
    Failed,
    /// <summary>Its action was removed before it was delivered.</summary>
    Cancelled,
}

/// <summary>
/// Where new quota alerts go (Register-UsageAlertAction): a webhook or e-mail addresses, for the
/// alerts of the levels, service and customer it names. A webhook's secret is never shown.
/// </summary>
public sealed class UsageAlertAction
{
    public required string Name { get; init; }
    public required AlertActionKind Kind { get; init; }
    /// <summary>The webhook's URL, or the e-mail addresses joined by ", ".</summary>
    public required string Target { get; init; }
    public required IReadOnlyList<QuotaLevel> Level { get; init; }
    /// <summary>Only this service's alerts; null for every service.</summary>
    public string? Service { get; init; }
    /// <summary>Only this customer's alerts; null for every customer.</summary>
    public string? CustomerId { get; init; }
    /// <summary>Whether a signing secret is stored (always, for a webhook); the secret itself is never read back.</summary>
    public required bool SecretSet { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required string CreatedBy { get; init; }
    public required long ActionId { get; init; }
}

/// <summary>One alert on its way to one action: the outbox row and what its attempts met.</summary>
public sealed class UsageAlertDelivery
{
    public required long DeliveryId { get; init; }
    public required long AlertId { get; init; }
    /// <summary>The action's name (kept when the action is removed).</summary>
    public required string Action { get; init; }
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required QuotaLevel Level { get; init; }
    public required AlertDeliveryStatus Status { get; init; }
    public required int Attempts { get; init; }
    /// <summary>When a pending delivery is tried next.</summary>
    public DateTimeOffset? NextAttemptAt { get; init; }
    public DateTimeOffset? LastAttemptAt { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? DeliveredAt { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    /// <summary>A sender holds it now (until its lease ends): another host does not send it meanwhile.</summary>
    public bool Leased { get; init; }
}

/// <summary>
/// Where a customer's use of a service will end its billing period (Get-UsageForecast): used so
/// far, the projected total with an 80% interval, its cost through the plan's pricing, the quota
/// and the day it will be crossed. Quantities are in the quota's unit (storage under a GB quota:
/// the average GB over the period), else the service's.
/// </summary>
public sealed class UsageForecast
{
    public required string CustomerId { get; init; }
    public required string Service { get; init; }
    public required string Unit { get; init; }
    public required DateTimeOffset PeriodStart { get; init; }
    public required DateTimeOffset PeriodEnd { get; init; }
    public required decimal UsedSoFar { get; init; }
    public required decimal Projected { get; init; }
    /// <summary>The 80% interval of the period's total: null with too little history to tell (fewer than two days).</summary>
    public decimal? ProjectedLow { get; init; }
    public decimal? ProjectedHigh { get; init; }
    /// <summary>What the projected total would cost on the period's invoice (tiers, allowance), exact.</summary>
    public required decimal ProjectedCost { get; init; }
    public required string Currency { get; init; }
    public decimal? Limit { get; init; }
    /// <summary>The day (in the customer's zone) the projected use crosses the limit; the day it was crossed if it has been; null if it will not be.</summary>
    public DateOnly? ExceedsOn { get; init; }
    /// <summary>The fitted shape that weighed most: mean, trend or step, +weekly when a weekly pattern counted.</summary>
    public required string Method { get; init; }
    /// <summary>Whole days of history the forecast was fitted to (up to 28).</summary>
    public required int HistoryDays { get; init; }
}
