using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Alerts;

namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>
/// The alert outbox as its rules say it behaves, in memory: actions by name, alerts once per
/// customer, service, level and period, a delivery per new alert and action that takes it
/// (<see cref="AlertActionRecord.Takes"/>), claims under a lease, attempts completed by the lease's
/// owner. It never asks the store what to do; it learns only the ids the store gave (alerts are
/// numbered by the database, and the deliveries one alert queues for several actions are numbered
/// in an order the rules leave open), and the runner checks those ids grow in creation order.
/// </summary>
public sealed class AlertOutboxModel
{
    public sealed class Action
    {
        public required AlertActionRecord Record { get; set; }
        public string? Secret { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public required string CreatedBy { get; set; }
        /// <summary>The store's action_id, learned when the action is first saved (a replacement keeps it).</summary>
        public long StoreId { get; set; }
    }

    public sealed class Alert
    {
        public required UsageAlert Value { get; init; }
        /// <summary>The store's alert_id, learned after the step that recorded it.</summary>
        public long StoreId { get; set; }
    }

    public sealed class Delivery
    {
        public required Alert Alert { get; init; }
        public required string ActionName { get; init; }
        /// <summary>The action it goes to; null once that action was removed.</summary>
        public Action? Action { get; set; }
        public AlertDeliveryStatus Status { get; set; } = AlertDeliveryStatus.Pending;
        public int Attempts { get; set; }
        /// <summary>As stored: kept (hidden in reads) when the delivery is not pending.</summary>
        public DateTimeOffset NextAttemptAt { get; set; }
        public string? LeaseOwner { get; set; }
        public DateTimeOffset? LeaseUntil { get; set; }
        public DateTimeOffset? LastAttemptAt { get; set; }
        public string? LastError { get; set; }
        public DateTimeOffset? DeliveredAt { get; set; }
        /// <summary>The store's delivery_id, learned after the step that queued it.</summary>
        public long StoreId { get; set; }
    }

    private readonly Dictionary<string, Action> _actions = new(StringComparer.Ordinal);
    private readonly List<Alert> _alerts = new();
    private readonly List<Delivery> _deliveries = new();

    public IReadOnlyList<Alert> Alerts => _alerts;

    /// <summary>Every delivery, in the order it was queued.</summary>
    public IReadOnlyList<Delivery> Deliveries => _deliveries;

    public IEnumerable<Action> Actions => _actions.Values.OrderBy(a => a.Record.Name, StringComparer.Ordinal);

    public bool HasAction(string name) => _actions.ContainsKey(name);

    /// <summary>Register-UsageAlertAction's write: AlertActionExists unless new or replaced; a replacement keeps its id and its deliveries.</summary>
    public (Action? Saved, string? Error, bool Replaced) Save(AlertActionRecord record, string? secret, bool replace, DateTimeOffset now, string createdBy)
    {
        if (_actions.TryGetValue(record.Name, out var existing))
        {
            if (!replace)
                return (null, ErrorIds.AlertActionExists, false);
            existing.Record = record;
            existing.Secret = secret;
            existing.CreatedAt = now;
            existing.CreatedBy = createdBy;
            return (existing, null, true);
        }
        var action = new Action { Record = record, Secret = secret, CreatedAt = now, CreatedBy = createdBy };
        _actions[record.Name] = action;
        return (action, null, false);
    }

    /// <summary>Remove-UsageAlertAction: what was not delivered is cancelled (and no longer held); what was stays, under the name.</summary>
    public bool Remove(string name)
    {
        if (!_actions.Remove(name, out var action))
            return false;
        foreach (var d in _deliveries.Where(d => d.Action == action))
        {
            if (d.Status is AlertDeliveryStatus.Pending or AlertDeliveryStatus.Failed)
            {
                d.Status = AlertDeliveryStatus.Cancelled;
                d.LeaseOwner = null;
                d.LeaseUntil = null;
            }
            d.Action = null;
        }
        return true;
    }

    /// <summary>
    /// Alerts recorded (by the module or by any other writer): each is new unless its customer,
    /// service, level and period has one; a new one is queued for every action that takes it now,
    /// due at the moment it was raised.
    /// </summary>
    public IReadOnlyList<bool> Record(IReadOnlyList<UsageAlert> alerts)
    {
        var fresh = new List<bool>();
        foreach (var alert in alerts)
        {
            if (_alerts.Any(a => a.Value.CustomerId == alert.CustomerId && a.Value.Service == alert.Service && a.Value.Level == alert.Level && a.Value.PeriodStart == alert.PeriodStart))
            {
                fresh.Add(false);
                continue;
            }
            var recorded = new Alert { Value = alert };
            _alerts.Add(recorded);
            foreach (var action in _actions.Values.Where(a => a.Record.Takes(alert)))
                _deliveries.Add(new Delivery { Alert = recorded, ActionName = action.Record.Name, Action = action, NextAttemptAt = alert.RaisedAt });
            fresh.Add(true);
        }
        return fresh;
    }

