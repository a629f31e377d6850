using Npgsql;
using NpgsqlTypes;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Time;
using static NSelf.Usage.Engine.Storage.BillingText;

namespace NSelf.Usage.Engine.Storage.Postgres;

/// <summary>The billing half of the PostgreSQL store, on nself's billing tables and the module's additions.</summary>
public sealed partial class PostgresUsageStore
{
    private static object Db(object? value) => value ?? DBNull.Value;

    private static string? Text(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    private static decimal? DecimalOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Ingestion.Quantities.Normalize(r.GetDecimal(i));

    private static decimal Dec(NpgsqlDataReader r, int i) => Ingestion.Quantities.Normalize(r.GetDecimal(i));

    private static DateTimeOffset? InstantOrNull(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : ToInstant(r.GetDateTime(i));

    private static NpgsqlCommand With(NpgsqlCommand command, params (string Name, object? Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
            command.Parameters.Add(value is null ? new NpgsqlParameter(name, NpgsqlDbType.Unknown) { Value = DBNull.Value } : new NpgsqlParameter(name, value));
        return command;
    }

    private static List<T> Query<T>(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, Func<NpgsqlDataReader, T> read, params (string Name, object? Value)[] parameters)
    {
        using var command = With(Command(connection, sql, transaction), parameters);
        using var reader = command.ExecuteReader();
        var list = new List<T>();
        while (reader.Read())
            list.Add(read(reader));
        return list;
    }

    private List<T> Query<T>(string sql, Func<NpgsqlDataReader, T> read, params (string Name, object? Value)[] parameters) =>
        Run(writing: false, connection => Query(connection, null, sql, read, parameters));

    private static int Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = With(Command(connection, sql, transaction), parameters);
        return command.ExecuteNonQuery();
    }

    // ---------------------------------------------------------------- plans

    private const string PlanColumns = "plan_name, display_name, description, coalesce(price_monthly, 0), coalesce(price_yearly, 0), currency, coalesce(is_active, true), coalesce(sort_order, 0)";

    private static BillingPlan ReadPlan(NpgsqlDataReader r) => new()
    {
        Name = r.GetString(0),
        DisplayName = Text(r, 1),
        Description = Text(r, 2),
        PriceMonthly = Dec(r, 3),
        PriceYearly = Dec(r, 4),
        Currency = r.GetString(5),
        IsActive = r.GetBoolean(6),
        SortOrder = r.GetInt32(7),
    };

    public IReadOnlyList<BillingPlan> GetPlans() => Query($"SELECT {PlanColumns} FROM billing_plans ORDER BY sort_order, plan_name", ReadPlan);

    public BillingPlan? GetPlan(string name) => Query($"SELECT {PlanColumns} FROM billing_plans WHERE plan_name = @n", ReadPlan, ("n", name)).FirstOrDefault();

    public BillingPlan SavePlan(BillingPlan plan) => Write((connection, transaction) =>
    {
        Execute(connection, transaction, """
            INSERT INTO billing_plans (plan_name, display_name, description, price_monthly, price_yearly, currency, is_active, sort_order)
            VALUES (@n, @d, @desc, @m, @y, @c, @a, @o)
            ON CONFLICT (plan_name) DO UPDATE SET display_name = EXCLUDED.display_name, description = EXCLUDED.description,
                price_monthly = EXCLUDED.price_monthly, price_yearly = EXCLUDED.price_yearly, currency = EXCLUDED.currency,
                is_active = EXCLUDED.is_active, sort_order = EXCLUDED.sort_order, updated_at = now()
            """, ("n", plan.Name), ("d", plan.DisplayName), ("desc", plan.Description), ("m", plan.PriceMonthly), ("y", plan.PriceYearly),
            ("c", plan.Currency), ("a", plan.IsActive), ("o", plan.SortOrder));
        return plan;
    });

    // ---------------------------------------------------------------- quotas

    // nself's columns may be null in its own rows; the defaults are nself's.
    private const string QuotaColumns = "service_name, coalesce(limit_value, -1), coalesce(limit_type, 'requests'), coalesce(enforcement_mode, 'soft'), coalesce(overage_price, 0), coalesce(reset_period, 'monthly'), coalesce(pricing_model, 'per_unit'), price_tiers::text, package_size, package_price";

    private BillingQuota ReadQuota(NpgsqlDataReader r, bool customerOwned)
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
            OveragePrice = Dec(r, 4),
            ResetPeriod = Reset(r.GetString(5)),
            PricingModel = Pricing(r.GetString(6)),
            Tiers = Tiers(Text(r, 7)),
            PackageSize = DecimalOrNull(r, 8),
            PackagePrice = DecimalOrNull(r, 9),
        };
    }

