using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// A customer's commercial terms at a moment: the live subscription (rolled forward to the
/// period containing now), its plan, the effective quotas (customer overrides win over the
/// plan's), and the billing period. Every billing command starts from one of these.
/// </summary>
public sealed record CustomerTerms(
    string CustomerId,
    BillingSubscription? Subscription,
    BillingPlan? Plan,
    IReadOnlyDictionary<string, BillingQuota> Quotas,
    BillingPeriods.Period BillingPeriod,
    TimeZoneInfo Zone)
{
    public string Currency => Plan?.Currency ?? ServiceCatalog.DefaultCurrency;

    public decimal BaseFee => Plan is null || Subscription is null ? 0m
        : Subscription.BillingCycle == BillingCycle.Yearly ? Plan.PriceYearly : Plan.PriceMonthly;
}

/// <summary>
/// Plans, subscriptions and quotas over a store: finding a customer's terms, and the
/// subscription life cycle. Periods roll forward by themselves when a subscription is read after
/// its period ended (no scheduled job needed), and a cancellation at period end takes effect then.
/// </summary>
public sealed class BillingBook
{
    private readonly IUsageStore _store;
    private readonly TimeProvider _time;

    public BillingBook(IUsageStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public IUsageStore Store => _store;

    public DateTimeOffset Now => _time.GetUtcNow();

    // ---------------------------------------------------------------- subscriptions

    /// <summary>The customer's live subscription, rolled forward; null when there is none.</summary>
    public BillingSubscription? LiveSubscription(string customerId) =>
        _store.GetSubscriptions(customerId).Select(RollForward).FirstOrDefault(s => BillingText.IsLive(s.Status));

    /// <summary>All live subscriptions, rolled forward (one read for every customer).</summary>
    public IReadOnlyList<BillingSubscription> LiveSubscriptions() =>
        _store.GetSubscriptions().Select(RollForward).Where(s => BillingText.IsLive(s.Status)).ToList();

    /// <summary>Moves a subscription whose period has ended to the period containing now, and saves it.</summary>
    public BillingSubscription RollForward(BillingSubscription subscription)
    {
        var now = Now;
        if (subscription.CurrentPeriodEnd > now || !BillingText.IsLive(subscription.Status))
            return subscription;
        var rolled = Rolled(subscription, now);
        return _store.UpdateSubscription(rolled);
    }

    /// <summary>The subscription as of an instant: next periods, or canceled when it was to end.</summary>
    public static BillingSubscription Rolled(BillingSubscription s, DateTimeOffset now)
    {
        if (s.CurrentPeriodEnd > now || !BillingText.IsLive(s.Status))
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
        var anchor = TimeZoneInfo.ConvertTime(start ?? now, zone);
        EnsureCustomer(customerId);
        var period = BillingPeriods.Containing(now > anchor ? now : anchor, anchor.DateTime, cycle, zone);
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

    /// <summary>Changes the plan of the live subscription now; invoices price the period with the plan they find.</summary>
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
        if (resume)
            return _store.UpdateSubscription(Copy(live, cancelAtPeriodEnd: false));
        return atPeriodEnd
            ? _store.UpdateSubscription(Copy(live, cancelAtPeriodEnd: true))
            : _store.UpdateSubscription(Copy(live, status: SubscriptionStatus.Canceled, canceledAt: Micros.Truncate(Now)));
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
        var overrides = _store.GetCustomerQuotas().GroupBy(q => q.CustomerId!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var plans = _store.GetPlans().ToDictionary(p => p.Name, StringComparer.Ordinal);
        var planQuotas = _store.GetPlanQuotas().GroupBy(q => q.Plan!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToList(), StringComparer.Ordinal);
        var customers = customerIds ?? subscriptions.Keys.Union(overrides.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var now = Now;
        var calendar = BillingPeriods.Containing(now, new DateTime(2000, 1, 1), BillingCycle.Monthly, defaultZone);
        var terms = new List<CustomerTerms>(customers.Count);
        foreach (var customer in customers)
        {
            subscriptions.TryGetValue(customer, out var subscription);
            var quotas = new Dictionary<string, BillingQuota>(StringComparer.Ordinal);
            BillingPlan? plan = null;
            if (subscription is not null)
            {
                plans.TryGetValue(subscription.Plan, out plan);
                foreach (var quota in planQuotas.GetValueOrDefault(subscription.Plan) ?? new List<BillingQuota>())
                    quotas[quota.Service] = quota;
            }
            foreach (var quota in overrides.GetValueOrDefault(customer) ?? new List<BillingQuota>())
                quotas[quota.Service] = quota;
            var zone = subscription is null ? defaultZone : TimeZones.Find(subscription.TimeZone);
            var period = subscription is null ? calendar : new BillingPeriods.Period(0, subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd);
            terms.Add(new CustomerTerms(customer, subscription, plan, quotas, period, zone));
        }
        return terms;
    }
}
