using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;
using static NSelf.Usage.Engine.Storage.Sql.BillingText;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>Plans, quotas, subscriptions, plan changes and alerts. nself's columns allow NULL where ours do not: the coalesce defaults are nself's.</summary>
public abstract partial class SqlStore
{
    // ---------------------------------------------------------------- plans

    private const string PlanColumns = "plan_name, display_name, description, coalesce(price_monthly, 0), coalesce(price_yearly, 0), currency, coalesce(is_active, true), coalesce(sort_order, 0)";

    private static BillingPlan ReadPlan(SqlRow r) => new()
    {
        Name = r.Text(0),
        DisplayName = r.TextOrNull(1),
        Description = r.TextOrNull(2),
        PriceMonthly = r.Money(3),
        PriceYearly = r.Money(4),
        Currency = r.Text(5),
        IsActive = r.Bool(6),
        SortOrder = r.Int(7),
    };

    public IReadOnlyList<BillingPlan> GetPlans() => InReadSession(session =>
        session.Query($"SELECT {PlanColumns} FROM billing_plans ORDER BY sort_order, plan_name", ReadPlan));

    public BillingPlan? GetPlan(string name) => InReadSession(session =>
        session.Query($"SELECT {PlanColumns} FROM billing_plans WHERE plan_name = @name", ReadPlan, ("name", name)).FirstOrDefault());

    public BillingPlan SavePlan(BillingPlan plan) => InWriteTransaction(session =>
    {
        session.Execute("""
            INSERT INTO billing_plans (plan_name, display_name, description, price_monthly, price_yearly, currency, is_active, sort_order, created_at, updated_at)
            VALUES (@name, @display, @description, @monthly, @yearly, @currency, @active, @sort, @now, @now)
            ON CONFLICT (plan_name) DO UPDATE SET display_name = excluded.display_name, description = excluded.description,
                price_monthly = excluded.price_monthly, price_yearly = excluded.price_yearly, currency = excluded.currency,
                is_active = excluded.is_active, sort_order = excluded.sort_order, updated_at = excluded.updated_at
            """, ("name", plan.Name), ("display", plan.DisplayName), ("description", plan.Description), ("monthly", new MoneyValue(plan.PriceMonthly)),
            ("yearly", new MoneyValue(plan.PriceYearly)), ("currency", plan.Currency), ("active", plan.IsActive), ("sort", plan.SortOrder), ("now", Now()));
        return plan;
    });

    // ---------------------------------------------------------------- quotas

    // The owner (plan or customer) is the last column, so one reader serves both tables.
    private string QuotaColumns => "service_name, coalesce(limit_value, -1), coalesce(limit_type, 'requests'), CASE WHEN prepaid THEN 'prepaid' ELSE coalesce(enforcement_mode, 'soft') END, coalesce(overage_price, 0), "
        + $"coalesce(reset_period, 'monthly'), coalesce(pricing_model, 'per_unit'), {Dialect.JsonTextOrNull("price_tiers")}, package_size, package_price";

    private static BillingQuota ReadQuota(SqlRow r, bool customerOwned, ServiceCatalog services)
    {
        var service = r.Text(0);
        var limit = r.Long(1);
        var limitType = r.Text(2);
        var serviceUnit = services.TryFind(service, out var known) ? known.Unit : limitType;
        return new BillingQuota
        {
            Plan = customerOwned ? null : r.Text(10),
            CustomerId = customerOwned ? r.Text(10) : null,
            Service = service,
            Limit = limit < 0 ? null : limit,
            LimitType = limitType,
            UsageUnit = QuotaUnits.UnitOf(service, limitType, serviceUnit),
            Enforcement = Enforcement(r.Text(3)),
            OveragePrice = r.Money(4),
            ResetPeriod = Reset(r.Text(5)),
            PricingModel = Pricing(r.Text(6)),
            Tiers = Tiers(r.TextOrNull(7)),
            PackageSize = r.MoneyOrNull(8),
            PackagePrice = r.MoneyOrNull(9),
        };
    }