    public IReadOnlyList<BillingQuota> GetPlanQuotas(string? plan = null) =>
        Query($"SELECT {QuotaColumns}, plan_name FROM billing_quotas" + (plan is null ? "" : " WHERE plan_name = @p") + " ORDER BY plan_name, service_name",
            r => ReadQuota(r, customerOwned: false), ("p", plan));

    public IReadOnlyList<BillingQuota> GetCustomerQuotas(string? customerId = null) =>
        Query($"SELECT {QuotaColumns}, customer_id FROM usage_customer_quotas" + (customerId is null ? "" : " WHERE customer_id = @c") + " ORDER BY customer_id, service_name",
            r => ReadQuota(r, customerOwned: true), ("c", customerId));

    public BillingQuota SaveQuota(BillingQuota quota) => Write((connection, transaction) =>
    {
        var (table, owner, ownerValue) = quota.CustomerId is null ? ("billing_quotas", "plan_name", quota.Plan!) : ("usage_customer_quotas", "customer_id", quota.CustomerId);
        if (quota.CustomerId is { } customer)
        {
            // A quota for a customer the store has not seen registers it, as its first usage
            // event would, in the same transaction; a removed customer is refused, as tracking refuses it.
            Execute(connection, transaction, """
                INSERT INTO billing_customers (customer_id, project_name) VALUES (@c, @c)
                ON CONFLICT (customer_id) DO NOTHING
                """, ("c", customer));
            if (Query(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = @c AND deleted_at IS NOT NULL", r => 1, ("c", customer)).Count > 0)
                throw QuotaForRemovedCustomer(customer);
        }
        using var command = Command(connection, $"""
            INSERT INTO {table} ({owner}, service_name, limit_value, limit_type, enforcement_mode, overage_price, reset_period, pricing_model, price_tiers, package_size, package_price)
            VALUES (@o, @s, @l, @lt, @e, @p, @r, @m, @t, @ps, @pp)
            ON CONFLICT ({owner}, service_name) DO UPDATE SET limit_value = EXCLUDED.limit_value, limit_type = EXCLUDED.limit_type,
                enforcement_mode = EXCLUDED.enforcement_mode, overage_price = EXCLUDED.overage_price, reset_period = EXCLUDED.reset_period,
                pricing_model = EXCLUDED.pricing_model, price_tiers = EXCLUDED.price_tiers, package_size = EXCLUDED.package_size,
                package_price = EXCLUDED.package_price
            """, transaction);
        command.Parameters.AddWithValue("o", ownerValue);
        command.Parameters.AddWithValue("s", quota.Service);
        command.Parameters.AddWithValue("l", quota.Limit is { } l ? decimal.ToInt64(l) : -1L);
        command.Parameters.AddWithValue("lt", quota.LimitType);
        command.Parameters.AddWithValue("e", Of(quota.Enforcement));
        command.Parameters.AddWithValue("p", quota.OveragePrice);
        command.Parameters.AddWithValue("r", Of(quota.ResetPeriod));
        command.Parameters.AddWithValue("m", Of(quota.PricingModel));
        command.Parameters.AddWithValue("t", NpgsqlDbType.Jsonb, (object?)TiersJson(quota.Tiers) ?? DBNull.Value);
        command.Parameters.AddWithValue("ps", NpgsqlDbType.Numeric, (object?)quota.PackageSize ?? DBNull.Value);
        command.Parameters.AddWithValue("pp", NpgsqlDbType.Numeric, (object?)quota.PackagePrice ?? DBNull.Value);
        command.ExecuteNonQuery();
        return quota;
    });

    // ---------------------------------------------------------------- subscriptions

    private const string SubscriptionColumns = "subscription_id, customer_id, plan_name, status, coalesce(billing_cycle, 'monthly'), current_period_start, current_period_end, coalesce(anchor_local, current_period_start AT TIME ZONE 'UTC'), time_zone, coalesce(cancel_at_period_end, false), canceled_at, coalesce(created_at, current_period_start)";

    private static BillingSubscription ReadSubscription(NpgsqlDataReader r)
    {
        var zoneId = r.GetString(8);
        var zone = TimeZones.Find(zoneId);
        var anchorLocal = DateTime.SpecifyKind(r.GetDateTime(7), DateTimeKind.Unspecified);
        return new BillingSubscription
        {
            SubscriptionId = r.GetString(0),
            CustomerId = r.GetString(1),
            Plan = r.GetString(2),
            Status = Status(r.GetString(3)),
            BillingCycle = Cycle(r.GetString(4)),
            CurrentPeriodStart = ToInstant(r.GetDateTime(5)),
            CurrentPeriodEnd = ToInstant(r.GetDateTime(6)),
            Anchor = TimeZoneInfo.ConvertTime(BillingPeriods.AtLocal(anchorLocal, zone), zone),
            TimeZone = zoneId,
            CancelAtPeriodEnd = r.GetBoolean(9),
            CanceledAt = InstantOrNull(r, 10),
            CreatedAt = ToInstant(r.GetDateTime(11)),
        };
    }

    public IReadOnlyList<BillingSubscription> GetSubscriptions(string? customerId = null, bool includeEnded = false)
    {
        var where = new List<string>();
        if (customerId is not null)
            where.Add("customer_id = @c");
        if (!includeEnded)
            where.Add("status IN ('active', 'trialing', 'past_due')");
        return Query($"SELECT {SubscriptionColumns} FROM billing_subscriptions" + (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) + " ORDER BY customer_id, created_at",
            ReadSubscription, ("c", customerId));
    }

    public BillingSubscription AddSubscription(BillingSubscription s) => Write((connection, transaction) =>
    {
        // The customer's row is locked first, so two hosts subscribing one customer at once
        // queue here and the second sees the first's subscription.
        Execute(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = @c FOR UPDATE", ("c", s.CustomerId));
        if (IsLive(s.Status) && Query(connection, transaction, "SELECT 1 FROM billing_subscriptions WHERE customer_id = @c AND status IN ('active', 'trialing', 'past_due')", r => 1, ("c", s.CustomerId)).Count > 0)
            throw SubscriptionExists(s.CustomerId);
        using (var command = Command(connection, """
            INSERT INTO billing_subscriptions (subscription_id, customer_id, plan_name, status, billing_cycle, current_period_start, current_period_end,
                anchor_local, time_zone, cancel_at_period_end, canceled_at)
            VALUES (@id, @c, @p, @s, @b, @ps, @pe, @a, @z, @x, @ca)
            """, transaction))
        {
            AddSubscriptionParameters(command, s);
            command.ExecuteNonQuery();
        }
        return Query(connection, transaction, $"SELECT {SubscriptionColumns} FROM billing_subscriptions WHERE subscription_id = @id", ReadSubscription, ("id", s.SubscriptionId)).Single();
    });

    private static void AddSubscriptionParameters(NpgsqlCommand command, BillingSubscription s)
    {
        command.Parameters.AddWithValue("id", s.SubscriptionId);
        command.Parameters.AddWithValue("c", s.CustomerId);
        command.Parameters.AddWithValue("p", s.Plan);
        command.Parameters.AddWithValue("s", Of(s.Status));
        command.Parameters.AddWithValue("b", Of(s.BillingCycle));
        command.Parameters.AddWithValue("ps", s.CurrentPeriodStart.UtcDateTime);
        command.Parameters.AddWithValue("pe", s.CurrentPeriodEnd.UtcDateTime);
        command.Parameters.AddWithValue("a", NpgsqlDbType.Timestamp, DateTime.SpecifyKind(s.Anchor.DateTime, DateTimeKind.Unspecified));
        command.Parameters.AddWithValue("z", s.TimeZone);
        command.Parameters.AddWithValue("x", s.CancelAtPeriodEnd);
        command.Parameters.AddWithValue("ca", NpgsqlDbType.TimestampTz, (object?)s.CanceledAt?.UtcDateTime ?? DBNull.Value);
    }

    public BillingSubscription UpdateSubscription(BillingSubscription s) => Write((connection, transaction) =>
    {
        var before = Query(connection, transaction, "SELECT plan_name FROM billing_subscriptions WHERE subscription_id = @id FOR UPDATE", r => r.GetString(0), ("id", s.SubscriptionId));
        if (before.Count == 1 && before[0] != s.Plan)
            Execute(connection, transaction, """
                INSERT INTO billing_plan_changes (subscription_id, customer_id, effective_from, changed_at, from_plan, to_plan)
                VALUES (@id, @c, @from, clock_timestamp(), @old, @new)
                """, ("id", s.SubscriptionId), ("c", s.CustomerId), ("from", s.CurrentPeriodStart.UtcDateTime), ("old", before[0]), ("new", s.Plan));
        using (var command = Command(connection, """
            UPDATE billing_subscriptions SET plan_name = @p, status = @s, billing_cycle = @b, current_period_start = @ps, current_period_end = @pe,
                anchor_local = @a, time_zone = @z, cancel_at_period_end = @x, canceled_at = @ca, updated_at = now()
            WHERE subscription_id = @id AND customer_id = @c
            """, transaction))
        {
            AddSubscriptionParameters(command, s);
            if (command.ExecuteNonQuery() == 0)
                throw new UsageException(ErrorIds.SubscriptionNotFound, UsageErrorKind.ObjectNotFound, $"Subscription '{s.SubscriptionId}' does not exist.", s.SubscriptionId);
        }
        return Query(connection, transaction, $"SELECT {SubscriptionColumns} FROM billing_subscriptions WHERE subscription_id = @id", ReadSubscription, ("id", s.SubscriptionId)).Single();
    });

    public IReadOnlyList<PlanChange> GetPlanChanges(string customerId) =>
        Query("SELECT subscription_id, effective_from, changed_at, from_plan, to_plan FROM billing_plan_changes WHERE customer_id = @c ORDER BY effective_from, changed_at",
            r => new PlanChange(r.GetString(0), ToInstant(r.GetDateTime(1)), ToInstant(r.GetDateTime(2)), r.GetString(3), r.GetString(4)), ("c", customerId));

    // ---------------------------------------------------------------- alerts

    // One statement for all the alerts of a check: a thousand customers crossing a line at once
    // were a thousand transactions. RETURNING names the ones that were new.
    public IReadOnlyList<bool> RaiseAlerts(IReadOnlyList<UsageAlert> alerts)
    {
        if (alerts.Count == 0)
            return System.Array.Empty<bool>();
        return Run(writing: true, connection =>
        {
            using var command = Command(connection, """
                INSERT INTO usage_alerts (customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message)
                SELECT * FROM unnest(@c, @s, @l, @u, @lim, @p, @ps, @pe, @at, @m)
                ON CONFLICT (customer_id, service_name, level, period_start) DO NOTHING
                RETURNING customer_id, service_name, level, period_start
                """);
            command.Parameters.Add(Array("c", NpgsqlDbType.Varchar, alerts.Select(a => a.CustomerId)));
            command.Parameters.Add(Array("s", NpgsqlDbType.Varchar, alerts.Select(a => a.Service)));
            command.Parameters.Add(Array("l", NpgsqlDbType.Varchar, alerts.Select(a => Of(a.Level))));
            command.Parameters.Add(Array("u", NpgsqlDbType.Numeric, alerts.Select(a => a.Used)));
            command.Parameters.Add(Array("lim", NpgsqlDbType.Numeric, alerts.Select(a => a.Limit)));
            command.Parameters.Add(Array("p", NpgsqlDbType.Numeric, alerts.Select(a => a.Percent)));
            command.Parameters.Add(Array("ps", NpgsqlDbType.TimestampTz, alerts.Select(a => a.PeriodStart.UtcDateTime)));
            command.Parameters.Add(Array("pe", NpgsqlDbType.TimestampTz, alerts.Select(a => a.PeriodEnd.UtcDateTime)));
            command.Parameters.Add(Array("at", NpgsqlDbType.TimestampTz, alerts.Select(a => a.RaisedAt.UtcDateTime)));
            command.Parameters.Add(Array("m", NpgsqlDbType.Text, alerts.Select(a => a.Message)));
            var created = new HashSet<(string, string, string, DateTimeOffset)>();
            using (var reader = command.ExecuteReader())
                while (reader.Read())
                    created.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2), ToInstant(reader.GetDateTime(3))));
            return alerts.Select(a => created.Contains((a.CustomerId, a.Service, Of(a.Level), a.PeriodStart))).ToList();
        });
    }

