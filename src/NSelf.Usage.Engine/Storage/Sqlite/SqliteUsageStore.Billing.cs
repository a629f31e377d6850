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

    // ---------------------------------------------------------------- invoices

    private const string InvoiceColumns = "invoice_id, customer_id, plan_name, status, currency, subtotal, tax_rate, tax, total, period_start, period_end, due_date, created_at, finalized_at";

    private const string LineColumns = "line_number, kind, service_name, description, quantity, included, billable, unit, unit_price, amount, period_start, period_end, tiers, events, events_hash";

    private static BillingInvoice ReadInvoice(SqliteDataReader r, IReadOnlyList<BillingInvoiceLine> lines) => new()
    {
        InvoiceId = r.GetString(0),
        CustomerId = r.GetString(1),
        Plan = Text(r, 2),
        Status = Invoice(r.GetString(3)),
        Currency = r.GetString(4),
        Subtotal = BillingText.Decimal(r.GetString(5)),
        TaxRate = BillingText.Decimal(r.GetString(6)),
        Tax = BillingText.Decimal(r.GetString(7)),
        Total = BillingText.Decimal(r.GetString(8)),
        PeriodStart = Micros.ToInstant(r.GetInt64(9)),
        PeriodEnd = Micros.ToInstant(r.GetInt64(10)),
        DueDate = InstantOrNull(r, 11),
        CreatedAt = Micros.ToInstant(r.GetInt64(12)),
        FinalizedAt = InstantOrNull(r, 13),
        Lines = lines,
    };

    private static BillingInvoiceLine ReadLine(SqliteDataReader r) => new()
    {
        LineNumber = r.GetInt32(0),
        Kind = LineKind(r.GetString(1)),
        Service = Text(r, 2),
        Description = r.GetString(3),
        Quantity = BillingText.Decimal(r.GetString(4)),
        Included = BillingText.Decimal(r.GetString(5)),
        Billable = BillingText.Decimal(r.GetString(6)),
        Unit = Text(r, 7),
        UnitPrice = DecimalOrNull(r, 8),
        Amount = BillingText.Decimal(r.GetString(9)),
        PeriodStart = Micros.ToInstant(r.GetInt64(10)),
        PeriodEnd = Micros.ToInstant(r.GetInt64(11)),
        Tiers = TierAmounts(Text(r, 12)),
        Events = r.GetInt64(13),
        EventsHash = Text(r, 14),
    };

    private static List<BillingInvoice> ReadInvoices(SqliteConnection connection, SqliteTransaction? transaction, string where, params (string, object?)[] parameters)
    {
        var headers = Query(connection, transaction, $"SELECT {InvoiceColumns} FROM billing_invoices {where} ORDER BY period_start, invoice_id",
            r => ReadInvoice(r, Array.Empty<BillingInvoiceLine>()), parameters);
        return headers.Select(h => Money.InCurrency(new BillingInvoice
        {
            InvoiceId = h.InvoiceId, CustomerId = h.CustomerId, Plan = h.Plan, Status = h.Status, Currency = h.Currency, Subtotal = h.Subtotal,
            TaxRate = h.TaxRate, Tax = h.Tax, Total = h.Total, PeriodStart = h.PeriodStart, PeriodEnd = h.PeriodEnd, DueDate = h.DueDate,
            CreatedAt = h.CreatedAt, FinalizedAt = h.FinalizedAt,
            Lines = Query(connection, transaction, $"SELECT {LineColumns} FROM billing_invoice_lines WHERE invoice_id = $i ORDER BY line_number", ReadLine, ("$i", h.InvoiceId)),
        })).ToList();
    }

    public BillingInvoice? GetInvoice(string invoiceId)
    {
        using var connection = Reader();
        return ReadInvoices(connection, null, "WHERE invoice_id = $i", ("$i", invoiceId)).FirstOrDefault();
    }

    public BillingInvoice? FindInvoice(string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        using var connection = Reader();
        return FindInvoice(connection, null, customerId, periodStart, periodEnd);
    }

    private static BillingInvoice? FindInvoice(SqliteConnection connection, SqliteTransaction? transaction, string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd) =>
        ReadInvoices(connection, transaction, "WHERE customer_id = $c AND period_start = $s AND period_end = $e AND status <> 'void'",
            ("$c", customerId), ("$s", Micros.From(periodStart)), ("$e", Micros.From(periodEnd))).FirstOrDefault();

    public IReadOnlyList<BillingInvoice> GetInvoices(string? customerId = null)
    {
        using var connection = Reader();
        return customerId is null ? ReadInvoices(connection, null, "") : ReadInvoices(connection, null, "WHERE customer_id = $c", ("$c", customerId));
    }

    public SavedInvoice SaveDraft(BillingInvoice draft, IReadOnlyList<SealRange> lineCutoffs, bool replaceDraft) =>
        WriteTransaction((connection, transaction) =>
        {
            var overlapping = ReadInvoices(connection, transaction,
                "WHERE customer_id = $c AND status <> 'void' AND period_start < $e AND period_end > $s AND NOT (period_start = $s AND period_end = $e)",
                ("$c", draft.CustomerId), ("$s", Micros.From(draft.PeriodStart)), ("$e", Micros.From(draft.PeriodEnd)));
            if (overlapping.Count > 0)
                throw BillingText.InvoiceOverlap(draft, overlapping[0]);
            var existing = FindInvoice(connection, transaction, draft.CustomerId, draft.PeriodStart, draft.PeriodEnd);
            if (existing is not null && (existing.Status != InvoiceStatus.Draft || !replaceDraft))
                return new SavedInvoice(existing, Written: false);
            var invoice = existing is null ? draft : WithId(draft, existing.InvoiceId, existing.CreatedAt);
            if (existing is not null)
                Execute(connection, transaction, "DELETE FROM billing_invoices WHERE invoice_id = $i", ("$i", existing.InvoiceId));
            WriteInvoice(connection, transaction, invoice, lineCutoffs, seal: null);
            return new SavedInvoice(ReadInvoices(connection, transaction, "WHERE invoice_id = $i", ("$i", invoice.InvoiceId)).Single(), Written: true);
        });

    public BillingSeal SealUsage(string customerId) =>
        WriteTransaction((connection, transaction) =>
        {
            // One writer at a time: nothing is stored between the seal and these updates, and a
            // seal given out before another finalization saved is checked against it when this one saves.
            var last = LastFinalizedSeal(connection, transaction, customerId);
            var seal = Query(connection, transaction, "UPDATE billing_seal_counter SET last = last + 1 WHERE id = 1 RETURNING last", r => r.GetInt64(0)).Single();
            Execute(connection, transaction, "UPDATE billing_usage_records SET billing_seal = $s WHERE customer_id = $c AND billing_seal IS NULL", ("$s", seal), ("$c", customerId));
            Execute(connection, transaction, "UPDATE usage_archived_events SET billing_seal = $s WHERE customer_id = $c AND billing_seal IS NULL", ("$s", seal), ("$c", customerId));
            return new BillingSeal(customerId, seal, last);
        });

    /// <summary>
    /// The ledger of a finalized invoice: each event its usage and adjustment lines bill, from
    /// their seal ranges, in the transaction that finalizes it. A line whose range now holds other
    /// events than it was worked out from (a writer that set seals itself) is a conflict: worked out again.
    /// </summary>
    private static void RecordBilledEvents(SqliteConnection connection, SqliteTransaction transaction, BillingInvoice invoice, IReadOnlyList<SealRange> cutoffs)
    {
        for (var n = 0; n < invoice.Lines.Count; n++)
        {
            var line = invoice.Lines[n];
            if (line.Kind == InvoiceLineKind.BaseFee || line.Service is null || cutoffs[n].Through is not { } through)
                continue;
            var recorded = Execute(connection, transaction, """
                INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
                SELECT $c, e.event_id, $i, $n, e.quantity FROM (
                    SELECT event_id, quantity, billing_seal FROM billing_usage_records
                    WHERE customer_id = $c AND service_name = $s AND recorded_at >= $ps AND recorded_at < $pe
                    UNION ALL
                    SELECT event_id, quantity, billing_seal FROM usage_archived_events
                    WHERE customer_id = $c AND service_name = $s AND recorded_at >= $ps AND recorded_at < $pe AND quantity IS NOT NULL) e
                WHERE e.billing_seal > $after AND e.billing_seal <= $through
                """, ("$c", invoice.CustomerId), ("$i", invoice.InvoiceId), ("$n", line.LineNumber), ("$s", line.Service),
                ("$ps", Micros.From(line.PeriodStart)), ("$pe", Micros.From(line.PeriodEnd)), ("$after", cutoffs[n].After ?? long.MinValue), ("$through", through));
            if (recorded != line.Events)
                throw BillingText.FinalizationConflict(invoice);
        }
    }

    public IReadOnlyList<AuditedEvent> ReadBillingAudit(string customerId, DateTimeOffset start, DateTimeOffset end) =>
        Query("""
            WITH ev AS (
                SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM billing_usage_records
                WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e
                UNION ALL
                SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM usage_archived_events
                WHERE customer_id = $c AND recorded_at >= $s AND recorded_at < $e AND quantity IS NOT NULL)
            SELECT ev.event_id, ev.service_name, ev.recorded_at, ev.quantity, ev.billing_seal, b.invoice_id, b.line_number, b.quantity
            FROM ev LEFT JOIN billing_line_events b ON b.customer_id = $c AND b.event_id = ev.event_id
            UNION ALL
            SELECT b.event_id, l.service_name, NULL, NULL, NULL, b.invoice_id, b.line_number, b.quantity
            FROM billing_line_events b JOIN billing_invoice_lines l ON l.invoice_id = b.invoice_id AND l.line_number = b.line_number
            WHERE b.customer_id = $c AND l.period_start < $e AND l.period_end > $s
              AND NOT EXISTS (SELECT 1 FROM billing_usage_records r WHERE r.customer_id = $c AND r.event_id = b.event_id)
              AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = $c AND a.event_id = b.event_id AND a.quantity IS NOT NULL)
            """,
            r => new AuditedEvent(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : Micros.ToInstant(r.GetInt64(2)),
                r.IsDBNull(3) ? null : Ingestion.Quantities.FromScaled(r.GetInt64(3)), r.IsDBNull(4) ? null : r.GetInt64(4),
                r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : Ingestion.Quantities.FromScaled(r.GetInt64(7))),
            ("$c", customerId), ("$s", Micros.From(start)), ("$e", Micros.From(end)));

    public IReadOnlyList<BilledEvent> ReadBilledEvents(string customerId) =>
        Query("SELECT invoice_id, line_number, event_id, quantity FROM billing_line_events WHERE customer_id = $c ORDER BY invoice_id, line_number, event_id",
            r => new BilledEvent(r.GetString(0), r.GetInt32(1), r.GetString(2), Ingestion.Quantities.FromScaled(r.GetInt64(3))), ("$c", customerId));

    private static long? LastFinalizedSeal(SqliteConnection connection, SqliteTransaction transaction, string customerId) =>
        Query(connection, transaction, "SELECT max(billing_seal) FROM billing_invoices WHERE customer_id = $c", r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0), ("$c", customerId)).Single();

    public IReadOnlyDictionary<string, long> GetInvoiceSeals(string customerId) =>
        Query("SELECT invoice_id, billing_seal FROM billing_invoices WHERE customer_id = $c AND billing_seal IS NOT NULL", r => (r.GetString(0), r.GetInt64(1)), ("$c", customerId))
            .ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

    public BillingInvoice FinalizeInvoice(BillingInvoice finalized, IReadOnlyList<SealRange> lineCutoffs, BillingSeal seal) =>
        WriteTransaction((connection, transaction) =>
        {
            if (LastFinalizedSeal(connection, transaction, finalized.CustomerId) != seal.LastFinalized)
                throw BillingText.FinalizationConflict(finalized);
            var current = ReadInvoices(connection, transaction, "WHERE invoice_id = $i", ("$i", finalized.InvoiceId)).SingleOrDefault()
                ?? throw new UsageException(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{finalized.InvoiceId}' does not exist.", finalized.InvoiceId);
            if (current.Status != InvoiceStatus.Draft)
                throw new UsageException(ErrorIds.InvoiceFinalized, UsageErrorKind.InvalidOperation,
                    $"Invoice '{finalized.InvoiceId}' is already {current.Status.ToString().ToLowerInvariant()}; a finalized invoice never changes.", finalized.InvoiceId);
            Execute(connection, transaction, "DELETE FROM billing_invoices WHERE invoice_id = $i", ("$i", current.InvoiceId));
            WriteInvoice(connection, transaction, WithId(finalized, current.InvoiceId, current.CreatedAt), lineCutoffs, seal.Seal);
            RecordBilledEvents(connection, transaction, WithId(finalized, current.InvoiceId, current.CreatedAt), lineCutoffs);
            return ReadInvoices(connection, transaction, "WHERE invoice_id = $i", ("$i", current.InvoiceId)).Single();
        });

    private static BillingInvoice WithId(BillingInvoice i, string id, DateTimeOffset createdAt) => new()
    {
        InvoiceId = id, CustomerId = i.CustomerId, Plan = i.Plan, Status = i.Status, Currency = i.Currency, Subtotal = i.Subtotal, TaxRate = i.TaxRate,
        Tax = i.Tax, Total = i.Total, PeriodStart = i.PeriodStart, PeriodEnd = i.PeriodEnd, DueDate = i.DueDate, CreatedAt = createdAt,
        FinalizedAt = i.FinalizedAt, Lines = i.Lines,
    };

    private static void WriteInvoice(SqliteConnection connection, SqliteTransaction transaction, BillingInvoice i, IReadOnlyList<SealRange> cutoffs, long? seal)
    {
        Execute(connection, transaction, $"""
            INSERT INTO billing_invoices ({InvoiceColumns}, billing_seal) VALUES ($id, $c, $p, $s, $cur, $sub, $tr, $tax, $tot, $ps, $pe, $due, $ca, $fa, $seal)
            """, ("$seal", seal), ("$id", i.InvoiceId), ("$c", i.CustomerId), ("$p", i.Plan), ("$s", Of(i.Status)), ("$cur", i.Currency), ("$sub", BillingText.Decimal(i.Subtotal)),
            ("$tr", BillingText.Decimal(i.TaxRate)), ("$tax", BillingText.Decimal(i.Tax)), ("$tot", BillingText.Decimal(i.Total)), ("$ps", Micros.From(i.PeriodStart)),
            ("$pe", Micros.From(i.PeriodEnd)), ("$due", MicrosOrNull(i.DueDate)), ("$ca", Micros.From(i.CreatedAt)), ("$fa", MicrosOrNull(i.FinalizedAt)));
        for (var n = 0; n < i.Lines.Count; n++)
        {
            var l = i.Lines[n];
            Execute(connection, transaction, $"""
                INSERT INTO billing_invoice_lines (invoice_id, customer_id, {LineColumns}, sealed_after, sealed_through)
                VALUES ($id, $c, $n, $k, $s, $d, $q, $inc, $b, $u, $up, $a, $ps, $pe, $t, $ev, $h, $after, $through)
                """, ("$id", i.InvoiceId), ("$c", i.CustomerId), ("$n", l.LineNumber), ("$k", Of(l.Kind)), ("$s", l.Service), ("$d", l.Description),
                ("$q", BillingText.Decimal(l.Quantity)), ("$inc", BillingText.Decimal(l.Included)), ("$b", BillingText.Decimal(l.Billable)), ("$u", l.Unit),
                ("$up", l.UnitPrice is { } up ? BillingText.Decimal(up) : null), ("$a", BillingText.Decimal(l.Amount)), ("$ps", Micros.From(l.PeriodStart)),
                ("$pe", Micros.From(l.PeriodEnd)), ("$t", TierAmountsJson(l.Tiers)), ("$ev", l.Events), ("$h", l.EventsHash),
                // A draft's open end is stored as NULL: it bills whatever is stored when it is finalized.
                ("$after", cutoffs[n].After), ("$through", cutoffs[n].Through is { } through && through != SealRange.Open ? through : null));
        }
    }

    public IReadOnlyList<BilledUsage> GetBilledUsage(string customerId) =>
        Query("""
            SELECT l.service_name, l.period_start, l.period_end, group_concat(l.quantity, ' '), max(l.sealed_through)
            FROM billing_invoice_lines l JOIN billing_invoices i ON i.invoice_id = l.invoice_id
            WHERE l.customer_id = $c AND l.kind IN ('usage', 'adjustment') AND i.status IN ('open', 'paid', 'uncollectible') AND l.sealed_through IS NOT NULL
            GROUP BY l.service_name, l.period_start, l.period_end
            """,
            // Quantities are decimal text: summed here, exactly, not by SQLite.
            r => new BilledUsage(r.GetString(0), Micros.ToInstant(r.GetInt64(1)), Micros.ToInstant(r.GetInt64(2)),
                r.GetString(3).Split(' ').Sum(BillingText.Decimal), r.GetInt64(4)),
            ("$c", customerId));

    public IEnumerable<LedgerEntry> ReadLedger(string customerId, string service, DateTimeOffset start, DateTimeOffset end, long? sealedAfter, long sealedThrough)
    {
        using var connection = Reader();
        using var command = connection.CreateCommand();
        // Unsealed events are newer than every seal. Archived events are read from their
        // tombstones, which keep quantity and seal: an archive moves events out of the table, not
        // out of billing. A restored event's tombstone went when it was stored again.
        command.CommandText = $"""
            SELECT event_id, quantity FROM (
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) AS seal FROM billing_usage_records
                WHERE customer_id = $c AND service_name = $s AND recorded_at >= $start AND recorded_at < $end
                UNION ALL
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) FROM usage_archived_events
                WHERE customer_id = $c AND service_name = $s AND recorded_at >= $start AND recorded_at < $end AND quantity IS NOT NULL)
            WHERE seal > $after AND seal <= $through
            ORDER BY event_id
            """;
        command.Parameters.AddWithValue("$c", customerId);
        command.Parameters.AddWithValue("$s", service);
        command.Parameters.AddWithValue("$start", Micros.From(start));
        command.Parameters.AddWithValue("$end", Micros.From(end));
        command.Parameters.AddWithValue("$after", sealedAfter ?? long.MinValue);
        command.Parameters.AddWithValue("$through", sealedThrough);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return new LedgerEntry(reader.GetString(0), Ingestion.Quantities.FromScaled(reader.GetInt64(1)));
    }

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
