using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>
/// Plans, subscriptions and quotas over a store: finding a customer's terms, and the
/// subscription life cycle. Periods roll forward by themselves when a subscription is read after
/// its period ended (no scheduled job needed), and a cancellation at period end takes effect then.
/// </summary>
public sealed class Subscriptions
{
    private readonly IUsageStore _store;
    private readonly TimeProvider _time;

    public Subscriptions(IUsageStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public IUsageStore Store => _store;

    public DateTimeOffset Now => _time.GetUtcNow();

    // ---------------------------------------------------------------- subscriptions

    /// <summary>The customer's live subscription, rolled forward; null when there is none.</summary>
    public BillingSubscription? LiveSubscription(string customerId) =>
        Newest(_store.GetSubscriptions(customerId).Select(RollForward).Where(s => SubscriptionRules.IsLive(s.Status)));

    /// <summary>All live subscriptions, rolled forward, one per customer (one read for every customer).</summary>
    public IReadOnlyList<BillingSubscription> LiveSubscriptions() =>
        _store.GetSubscriptions().Select(RollForward).Where(s => SubscriptionRules.IsLive(s.Status))
            .GroupBy(s => s.CustomerId, StringComparer.Ordinal).Select(g => Newest(g)!).ToList();

    /// <summary>
    /// nself never stopped a customer having two live subscriptions, and imported data may hold
    /// them. The newest one (latest created, then highest id) is the customer's, the same on every
    /// read, so one stray row cannot fail every report.
    /// </summary>
    private static BillingSubscription? Newest(IEnumerable<BillingSubscription> subscriptions) =>
        subscriptions.OrderByDescending(s => s.CreatedAt).ThenByDescending(s => s.SubscriptionId, StringComparer.Ordinal).FirstOrDefault();

    /// <summary>Moves a subscription whose period has ended to the period containing now, and saves it.</summary>
    public BillingSubscription RollForward(BillingSubscription subscription)
    {
        var now = Now;
        if (subscription.CurrentPeriodEnd > now || !SubscriptionRules.IsLive(subscription.Status))
            return subscription;
        var rolled = Rolled(subscription, now);
        return _store.UpdateSubscription(rolled);
    }

    /// <summary>The subscription as of an instant: next periods, or canceled when it was to end.</summary>
    public static BillingSubscription Rolled(BillingSubscription s, DateTimeOffset now)
    {
        if (s.CurrentPeriodEnd > now || !SubscriptionRules.IsLive(s.Status))
            return s;
        if (s.CancelAtPeriodEnd)
            return Copy(s, status: SubscriptionStatus.Canceled, canceledAt: s.CurrentPeriodEnd);
        var zone = TimeZones.Find(s.TimeZone);
        var period = BillingPeriods.Containing(now, s.Anchor.DateTime, s.BillingCycle, zone);
        return Copy(s, periodStart: period.Start, periodEnd: period.End);
    }

    public BillingSubscription Subscribe(string customerId, string planName, BillingCycle cycle, DateTimeOffset? start, string? zoneId)
    {
        var plan = RequirePlan(planName);
        if (!plan.IsActive)
            throw new UsageException(ErrorIds.PlanNotFound, UsageErrorKind.InvalidOperation, $"Plan '{plan.Name}' is not active; new subscriptions to it are refused.", planName);
        var zone = TimeZones.Find(zoneId);
        var now = Micros.Truncate(Now);
        // Anchors are whole seconds: every store keeps them exactly, so the periods computed from
        // an anchor read back are the ones computed now.
        var begins = start ?? now;
        DateTimeOffset anchor;
        BillingPeriods.Period period;
        try
        {
            anchor = TimeZoneInfo.ConvertTime(begins.AddTicks(-(begins.UtcTicks % TimeSpan.TicksPerSecond)), zone);
            period = BillingPeriods.Containing(now > anchor ? now : anchor, anchor.DateTime, cycle, zone);
        }
        catch (ArgumentOutOfRangeException e)
        {
            // A start at the edge of the calendar whose periods would run past 9999-12-31 (or before 0001-01-01).
            throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                $"A subscription starting {begins.ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture)} has billing periods outside the calendar .NET can represent; give a realistic -Start.", start, e);
        }
        // Two subscriptions covering the same time would bill it twice (two base fees, usage priced
        // under either plan): a new one starts no earlier than the end of the customer's last one.
        if (_store.GetSubscriptions(customerId, includeEnded: true).Where(s => s.CanceledAt is { } ended && ended > anchor).MaxBy(s => s.CanceledAt) is { } earlier)
            throw new UsageException(ErrorIds.SubscriptionExists, UsageErrorKind.ResourceExists,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Customer '{customerId}' had subscription {earlier.SubscriptionId} until {earlier.CanceledAt:yyyy-MM-dd HH:mm:ss} UTC; a new subscription starting {anchor.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC would bill that time twice. Start it at or after the end of the earlier one."),
                customerId);
        // Only now, with everything checked, is a missing customer registered: a refused start leaves nothing behind.
        EnsureCustomer(customerId);
        return _store.AddSubscription(new BillingSubscription
        {
            SubscriptionId = "sub_" + EventIds.New(_time).Replace("-", "", StringComparison.Ordinal),
            CustomerId = customerId,
            Plan = plan.Name,
            Status = SubscriptionStatus.Active,
            BillingCycle = cycle,
            CurrentPeriodStart = period.Start,
            CurrentPeriodEnd = period.End,
            Anchor = anchor,
            TimeZone = TimeZones.DisplayId(zone),
            CancelAtPeriodEnd = false,
            CreatedAt = now,
        });
    }

    /// <summary>
    /// Changes the plan of the live subscription from the start of its current period: the
    /// current period is priced with the new plan, closed periods keep theirs (the store records
    /// the change in the plan history).
    /// </summary>
    public BillingSubscription ChangePlan(string customerId, string planName)
    {
        var plan = RequirePlan(planName);
        var live = RequireLive(customerId);
        return _store.UpdateSubscription(Copy(live, plan: plan.Name));
    }

    /// <summary>Cancels now, or at the end of the current period; or withdraws a pending cancellation.</summary>
    public BillingSubscription Cancel(string customerId, bool atPeriodEnd, bool resume = false)
    {
        var live = RequireLive(customerId);
        // Every live subscription goes (or stays): with two from old nself data, cancelling only
        // the newest would quietly make the stray older one the customer's plan, and resuming only
        // the newest would leave the older one to end at its period's end.
        var now = Micros.Truncate(Now);
        foreach (var other in _store.GetSubscriptions(customerId).Select(RollForward)
                     .Where(s => SubscriptionRules.IsLive(s.Status) && s.SubscriptionId != live.SubscriptionId))
            _store.UpdateSubscription(resume ? Copy(other, cancelAtPeriodEnd: false)
                : atPeriodEnd ? Copy(other, cancelAtPeriodEnd: true) : Copy(other, status: SubscriptionStatus.Canceled, canceledAt: now));
        if (resume)
            return _store.UpdateSubscription(Copy(live, cancelAtPeriodEnd: false));
        return atPeriodEnd
            ? _store.UpdateSubscription(Copy(live, cancelAtPeriodEnd: true))
            : _store.UpdateSubscription(Copy(live, status: SubscriptionStatus.Canceled, canceledAt: now));
    }

    private BillingSubscription RequireLive(string customerId) =>
        LiveSubscription(customerId) ?? throw new UsageException(ErrorIds.SubscriptionNotFound, UsageErrorKind.ObjectNotFound,
            $"Customer '{customerId}' has no live subscription. Start one with New-BillingSubscription -CustomerId {customerId} -Plan <plan>.", customerId);

    public BillingPlan RequirePlan(string name) =>
        _store.GetPlan(name.Trim().ToLowerInvariant()) ?? _store.GetPlan(name.Trim())
        ?? throw new UsageException(ErrorIds.PlanNotFound, UsageErrorKind.ObjectNotFound,
            $"There is no plan '{name}'. Plans: {string.Join(", ", _store.GetPlans().Select(p => p.Name))}.", name);

    private void EnsureCustomer(string customerId)
    {
        if (_store.GetCustomer(customerId) is not null)
            return;
        if (_store.GetCustomer(customerId, includeRemoved: true) is not null)
            throw new UsageException(ErrorIds.CustomerRemoved, UsageErrorKind.InvalidOperation, $"Customer '{customerId}' was removed.", customerId);
        _store.AddCustomer(customerId, new CustomerChange());
    }

    private static BillingSubscription Copy(BillingSubscription s, string? plan = null, SubscriptionStatus? status = null, DateTimeOffset? periodStart = null,
        DateTimeOffset? periodEnd = null, bool? cancelAtPeriodEnd = null, DateTimeOffset? canceledAt = null) => new()
    {
        SubscriptionId = s.SubscriptionId,
        CustomerId = s.CustomerId,
        Plan = plan ?? s.Plan,
        Status = status ?? s.Status,
        BillingCycle = s.BillingCycle,
        CurrentPeriodStart = periodStart ?? s.CurrentPeriodStart,
        CurrentPeriodEnd = periodEnd ?? s.CurrentPeriodEnd,
        Anchor = s.Anchor,
        TimeZone = s.TimeZone,
        CancelAtPeriodEnd = cancelAtPeriodEnd ?? s.CancelAtPeriodEnd,
        CanceledAt = canceledAt ?? s.CanceledAt,
        CreatedAt = s.CreatedAt,
    };

    // ---------------------------------------------------------------- terms

    /// <summary>The terms of one customer now. Without a subscription: the calendar month in <paramref name="defaultZone"/>, no plan.</summary>
    public CustomerTerms Terms(string customerId, TimeZoneInfo defaultZone) =>
        TermsFor(new[] { customerId }, defaultZone).Single();

    /// <summary>
    /// The terms of many customers (null: every customer with a subscription or a quota override),
    /// read with a fixed number of queries whatever their number.
    /// </summary>
    public IReadOnlyList<CustomerTerms> TermsFor(IReadOnlyCollection<string>? customerIds, TimeZoneInfo defaultZone)
    {
        var subscriptions = LiveSubscriptions().ToDictionary(s => s.CustomerId, StringComparer.Ordinal);
        var catalog = new PlanCatalog(_store);
        var customers = customerIds ?? subscriptions.Keys.Union(catalog.Overrides.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var calendar = CalendarMonth(defaultZone);
        return customers.Select(customer =>
        {
            var subscription = subscriptions.GetValueOrDefault(customer);
            var period = subscription is null ? calendar : new BillingPeriods.Period(0, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd);
            return catalog.Compose(customer, subscription, subscription?.Plan, period, defaultZone);
        }).ToList();
    }

    /// <summary>
    /// The terms an invoice of [start, end) is priced with: the subscription in force then (live
    /// or since ended), with the plan it had at the end of that interval; customer overrides as
    /// they are now. Closed periods keep the plan they had when they closed.
    /// </summary>
    public CustomerTerms TermsOver(string customerId, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo defaultZone)
    {
        var live = LiveSubscription(customerId);
        var subscription = Newest(_store.GetSubscriptions(customerId, includeEnded: true)
            .Select(s => s.SubscriptionId == live?.SubscriptionId ? live : s)
            .Where(s => s.Anchor < end && (s.CanceledAt ?? DateTimeOffset.MaxValue) > start));
        var catalog = new PlanCatalog(_store);
        if (subscription is null)
            return catalog.Compose(customerId, null, null, CalendarMonth(defaultZone), defaultZone);
        var plan = _store.GetPlanChanges(customerId)
            .Where(c => c.SubscriptionId == subscription.SubscriptionId && c.EffectiveFrom >= end)
            .Select(c => c.FromPlan).FirstOrDefault() ?? subscription.Plan;
        var zone = TimeZones.Find(subscription.TimeZone);
        var period = BillingPeriods.Containing(end.AddTicks(-1) < subscription.Anchor ? subscription.Anchor : end.AddTicks(-1), subscription.Anchor.DateTime, subscription.BillingCycle, zone);
        return catalog.Compose(customerId, subscription, plan, period, defaultZone);
    }

    private BillingPeriods.Period CalendarMonth(TimeZoneInfo zone) =>
        BillingPeriods.Containing(Now, new DateTime(2000, 1, 1), BillingCycle.Monthly, zone);

    /// <summary>
    /// <see cref="TermsOver(string, DateTimeOffset, DateTimeOffset, TimeZoneInfo)"/> of many
    /// customers (a report of every customer) with a fixed number of reads, plus one read of plan
    /// changes per customer only for an interval that ended before now: a change takes effect from
    /// the start of the period it was made in, so none can take effect after an end still to come.
    /// </summary>
    public IReadOnlyList<CustomerTerms> TermsOver(IReadOnlyCollection<string> customerIds, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo defaultZone)
    {
        var live = LiveSubscriptions().ToDictionary(s => s.CustomerId, StringComparer.Ordinal);
        var all = _store.GetSubscriptions(null, includeEnded: true).GroupBy(s => s.CustomerId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var catalog = new PlanCatalog(_store);
        var ended = end <= Now;
        return customerIds.Select(customerId =>
        {
            var current = live.GetValueOrDefault(customerId);
            var subscription = Newest((all.GetValueOrDefault(customerId) ?? new List<BillingSubscription>())
                .Select(s => s.SubscriptionId == current?.SubscriptionId ? current : s)
                .Where(s => s.Anchor < end && (s.CanceledAt ?? DateTimeOffset.MaxValue) > start));
            if (subscription is null)
                return catalog.Compose(customerId, null, null, CalendarMonth(defaultZone), defaultZone);
            var plan = (ended ? _store.GetPlanChanges(customerId)
                .Where(c => c.SubscriptionId == subscription.SubscriptionId && c.EffectiveFrom >= end)
                .Select(c => c.FromPlan).FirstOrDefault() : null) ?? subscription.Plan;
            var zone = TimeZones.Find(subscription.TimeZone);
            var period = BillingPeriods.Containing(end.AddTicks(-1) < subscription.Anchor ? subscription.Anchor : end.AddTicks(-1), subscription.Anchor.DateTime, subscription.BillingCycle, zone);
            return catalog.Compose(customerId, subscription, plan, period, defaultZone);
        }).ToList();
    }

    /// <summary>Plans, their quotas and the customer overrides, read once and combined per customer.</summary>
    private sealed class PlanCatalog
    {
        private readonly Dictionary<string, BillingPlan> _plans;
        private readonly Dictionary<string, List<BillingQuota>> _planQuotas;

        public PlanCatalog(IUsageStore store)
        {
            Overrides = store.GetCustomerQuotas().GroupBy(q => q.CustomerId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
            _plans = store.GetPlans().ToDictionary(p => p.Name, StringComparer.Ordinal);
            _planQuotas = store.GetPlanQuotas().GroupBy(q => q.Plan!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        }

        public Dictionary<string, List<BillingQuota>> Overrides { get; }

        public CustomerTerms Compose(string customer, BillingSubscription? subscription, string? planName, BillingPeriods.Period period, TimeZoneInfo defaultZone)
        {
            var quotas = new Dictionary<string, BillingQuota>(StringComparer.Ordinal);
            BillingPlan? plan = null;
            if (subscription is not null && planName is not null)
            {
                _plans.TryGetValue(planName, out plan);
                foreach (var quota in _planQuotas.GetValueOrDefault(planName) ?? new List<BillingQuota>())
                    quotas[quota.Service] = quota;
            }
            foreach (var quota in Overrides.GetValueOrDefault(customer) ?? new List<BillingQuota>())
                quotas[quota.Service] = quota;
            var zone = subscription is null ? defaultZone : TimeZones.Find(subscription.TimeZone);
            return new CustomerTerms(customer, subscription, plan, quotas, period, zone);
        }
    }
}
