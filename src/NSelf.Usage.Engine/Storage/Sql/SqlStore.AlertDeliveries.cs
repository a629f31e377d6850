using static NSelf.Usage.Engine.Storage.Sql.BillingText;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// Alert actions and the outbox of their deliveries. Deliveries are queued by a trigger on
/// usage_alerts (migrations SQLite 13 / PostgreSQL 18), in the transaction that records the alert;
/// here they are claimed under a lease, one at a time, and their attempts recorded.
/// </summary>
public abstract partial class SqlStore
{
    private const string ActionColumns =
        "a.action_id, a.name, a.kind, a.target, a.on_warning, a.on_critical, a.on_exceeded, a.service_name, a.customer_id, a.created_at, a.created_by, "
        + "(SELECT count(*) FROM usage_alert_action_secrets s WHERE s.action_id = a.action_id)";

    private static UsageAlertAction ReadAction(SqlRow r)
    {
        var kind = r.Text(2) == "email" ? AlertActionKind.Email : AlertActionKind.Webhook;
        var levels = new List<QuotaLevel>(3);
        if (r.Bool(4)) levels.Add(QuotaLevel.Warning);
        if (r.Bool(5)) levels.Add(QuotaLevel.Critical);
        if (r.Bool(6)) levels.Add(QuotaLevel.Exceeded);
        return new UsageAlertAction
        {
            ActionId = r.Long(0), Name = r.Text(1), Kind = kind, Target = r.Text(3), Level = levels,
            Service = r.TextOrNull(7), CustomerId = r.TextOrNull(8), CreatedAt = r.Time(9), CreatedBy = r.Text(10),
            // What the action's row says: a secret this connection may not read still counts as set.
            SecretSet = kind == AlertActionKind.Webhook || r.Long(11) > 0,
        };
    }

    public UsageAlertAction SaveAlertAction(AlertActionRecord action, string? secret, bool replace, DateTimeOffset now, string createdBy) => InWriteTransaction(session =>
    {
        var values = new (string Name, object? Value)[]
        {
            ("name", action.Name), ("kind", action.Kind == AlertActionKind.Email ? "email" : "webhook"), ("target", action.Target),
            ("warning", action.Levels.Contains(QuotaLevel.Warning)), ("critical", action.Levels.Contains(QuotaLevel.Critical)),
            ("exceeded", action.Levels.Contains(QuotaLevel.Exceeded)), ("service", action.Service), ("customer", action.CustomerId),
            ("created", now), ("by", createdBy),
        };
        var existing = session.Query($"SELECT action_id FROM usage_alert_actions WHERE name = @name{Dialect.ForUpdate}", r => r.Long(0), ("name", action.Name)).FirstOrDefault();
        long id;
        if (existing == 0)
            id = session.Query("""
                INSERT INTO usage_alert_actions (name, kind, target, on_warning, on_critical, on_exceeded, service_name, customer_id, created_at, created_by)
                VALUES (@name, @kind, @target, @warning, @critical, @exceeded, @service, @customer, @created, @by)
                RETURNING action_id
                """, r => r.Long(0), values).Single();
        else if (!replace)
            throw new UsageException(ErrorIds.AlertActionExists, UsageErrorKind.ResourceExists,
                $"An alert action named '{action.Name}' exists: give -Force to replace it, or choose another name.", action.Name);
        else
        {
            id = existing;
            session.Execute("""
                UPDATE usage_alert_actions SET kind = @kind, target = @target, on_warning = @warning, on_critical = @critical, on_exceeded = @exceeded,
                    service_name = @service, customer_id = @customer, created_at = @created, created_by = @by
                WHERE action_id = @id
                """, [.. values, ("id", id)]);
        }
        session.Execute("DELETE FROM usage_alert_action_secrets WHERE action_id = @id", ("id", id));
        if (secret is not null)
            session.Execute("INSERT INTO usage_alert_action_secrets (action_id, secret) VALUES (@id, @secret)", ("id", id), ("secret", secret));
        return session.Query($"SELECT {ActionColumns} FROM usage_alert_actions a WHERE a.action_id = @id", ReadAction, ("id", id)).Single();
    });