    public IReadOnlyList<UsageAlert> GetAlerts(string? customerId, DateTimeOffset since, QuotaLevel? level = null, string? service = null) =>
        Query("SELECT alert_id, customer_id, service_name, level, used, limit_value, percent, period_start, period_end, raised_at, message FROM usage_alerts WHERE raised_at >= @since"
                + (customerId is null ? "" : " AND customer_id = @c") + (level is null ? "" : " AND level = @l") + (service is null ? "" : " AND service_name = @s")
                + " ORDER BY raised_at, alert_id",
            r => new UsageAlert
            {
                AlertId = r.GetInt64(0), CustomerId = r.GetString(1), Service = r.GetString(2), Level = Level(r.GetString(3)),
                Used = Dec(r, 4), Limit = Dec(r, 5), Percent = Dec(r, 6), PeriodStart = ToInstant(r.GetDateTime(7)), PeriodEnd = ToInstant(r.GetDateTime(8)),
                RaisedAt = ToInstant(r.GetDateTime(9)), Message = r.GetString(10),
            },
            ("since", since.UtcDateTime), ("c", customerId), ("l", level is { } lv ? Of(lv) : null), ("s", service));

    // ---------------------------------------------------------------- invoices (the rest: Sql/SqlStore.Invoices.cs)

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) =>
        Query("""
            SELECT service_name FROM billing_usage_records
            WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e AND (billing_seal IS NULL OR billing_seal > @a)
            UNION
            SELECT service_name FROM usage_archived_events
            WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e AND (billing_seal IS NULL OR billing_seal > @a) AND quantity IS NOT NULL
            ORDER BY 1
            """,
            r => r.GetString(0), ("c", customerId), ("s", start.UtcDateTime), ("e", end.UtcDateTime), ("a", sealedAfter));
}