    public IReadOnlyList<BillingQuota> GetPlanQuotas(string? plan = null)
    {
        var services = GetServices();
        return InReadSession(session => session.Query($"SELECT {QuotaColumns}, plan_name FROM billing_quotas" + (plan is null ? "" : " WHERE plan_name = @owner") + " ORDER BY plan_name, service_name",
            r => ReadQuota(r, customerOwned: false, services), ("owner", plan)));
    }

    public IReadOnlyList<BillingQuota> GetCustomerQuotas(string? customerId = null)
    {
        var services = GetServices();
        return InReadSession(session => session.Query($"SELECT {QuotaColumns}, customer_id FROM usage_customer_quotas" + (customerId is null ? "" : " WHERE customer_id = @owner") + " ORDER BY customer_id, service_name",
            r => ReadQuota(r, customerOwned: true, services), ("owner", customerId)));
    }

    public BillingQuota SaveQuota(BillingQuota quota) => InWriteTransaction(session =>
    {
        var (table, owner, ownerValue) = quota.CustomerId is null ? ("billing_quotas", "plan_name", quota.Plan!) : ("usage_customer_quotas", "customer_id", quota.CustomerId);
        if (quota.CustomerId is { } customer)
        {
            // A quota for a customer the store has not seen registers it, as its first usage
            // event would, in the same transaction; a removed customer is refused, as tracking refuses it.
            session.Execute("""
                INSERT INTO billing_customers (customer_id, project_name, metadata, created_at, updated_at)
                VALUES (@customer, @customer, '{}', @now, @now)
                ON CONFLICT (customer_id) DO NOTHING
                """, ("customer", customer), ("now", Now()));
            var removed = session.Count("SELECT count(*) FROM billing_customers WHERE customer_id = @customer AND deleted_at IS NOT NULL", ("customer", customer)) > 0;
            if (CatalogRules.RefuseCustomerQuota(customer, removed) is { } refused)
                throw refused;
        }
        session.Execute($"""
            INSERT INTO {table} ({owner}, service_name, limit_value, limit_type, enforcement_mode, prepaid, overage_price, reset_period, pricing_model, price_tiers, package_size, package_price)
            VALUES (@owner, @service, @limit, @limitType, @enforcement, @prepaid, @overage, @reset, @pricing, {Dialect.Json("tiers")}, @packageSize, @packagePrice)
            ON CONFLICT ({owner}, service_name) DO UPDATE SET limit_value = excluded.limit_value, limit_type = excluded.limit_type,
                enforcement_mode = excluded.enforcement_mode, prepaid = excluded.prepaid, overage_price = excluded.overage_price, reset_period = excluded.reset_period,
                pricing_model = excluded.pricing_model, price_tiers = excluded.price_tiers, package_size = excluded.package_size,
                package_price = excluded.package_price
            """, ("owner", ownerValue), ("service", quota.Service), ("limit", quota.Limit is { } l ? decimal.ToInt64(l) : -1L), ("limitType", quota.LimitType),
            // A prepaid quota is a hard one to nself's tools (enforcement_mode has only soft and hard).
            ("enforcement", Spell(quota.Enforcement)), ("prepaid", Dialect.Bool(quota.Enforcement == QuotaEnforcement.Prepaid)), ("overage", new MoneyValue(quota.OveragePrice)), ("reset", Spell(quota.ResetPeriod)), ("pricing", Spell(quota.PricingModel)),
            ("tiers", TiersJson(quota.Tiers)), ("packageSize", quota.PackageSize is { } size ? new MoneyValue(size) : null),
            ("packagePrice", quota.PackagePrice is { } price ? new MoneyValue(price) : null));
        return quota;
    });

    // ---------------------------------------------------------------- subscriptions