    public IReadOnlyList<UsageAlertAction> GetAlertActions() => InReadSession(session =>
        session.Query($"SELECT {ActionColumns} FROM usage_alert_actions a ORDER BY a.name", ReadAction));

    public bool RemoveAlertAction(string name) => InWriteTransaction(session =>
    {
        var id = session.Query($"SELECT action_id FROM usage_alert_actions WHERE name = @name{Dialect.ForUpdate}", r => r.Long(0), ("name", name)).FirstOrDefault();
        if (id == 0)
            return false;
        // What was not delivered is cancelled; what was stays as history under the action's name.
        session.Execute("""
            UPDATE usage_alert_deliveries SET status = 'cancelled', lease_owner = NULL, lease_until = NULL
            WHERE action_id = @id AND status IN ('pending', 'failed')
            """, ("id", id));
        session.Execute("UPDATE usage_alert_deliveries SET action_id = NULL WHERE action_id = @id", ("id", id));
        session.Execute("DELETE FROM usage_alert_action_secrets WHERE action_id = @id", ("id", id));
        session.Execute("DELETE FROM usage_alert_actions WHERE action_id = @id", ("id", id));
        return true;
    });

    public string? GetAlertActionSecret(long actionId) => InReadSession(session =>
        session.Query("SELECT secret FROM usage_alert_action_secrets WHERE action_id = @id", r => r.Text(0), ("id", actionId)).FirstOrDefault());

    // Due: waiting, its time come, and no sender holding it.
    private const string Due = "d.status = 'pending' AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until <= @now) AND d.action_id IS NOT NULL";

    // Asked for by id: due or not yet, or failed; never one a sender holds now.
    private const string Asked = "d.delivery_id = @delivery AND d.status IN ('pending', 'failed') AND (d.lease_until IS NULL OR d.lease_until <= @now) AND d.action_id IS NOT NULL";

    public AlertDeliveryWork? ClaimAlertDelivery(DateTimeOffset now, string owner, DateTimeOffset leaseUntil, long? deliveryId = null) => InWriteTransaction(session =>
    {
        var condition = deliveryId is null ? Due : Asked;
        // The outer condition is checked again on the row as it is when locked: of two hosts that
        // picked the same delivery, the second claims nothing and looks again.
        for (var tries = 0; tries < 5; tries++)
        {
            var claimed = session.Query($"""
                UPDATE usage_alert_deliveries SET status = 'pending', lease_owner = @owner, lease_until = @until, attempts = attempts + 1, last_attempt_at = @now
                WHERE delivery_id = (SELECT d.delivery_id FROM usage_alert_deliveries d WHERE {condition} ORDER BY d.next_attempt_at, d.delivery_id LIMIT 1{Dialect.ForUpdate})
                  AND (lease_until IS NULL OR lease_until <= @now) AND status IN ('pending', 'failed')
                RETURNING delivery_id, attempts
                """, r => (Id: r.Long(0), Attempt: r.Int(1)),
                ("owner", owner), ("until", leaseUntil), ("now", now), ("delivery", deliveryId)).FirstOrDefault();
            if (claimed.Id != 0)
                return session.Query("""
                    SELECT d.delivery_id, d.action_id, d.action_name, a.kind, a.target,
                        l.alert_id, l.customer_id, l.service_name, l.level, l.used, l.limit_value, l.percent, l.period_start, l.period_end, l.raised_at, l.message
                    FROM usage_alert_deliveries d JOIN usage_alert_actions a ON a.action_id = d.action_id JOIN usage_alerts l ON l.alert_id = d.alert_id
                    WHERE d.delivery_id = @delivery
                    """, r => new AlertDeliveryWork(r.Long(0), claimed.Attempt, new UsageAlert
                    {
                        AlertId = r.Long(5), CustomerId = r.Text(6), Service = r.Text(7), Level = Level(r.Text(8)), Used = r.Money(9), Limit = r.Money(10),
                        Percent = r.Money(11), PeriodStart = r.Time(12), PeriodEnd = r.Time(13), RaisedAt = r.Time(14), Message = r.Text(15),
                    }, r.Long(1), r.Text(2), r.Text(3) == "email" ? AlertActionKind.Email : AlertActionKind.Webhook, r.Text(4)),
                    ("delivery", claimed.Id)).Single();
            if (deliveryId is not null || !session.Query($"SELECT 1 FROM usage_alert_deliveries d WHERE {Due} LIMIT 1", r => true, ("now", now)).Any())
                return null;
        }
        return null;
    });