    private static bool HeldAt(Delivery d, DateTimeOffset at) => d.LeaseUntil is { } until && until > at;

    private static bool Due(Delivery d, DateTimeOffset at) =>
        d.Status == AlertDeliveryStatus.Pending && d.NextAttemptAt <= at && !HeldAt(d, at) && d.Action is not null;

    public bool HasDue(DateTimeOffset at) => _deliveries.Any(d => Due(d, at));

    /// <summary>
    /// A sender's claim: the delivery due first (by next attempt, then id), or the one asked for if
    /// it is pending or failed, nobody holds it now and its action is there. The claim is the next attempt.
    /// </summary>
    public AlertDeliveryWork? Claim(DateTimeOffset now, string owner, DateTimeOffset leaseUntil, long? deliveryId)
    {
        var claimed = deliveryId is null
            ? _deliveries.Where(d => Due(d, now)).OrderBy(d => d.NextAttemptAt).ThenBy(d => d.StoreId).FirstOrDefault()
            : _deliveries.FirstOrDefault(d => d.StoreId == deliveryId && d.Status is AlertDeliveryStatus.Pending or AlertDeliveryStatus.Failed && !HeldAt(d, now) && d.Action is not null);
        if (claimed is null)
            return null;
        claimed.Status = AlertDeliveryStatus.Pending;
        claimed.LeaseOwner = owner;
        claimed.LeaseUntil = leaseUntil;
        claimed.Attempts++;
        claimed.LastAttemptAt = now;
        var action = claimed.Action!;
        return new AlertDeliveryWork(claimed.StoreId, claimed.Attempts, AlertOf(claimed.Alert), action.StoreId, claimed.ActionName, action.Record.Kind, action.Record.Target);
    }

    /// <summary>An attempt's outcome, recorded only for the lease's owner; the delivery as it then stands (null: no such delivery).</summary>
    public UsageAlertDelivery? Complete(long deliveryId, string owner, AlertAttemptResult result)
    {
        var d = _deliveries.FirstOrDefault(d => d.StoreId == deliveryId);
        if (d is null)
            return null;
        if (d.LeaseOwner == owner)
        {
            d.Status = result.Status;
            d.LeaseOwner = null;
            d.LeaseUntil = null;
            d.LastError = result.Error;
            d.DeliveredAt = result.Status == AlertDeliveryStatus.Delivered ? result.At : null;
            if (result.NextAttemptAt is { } next)
                d.NextAttemptAt = next;
        }
        return View(d, result.At);
    }

    public IReadOnlyList<UsageAlertDelivery> Read(AlertDeliveryFilter filter, DateTimeOffset at) =>
        _deliveries.Where(d =>
                (filter.CustomerId is null || d.Alert.Value.CustomerId == filter.CustomerId)
                && (filter.Status is null || d.Status == filter.Status)
                && (filter.Action is null || d.ActionName == filter.Action)
                && (filter.AlertId is null || d.Alert.StoreId == filter.AlertId)
                && (filter.DeliveryId is null || d.StoreId == filter.DeliveryId)
                && (filter.Since is null || d.Alert.Value.RaisedAt >= filter.Since))
            .OrderBy(d => d.StoreId).Select(d => View(d, at)).ToList();

    public static UsageAlertDelivery View(Delivery d, DateTimeOffset at) => new()
    {
        DeliveryId = d.StoreId, AlertId = d.Alert.StoreId, Action = d.ActionName, CustomerId = d.Alert.Value.CustomerId,
        Service = d.Alert.Value.Service, Level = d.Alert.Value.Level, Status = d.Status, Attempts = d.Attempts,
        NextAttemptAt = d.Status == AlertDeliveryStatus.Pending ? d.NextAttemptAt : null, LastAttemptAt = d.LastAttemptAt,
        LastError = d.LastError, DeliveredAt = d.DeliveredAt, CreatedAt = d.Alert.Value.RaisedAt,
        Leased = d.Status == AlertDeliveryStatus.Pending && HeldAt(d, at),
    };

    public static UsageAlertAction View(Action a) => new()
    {
        ActionId = a.StoreId, Name = a.Record.Name, Kind = a.Record.Kind, Target = a.Record.Target, Level = a.Record.Levels,
        Service = a.Record.Service, CustomerId = a.Record.CustomerId, CreatedAt = a.CreatedAt, CreatedBy = a.CreatedBy,
        SecretSet = a.Record.Kind == AlertActionKind.Webhook || a.Secret is not null,
    };

    private static UsageAlert AlertOf(Alert a) => new()
    {
        AlertId = a.StoreId, CustomerId = a.Value.CustomerId, Service = a.Value.Service, Level = a.Value.Level, Used = a.Value.Used,
        Limit = a.Value.Limit, Percent = a.Value.Percent, PeriodStart = a.Value.PeriodStart, PeriodEnd = a.Value.PeriodEnd,
        RaisedAt = a.Value.RaisedAt, Message = a.Value.Message,
    };
}