    private string SubscriptionColumns => "subscription_id, customer_id, plan_name, status, coalesce(billing_cycle, 'monthly'), current_period_start, current_period_end, "
        + $"{Dialect.LocalTimeOr("anchor_local", "current_period_start")}, time_zone, coalesce(cancel_at_period_end, false), canceled_at, coalesce(created_at, current_period_start)";

    private static BillingSubscription ReadSubscription(SqlRow r)
    {
        var zoneId = r.Text(8);
        var zone = TimeZones.Find(zoneId);
        return new BillingSubscription
        {
            SubscriptionId = r.Text(0),
            CustomerId = r.Text(1),
            Plan = r.Text(2),
            Status = Status(r.Text(3)),
            BillingCycle = Cycle(r.Text(4)),
            CurrentPeriodStart = r.Time(5),
            CurrentPeriodEnd = r.Time(6),
            Anchor = TimeZoneInfo.ConvertTime(BillingPeriods.AtLocal(r.LocalTime(7), zone), zone),
            TimeZone = zoneId,
            CancelAtPeriodEnd = r.Bool(9),
            CanceledAt = r.TimeOrNull(10),
            CreatedAt = r.Time(11),
        };
    }

    private const string LiveStatuses = "status IN ('active', 'trialing', 'past_due')";

    public IReadOnlyList<BillingSubscription> GetSubscriptions(string? customerId = null, bool includeEnded = false)
    {
        var where = new List<string>();
        if (customerId is not null)
            where.Add("customer_id = @customer");
        if (!includeEnded)
            where.Add(LiveStatuses);
        var sql = $"SELECT {SubscriptionColumns} FROM billing_subscriptions" + (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) + " ORDER BY customer_id, created_at";
        return InReadSession(session => session.Query(sql, ReadSubscription, ("customer", customerId)));
    }

    private BillingSubscription ReadSubscription(SqlSession session, string subscriptionId) =>
        session.Query($"SELECT {SubscriptionColumns} FROM billing_subscriptions WHERE subscription_id = @id", ReadSubscription, ("id", subscriptionId)).Single();

    private (string Name, object? Value)[] SubscriptionValues(BillingSubscription s) =>
    [
        ("id", s.SubscriptionId), ("customer", s.CustomerId), ("plan", s.Plan), ("status", Spell(s.Status)), ("cycle", Spell(s.BillingCycle)),
        ("start", s.CurrentPeriodStart), ("end", s.CurrentPeriodEnd), ("anchor", Dialect.LocalTime(s.Anchor.DateTime)), ("zone", s.TimeZone),
        ("cancelAtEnd", s.CancelAtPeriodEnd), ("canceledAt", s.CanceledAt), ("now", Now()),
    ];

    public BillingSubscription AddSubscription(BillingSubscription s) => InWriteTransaction(session =>
    {
        // The customer's row is locked first, so two hosts subscribing one customer at once
        // queue here and the second sees the first's subscription.
        session.Query($"SELECT 1 FROM billing_customers WHERE customer_id = @customer{Dialect.ForUpdate}", r => 1, ("customer", s.CustomerId));
        var hasLive = session.Count($"SELECT count(*) FROM billing_subscriptions WHERE customer_id = @customer AND {LiveStatuses}", ("customer", s.CustomerId)) > 0;
        if (CatalogRules.RefuseSubscription(s, hasLive) is { } refused)
            throw refused;
        session.Execute("""
            INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, status, billing_cycle, current_period_start, current_period_end,
                anchor_local, time_zone, cancel_at_period_end, canceled_at, created_at, updated_at)
            VALUES (@id, @customer, @plan, @status, @cycle, @start, @end, @anchor, @zone, @cancelAtEnd, @canceledAt, @now, @now)
            """, SubscriptionValues(s));
        return ReadSubscription(session, s.SubscriptionId);
    });

