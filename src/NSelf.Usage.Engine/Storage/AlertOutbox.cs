namespace NSelf.Usage.Engine.Storage;

// What the store keeps and hands out for alert delivery (migrations SQLite 13 / PostgreSQL 18). The
// rules of what they may hold are in Alerts (AlertActionRules, AlertDeliverySettings).

/// <summary>An alert action as it is stored: checked, with its secret apart.</summary>
public sealed record AlertActionRecord(string Name, AlertActionKind Kind, string Target, IReadOnlyList<QuotaLevel> Levels, string? Service, string? CustomerId)
{
    /// <summary>Whether an alert goes to this action: one of its levels, and its service and customer if it names them.</summary>
    public bool Takes(UsageAlert alert) =>
        Levels.Contains(alert.Level)
        && (Service is null || Service == alert.Service)
        && (CustomerId is null || CustomerId == alert.CustomerId);
}

/// <summary>A claimed delivery: the alert, where it goes, and which attempt this is (1 = the first).</summary>
public sealed record AlertDeliveryWork(long DeliveryId, int Attempt, UsageAlert Alert, long ActionId, string ActionName, AlertActionKind Kind, string Target);

/// <summary>How an attempt ended, as the store records it.</summary>
public sealed record AlertAttemptResult(AlertDeliveryStatus Status, DateTimeOffset At, DateTimeOffset? NextAttemptAt, string? Error);

/// <summary>Which deliveries Get-UsageAlertDelivery lists.</summary>
public sealed record AlertDeliveryFilter
{
    public string? CustomerId { get; init; }
    public AlertDeliveryStatus? Status { get; init; }
    public string? Action { get; init; }
    public long? AlertId { get; init; }
    public long? DeliveryId { get; init; }
    public DateTimeOffset? Since { get; init; }
}

