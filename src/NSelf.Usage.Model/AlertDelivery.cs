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