    public BillingSubscription UpdateSubscription(BillingSubscription s) => InWriteTransaction(session =>
    {
        var values = SubscriptionValues(s);
        var before = session.Query($"SELECT plan_name FROM billing_subscriptions WHERE subscription_id = @id AND customer_id = @customer{Dialect.ForUpdate}",
            r => r.Text(0), values);
        // Two changes within one clock tick (a script changing plans twice) are one change: the
        // first keeps the plan the period had, the second its new plan, instead of a key clash.
        if (before.Count == 1 && before[0] != s.Plan)
            session.Execute("""
                INSERT INTO billing_plan_changes (subscription_id, customer_id, effective_from, changed_at, from_plan, to_plan)
                VALUES (@id, @customer, @start, @now, @old, @plan)
                ON CONFLICT (subscription_id, effective_from, changed_at) DO UPDATE SET to_plan = excluded.to_plan
                """, [.. values, ("old", before[0])]);
        // Filtered by customer too: a subscription id given with another customer's id changes nothing.
        if (session.Execute("""
            UPDATE billing_subscriptions SET plan_name = @plan, status = @status, billing_cycle = @cycle, current_period_start = @start, current_period_end = @end,
                anchor_local = @anchor, time_zone = @zone, cancel_at_period_end = @cancelAtEnd, canceled_at = @canceledAt, updated_at = @now
            WHERE subscription_id = @id AND customer_id = @customer
            """, values) == 0)
            throw new UsageException(ErrorIds.SubscriptionNotFound, UsageErrorKind.ObjectNotFound, $"Subscription '{s.SubscriptionId}' does not exist.", s.SubscriptionId);
        return ReadSubscription(session, s.SubscriptionId);
    });

    public IReadOnlyList<PlanChange> GetPlanChanges(string customerId) => InReadSession(session => session.Query(
        "SELECT subscription_id, effective_from, changed_at, from_plan, to_plan FROM billing_plan_changes WHERE customer_id = @customer ORDER BY effective_from, changed_at",
        r => new PlanChange(r.Text(0), r.Time(1), r.Time(2), r.Text(3), r.Text(4)), ("customer", customerId)));

    // ---------------------------------------------------------------- alerts

    // All the alerts of a check in one write (see ExecuteEach); a row count of 1 names a new alert.
    public IReadOnlyList<bool> RaiseAlerts(IReadOnlyList<UsageAlert> alerts) => alerts.Count == 0 ? Array.Empty<bool>() : InWriteTransaction(session =>
        session.ExecuteEach("""
            INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message)
            VALUES (@customer, @service, @level, @used, @limit, @percent, @start, @end, @raised, @message)
            ON CONFLICT (customer_id, service_name, level, period_start) DO NOTHING
            """, alerts, alert => [("customer", alert.CustomerId), ("service", alert.Service), ("level", Spell(alert.Level)), ("used", new MoneyValue(alert.Used)),
                ("limit", new MoneyValue(alert.Limit)), ("percent", new MoneyValue(alert.Percent)), ("start", alert.PeriodStart), ("end", alert.PeriodEnd),
                ("raised", alert.RaisedAt), ("message", alert.Message)])
        .Select(count => count == 1).ToList());

    public IReadOnlyList<UsageAlert> GetAlerts(string? customerId, DateTimeOffset since, QuotaLevel? level = null, string? service = null) => InReadSession(session => session.Query(
        "SELECT alert_id, customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message FROM usage_alerts WHERE raised_at >= @since"
            + (customerId is null ? "" : " AND customer_id = @customer") + (level is null ? "" : " AND level = @level") + (service is null ? "" : " AND service_name = @service")
            + " ORDER BY raised_at, alert_id",
        r => new UsageAlert
        {
            AlertId = r.Long(0), CustomerId = r.Text(1), Service = r.Text(2), Level = Level(r.Text(3)),
            Used = r.Money(4), Limit = r.Money(5), Percent = r.Money(6), PeriodStart = r.Time(7), PeriodEnd = r.Time(8), RaisedAt = r.Time(9), Message = r.Text(10),
        },
        ("since", since), ("customer", customerId), ("level", level is { } lv ? Spell(lv) : null), ("service", service)));
}
