using System.Globalization;
using Microsoft.Data.Sqlite;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;
using static NSelf.Usage.Engine.Storage.BillingText;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>The billing half of the SQLite store: plans, quotas, subscriptions, alerts, invoices.</summary>
public sealed partial class SqliteUsageStore
{
    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : reader.GetString(i);

    private static decimal? DecimalOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : BillingText.Decimal(reader.GetString(i));

    private static DateTimeOffset? InstantOrNull(SqliteDataReader reader, int i) => reader.IsDBNull(i) ? null : Micros.ToInstant(reader.GetInt64(i));

    private static long? MicrosOrNull(DateTimeOffset? instant) => instant is { } i ? Micros.From(i) : null;

    private List<T> Query<T>(string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var connection = Reader();
        return Query(connection, null, sql, read, parameters);
    }

    private static List<T> Query<T>(SqliteConnection connection, SqliteTransaction? transaction, string sql, Func<SqliteDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, Db(value));
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
            list.Add(read(reader));
        return list;
    }

    private static int Execute(SqliteConnection connection, SqliteTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, Db(value));
        return command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- plans

    private const string PlanColumns = "plan_name, display_name, description, price_monthly, price_yearly, currency, is_active, sort_order";

    private static BillingPlan ReadPlan(SqliteDataReader r) => new()
    {
        Name = r.GetString(0),
        DisplayName = Text(r, 1),
        Description = Text(r, 2),
        PriceMonthly = BillingText.Decimal(r.GetString(3)),
        PriceYearly = BillingText.Decimal(r.GetString(4)),
        Currency = r.GetString(5),
        IsActive = r.GetInt64(6) != 0,
        SortOrder = r.GetInt32(7),
    };

    public IReadOnlyList<BillingPlan> GetPlans() => Query($"SELECT {PlanColumns} FROM billing_plans ORDER BY sort_order, plan_name", ReadPlan);

    public BillingPlan? GetPlan(string name) => Query($"SELECT {PlanColumns} FROM billing_plans WHERE plan_name = $n", ReadPlan, ("$n", name)).FirstOrDefault();

    public BillingPlan SavePlan(BillingPlan plan) => WriteTransaction((connection, transaction) =>
    {
        var now = Micros.From(_time.GetUtcNow());
        Execute(connection, transaction, """
            INSERT INTO billing_plans (plan_name, display_name, description, price_monthly, price_yearly, currency, is_active, sort_order, created_at, updated_at)
            VALUES ($n, $d, $desc, $m, $y, $c, $a, $o, $now, $now)
            ON CONFLICT (plan_name) DO UPDATE SET display_name = excluded.display_name, description = excluded.description,
                price_monthly = excluded.price_monthly, price_yearly = excluded.price_yearly, currency = excluded.currency,
                is_active = excluded.is_active, sort_order = excluded.sort_order, updated_at = excluded.updated_at
            """, ("$n", plan.Name), ("$d", plan.DisplayName), ("$desc", plan.Description), ("$m", BillingText.Decimal(plan.PriceMonthly)),
            ("$y", BillingText.Decimal(plan.PriceYearly)), ("$c", plan.Currency), ("$a", plan.IsActive ? 1 : 0), ("$o", plan.SortOrder), ("$now", now));
        return plan;
    });

    // ---------------------------------------------------------------- quotas

    // The owner (plan or customer) is the last column, so one reader serves both tables.
    private const string QuotaColumns = "service_name, limit_value, limit_type, enforcement_mode, overage_price, reset_period, pricing_model, price_tiers, package_size, package_price";

    private BillingQuota ReadQuota(SqliteDataReader r, bool customerOwned)
    {
        var service = r.GetString(0);
        var limit = r.GetInt64(1);
        var limitType = r.GetString(2);
        var serviceUnit = GetServices().TryFind(service, out var known) ? known.Unit : limitType;
        return new BillingQuota
        {
            Plan = customerOwned ? null : r.GetString(10),
            CustomerId = customerOwned ? r.GetString(10) : null,
            Service = service,
            Limit = limit < 0 ? null : limit,
            LimitType = limitType,
            UsageUnit = QuotaUnits.UnitOf(service, limitType, serviceUnit),
            Enforcement = Enforcement(r.GetString(3)),
            OveragePrice = BillingText.Decimal(r.GetString(4)),
            ResetPeriod = Reset(r.GetString(5)),
            PricingModel = Pricing(r.GetString(6)),
            Tiers = Tiers(Text(r, 7)),
            PackageSize = DecimalOrNull(r, 8),
            PackagePrice = DecimalOrNull(r, 9),
        };
    }

    public IReadOnlyList<BillingQuota> GetPlanQuotas(string? plan = null) =>
        Query($"SELECT {QuotaColumns}, plan_name FROM billing_quotas" + (plan is null ? "" : " WHERE plan_name = $p") + " ORDER BY plan_name, service_name",
            r => ReadQuota(r, customerOwned: false), ("$p", plan));

    public IReadOnlyList<BillingQuota> GetCustomerQuotas(string? customerId = null) =>
        Query($"SELECT {QuotaColumns}, customer_id FROM usage_customer_quotas" + (customerId is null ? "" : " WHERE customer_id = $c") + " ORDER BY customer_id, service_name",
            r => ReadQuota(r, customerOwned: true), ("$c", customerId));

    public BillingQuota SaveQuota(BillingQuota quota) => WriteTransaction((connection, transaction) =>
    {
        var (table, owner, ownerValue) = quota.CustomerId is null ? ("billing_quotas", "plan_name", quota.Plan!) : ("usage_customer_quotas", "customer_id", quota.CustomerId);
        if (quota.CustomerId is { } customer)
        {
            // A quota for a customer the store has not seen registers it, as its first usage
            // event would, in the same transaction; a removed customer is refused, as tracking refuses it.
            var now = Micros.From(_time.GetUtcNow());
            Execute(connection, transaction, """
                INSERT INTO billing_customers (customer_id, project_name, metadata, created_at, updated_at)
                VALUES ($c, $c, '{}', $now, $now)
                ON CONFLICT (customer_id) DO NOTHING
                """, ("$c", customer), ("$now", now));
            if (Query(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = $c AND deleted_at IS NOT NULL", r => 1, ("$c", customer)).Count > 0)
                throw QuotaForRemovedCustomer(customer);
        }
        Execute(connection, transaction, $"""
            INSERT INTO {table} ({QuotaColumns}, {owner})
            VALUES ($s, $l, $lt, $e, $p, $r, $m, $t, $ps, $pp, $o)
            ON CONFLICT ({owner}, service_name) DO UPDATE SET limit_value = excluded.limit_value, limit_type = excluded.limit_type,
                enforcement_mode = excluded.enforcement_mode, overage_price = excluded.overage_price, reset_period = excluded.reset_period,
                pricing_model = excluded.pricing_model, price_tiers = excluded.price_tiers, package_size = excluded.package_size,
                package_price = excluded.package_price
            """, ("$o", ownerValue), ("$s", quota.Service), ("$l", quota.Limit is { } l ? decimal.ToInt64(l) : -1L), ("$lt", quota.LimitType),
            ("$e", Of(quota.Enforcement)), ("$p", BillingText.Decimal(quota.OveragePrice)), ("$r", Of(quota.ResetPeriod)), ("$m", Of(quota.PricingModel)),
            ("$t", TiersJson(quota.Tiers)), ("$ps", quota.PackageSize is { } ps ? BillingText.Decimal(ps) : null),
            ("$pp", quota.PackagePrice is { } pp ? BillingText.Decimal(pp) : null));
        return quota;
    });

    // ---------------------------------------------------------------- subscriptions

    private const string SubscriptionColumns = "subscription_id, customer_id, plan_name, status, billing_cycle, current_period_start, current_period_end, anchor_local, time_zone, cancel_at_period_end, canceled_at, created_at";

    private static BillingSubscription ReadSubscription(SqliteDataReader r)
    {
        var zone = r.GetString(8);
        var anchorLocal = Anchor(r.GetString(7));
        return new BillingSubscription
        {
            SubscriptionId = r.GetString(0),
            CustomerId = r.GetString(1),
            Plan = r.GetString(2),
            Status = Status(r.GetString(3)),
            BillingCycle = Cycle(r.GetString(4)),
            CurrentPeriodStart = Micros.ToInstant(r.GetInt64(5)),
            CurrentPeriodEnd = Micros.ToInstant(r.GetInt64(6)),
            Anchor = TimeZoneInfo.ConvertTime(BillingPeriods.AtLocal(anchorLocal, TimeZones.Find(zone)), TimeZones.Find(zone)),
            TimeZone = zone,
            CancelAtPeriodEnd = r.GetInt64(9) != 0,
            CanceledAt = InstantOrNull(r, 10),
            CreatedAt = Micros.ToInstant(r.GetInt64(11)),
        };
    }

    public IReadOnlyList<BillingSubscription> GetSubscriptions(string? customerId = null, bool includeEnded = false)
    {
        var where = new List<string>();
        if (customerId is not null)
            where.Add("customer_id = $c");
        if (!includeEnded)
            where.Add("status IN ('active', 'trialing', 'past_due')");
        return Query($"SELECT {SubscriptionColumns} FROM billing_subscriptions" + (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) + " ORDER BY customer_id, created_at",
            ReadSubscription, ("$c", customerId));
    }

    public BillingSubscription AddSubscription(BillingSubscription s) => WriteTransaction((connection, transaction) =>
    {
        if (IsLive(s.Status) && Query(connection, transaction, "SELECT 1 FROM billing_subscriptions WHERE customer_id = $c AND status IN ('active', 'trialing', 'past_due')", r => 1, ("$c", s.CustomerId)).Count > 0)
            throw SubscriptionExists(s.CustomerId);
        var now = Micros.From(_time.GetUtcNow());
        Execute(connection, transaction, """
            INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, status, billing_cycle, current_period_start, current_period_end,
                anchor_local, time_zone, cancel_at_period_end, canceled_at, created_at, updated_at)
            VALUES ($id, $c, $p, $s, $b, $ps, $pe, $a, $z, $x, $ca, $now, $now)
            """, ("$id", s.SubscriptionId), ("$c", s.CustomerId), ("$p", s.Plan), ("$s", Of(s.Status)), ("$b", Of(s.BillingCycle)),
            ("$ps", Micros.From(s.CurrentPeriodStart)), ("$pe", Micros.From(s.CurrentPeriodEnd)), ("$a", AnchorText(s.Anchor.DateTime)), ("$z", s.TimeZone),
            ("$x", s.CancelAtPeriodEnd ? 1 : 0), ("$ca", MicrosOrNull(s.CanceledAt)), ("$now", now));
        return Query(connection, transaction, $"SELECT {SubscriptionColumns} FROM billing_subscriptions WHERE subscription_id = $id", ReadSubscription, ("$id", s.SubscriptionId)).Single();
    });

    public BillingSubscription UpdateSubscription(BillingSubscription s) => WriteTransaction((connection, transaction) =>
    {
        var before = Query(connection, transaction, "SELECT plan_name FROM billing_subscriptions WHERE subscription_id = $id", r => r.GetString(0), ("$id", s.SubscriptionId));
        var now = Micros.From(_time.GetUtcNow());
        // Two changes within one clock tick (a script changing plans twice) are one change: the
        // first keeps the plan the period had, the second its new plan, instead of a key clash.
        if (before.Count == 1 && before[0] != s.Plan)
            Execute(connection, transaction, """
                INSERT INTO billing_plan_changes (subscription_id, customer_id, effective_from, changed_at, from_plan, to_plan)
                VALUES ($id, $c, $from, $now, $old, $new)
                ON CONFLICT (subscription_id, effective_from, changed_at) DO UPDATE SET to_plan = excluded.to_plan
                """, ("$id", s.SubscriptionId), ("$c", s.CustomerId), ("$from", Micros.From(s.CurrentPeriodStart)), ("$now", now), ("$old", before[0]), ("$new", s.Plan));
        var updated = Execute(connection, transaction, """
            UPDATE billing_subscriptions SET plan_name = $p, status = $s, billing_cycle = $b, current_period_start = $ps, current_period_end = $pe,
                anchor_local = $a, time_zone = $z, cancel_at_period_end = $x, canceled_at = $ca, updated_at = $now
            WHERE subscription_id = $id
            """, ("$id", s.SubscriptionId), ("$p", s.Plan), ("$s", Of(s.Status)), ("$b", Of(s.BillingCycle)), ("$ps", Micros.From(s.CurrentPeriodStart)),
            ("$pe", Micros.From(s.CurrentPeriodEnd)), ("$a", AnchorText(s.Anchor.DateTime)), ("$z", s.TimeZone), ("$x", s.CancelAtPeriodEnd ? 1 : 0),
            ("$ca", MicrosOrNull(s.CanceledAt)), ("$now", now));
        if (updated == 0)
            throw new UsageException(ErrorIds.SubscriptionNotFound, UsageErrorKind.ObjectNotFound, $"Subscription '{s.SubscriptionId}' does not exist.", s.SubscriptionId);
        return Query(connection, transaction, $"SELECT {SubscriptionColumns} FROM billing_subscriptions WHERE subscription_id = $id", ReadSubscription, ("$id", s.SubscriptionId)).Single();
    });

    public IReadOnlyList<PlanChange> GetPlanChanges(string customerId) =>
        Query("SELECT subscription_id, effective_from, changed_at, from_plan, to_plan FROM billing_plan_changes WHERE customer_id = $c ORDER BY effective_from, changed_at",
            r => new PlanChange(r.GetString(0), Micros.ToInstant(r.GetInt64(1)), Micros.ToInstant(r.GetInt64(2)), r.GetString(3), r.GetString(4)), ("$c", customerId));

    // ---------------------------------------------------------------- alerts

    public IReadOnlyList<bool> RaiseAlerts(IReadOnlyList<UsageAlert> alerts) => alerts.Count == 0 ? Array.Empty<bool>() : WriteTransaction((connection, transaction) =>
        alerts.Select(alert => Execute(connection, transaction, """
            INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message)
            VALUES ($c, $s, $l, $u, $lim, $p, $ps, $pe, $at, $m)
            ON CONFLICT (customer_id, service_name, level, period_start) DO NOTHING
            """, ("$c", alert.CustomerId), ("$s", alert.Service), ("$l", Of(alert.Level)), ("$u", BillingText.Decimal(alert.Used)),
            ("$lim", BillingText.Decimal(alert.Limit)), ("$p", BillingText.Decimal(alert.Percent)), ("$ps", Micros.From(alert.PeriodStart)),
            ("$pe", Micros.From(alert.PeriodEnd)), ("$at", Micros.From(alert.RaisedAt)), ("$m", alert.Message)) == 1).ToList());

    public IReadOnlyList<UsageAlert> GetAlerts(string? customerId, DateTimeOffset since, QuotaLevel? level = null, string? service = null) =>
        Query("SELECT alert_id, customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message FROM usage_alerts WHERE raised_at >= $since"
                + (customerId is null ? "" : " AND customer_id = $c") + (level is null ? "" : " AND level = $l") + (service is null ? "" : " AND service_name = $s")
                + " ORDER BY raised_at, alert_id",
            r => new UsageAlert
            {
                AlertId = r.GetInt64(0), CustomerId = r.GetString(1), Service = r.GetString(2), Level = Level(r.GetString(3)),
                Used = BillingText.Decimal(r.GetString(4)), Limit = BillingText.Decimal(r.GetString(5)), Percent = BillingText.Decimal(r.GetString(6)),
                PeriodStart = Micros.ToInstant(r.GetInt64(7)), PeriodEnd = Micros.ToInstant(r.GetInt64(8)), RaisedAt = Micros.ToInstant(r.GetInt64(9)), Message = r.GetString(10),
            },
            ("$since", Micros.From(since)), ("$c", customerId), ("$l", level is { } lv ? Of(lv) : null), ("$s", service));

    // ---------------------------------------------------------------- invoices (the rest: Sql/SqlStore.Invoices.cs)

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) =>
        Query("""
            SELECT service_name FROM billing_usage_records
            WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e AND (billing_seal IS NULL OR billing_seal > $a)
            UNION
            SELECT service_name FROM usage_archived_events
            WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e AND (billing_seal IS NULL OR billing_seal > $a) AND quantity IS NOT NULL
            ORDER BY 1
            """,
            r => r.GetString(0), ("$c", customerId), ("$s", Micros.From(start)), ("$e", Micros.From(end)), ("$a", sealedAfter));
}