    public UsageAlertDelivery? CompleteAlertDelivery(long deliveryId, string owner, AlertAttemptResult result) => InWriteTransaction(session =>
    {
        session.Execute("""
            UPDATE usage_alert_deliveries SET status = @status, lease_owner = NULL, lease_until = NULL, last_error = @error,
                delivered_at = @delivered, next_attempt_at = coalesce(@next, next_attempt_at)
            WHERE delivery_id = @delivery AND lease_owner = @owner
            """, ("status", result.Status.ToString().ToLowerInvariant()), ("error", result.Error),
            ("delivered", result.Status == AlertDeliveryStatus.Delivered ? result.At : null), ("next", result.NextAttemptAt),
            ("delivery", deliveryId), ("owner", owner));
        return ReadDeliveries(session, "WHERE d.delivery_id = @delivery", result.At, ("delivery", deliveryId)).SingleOrDefault();
    });

    public bool HasDueAlertDeliveries(DateTimeOffset now) => InReadSession(session =>
        session.Query($"SELECT 1 FROM usage_alert_deliveries d WHERE {Due} LIMIT 1", r => true, ("now", now)).Count > 0);

    public IReadOnlyList<UsageAlertDelivery> GetAlertDeliveries(AlertDeliveryFilter filter, DateTimeOffset now) => InReadSession(session =>
    {
        var where = new List<string>();
        if (filter.CustomerId is not null) where.Add("d.customer_id = @customer");
        if (filter.Status is not null) where.Add("d.status = @status");
        if (filter.Action is not null) where.Add("d.action_name = @action");
        if (filter.AlertId is not null) where.Add("d.alert_id = @alert");
        if (filter.DeliveryId is not null) where.Add("d.delivery_id = @delivery");
        if (filter.Since is not null) where.Add("d.created_at >= @since");
        return ReadDeliveries(session, where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where), now,
            ("customer", filter.CustomerId), ("status", filter.Status?.ToString().ToLowerInvariant()), ("action", filter.Action),
            ("alert", filter.AlertId), ("delivery", filter.DeliveryId), ("since", filter.Since));
    });

    private static List<UsageAlertDelivery> ReadDeliveries(SqlSession session, string where, DateTimeOffset now, params (string Name, object? Value)[] parameters) =>
        session.Query($"""
            SELECT d.delivery_id, d.alert_id, d.action_name, d.customer_id, l.service_name, l.level, d.status, d.attempts,
                d.next_attempt_at, d.last_attempt_at, d.last_error, d.delivered_at, d.created_at, d.lease_until
            FROM usage_alert_deliveries d JOIN usage_alerts l ON l.alert_id = d.alert_id
            {where} ORDER BY d.delivery_id
            """, r =>
            {
                var status = Enum.Parse<AlertDeliveryStatus>(r.Text(6), ignoreCase: true);
                return new UsageAlertDelivery
                {
                    DeliveryId = r.Long(0), AlertId = r.Long(1), Action = r.Text(2), CustomerId = r.Text(3), Service = r.Text(4), Level = Level(r.Text(5)),
                    Status = status, Attempts = r.Int(7), NextAttemptAt = status == AlertDeliveryStatus.Pending ? r.Time(8) : null, LastAttemptAt = r.TimeOrNull(9),
                    LastError = r.TextOrNull(10), DeliveredAt = r.TimeOrNull(11), CreatedAt = r.Time(12),
                    Leased = status == AlertDeliveryStatus.Pending && r.TimeOrNull(13) is { } until && until > now,
                };
            }, [.. parameters, ("now", now)]);
}
