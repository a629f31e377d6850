using NSelf.Usage.Engine.Billing;
using System.Globalization;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>The alert thresholds, in percent of a limit (USAGE_ALERT_WARNING/CRITICAL/EXCEEDED).</summary>
public sealed record AlertThresholds(decimal Warning, decimal Critical, decimal Exceeded)
{
    public static AlertThresholds From(EnvironmentSettings environment)
    {
        var thresholds = new AlertThresholds(environment.AlertWarning, environment.AlertCritical, environment.AlertExceeded);
        if (!(thresholds.Warning <= thresholds.Critical && thresholds.Critical <= thresholds.Exceeded))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                string.Create(CultureInfo.InvariantCulture, $"The alert thresholds must rise: USAGE_ALERT_WARNING ({thresholds.Warning}) <= USAGE_ALERT_CRITICAL ({thresholds.Critical}) <= USAGE_ALERT_EXCEEDED ({thresholds.Exceeded})."), "USAGE_ALERT_*");
        return thresholds;
    }

    /// <summary>The level of a use, compared exactly: 99.5% is Critical, not Exceeded.</summary>
    public QuotaLevel LevelOf(decimal used, decimal? limit)
    {
        if (limit is not { } l)
            return QuotaLevel.Unlimited;
        if (l == 0)
            return used > 0 ? QuotaLevel.Exceeded : QuotaLevel.Ok;
        var percent = used * 100m / l;
        return percent >= Exceeded ? QuotaLevel.Exceeded
            : percent >= Critical ? QuotaLevel.Critical
            : percent >= Warning ? QuotaLevel.Warning
            : QuotaLevel.Ok;
    }
}

/// <summary>A checked quota with the warning line to show when it raised a new alert.</summary>
public sealed record QuotaCheck(QuotaStatus Status, string? Warning);

/// <summary>
/// Test-UsageQuota: use in each quota's current period, from the rollups (one read for every
/// customer and service checked), the level at the configured thresholds, and one alert per
/// customer, service, level and period, recorded in the store the first time it is reached.
/// </summary>
public sealed class QuotaChecker
{
    private readonly Subscriptions _book;
    private readonly AlertThresholds _thresholds;

    public QuotaChecker(Subscriptions book, AlertThresholds thresholds)
    {
        _book = book;
        _thresholds = thresholds;
    }

    /// <summary>Checks the quotas of the given terms (optionally one service), raising alerts unless <paramref name="raiseAlerts"/> is false.</summary>
    /// <param name="confirm">Asked for each alert that would be new (not yet recorded for its
    /// customer, service, level and period) before it is recorded; an alert it declines is not
    /// recorded and has no warning (Test-UsageQuota -WhatIf, -Confirm). Null records every one.</param>
    public IReadOnlyList<QuotaCheck> Check(IReadOnlyList<CustomerTerms> terms, string? service, bool raiseAlerts = true, bool prefixCustomer = false,
        Func<UsageAlert, bool>? confirm = null)
    {
        var now = _book.Now;
        // One span per customer and window: a customer's quotas that reset together (most do:
        // every one a plan sets is per billing period) share one read of its use, which covers
        // every service checked. One span per quota read each customer's rollups once per quota.
        var spans = new List<UsageReports.Span>();
        var spanOf = new Dictionary<UsageReports.Span, int>();
        var checks = new List<(CustomerTerms Terms, BillingQuota Quota, int Span)>();
        foreach (var customer in terms)
            foreach (var quota in customer.Quotas.Values.Where(q => service is null || q.Service == service).OrderBy(q => q.Service, StringComparer.Ordinal))
            {
                var (start, end) = BillingPeriods.QuotaPeriod(quota.ResetPeriod, now, customer.BillingPeriod, customer.Zone);
                var span = new UsageReports.Span(start, end, customer.CustomerId);
                if (!spanOf.TryGetValue(span, out var index))
                {
                    spanOf.Add(span, index = spans.Count);
                    spans.Add(span);
                }
                checks.Add((customer, quota, index));
            }
        if (checks.Count == 0)
            return Array.Empty<QuotaCheck>();

        var services = checks.Select(c => c.Quota.Service).Distinct(StringComparer.Ordinal).ToList();
        var used = new UsageReports(_book.Store).Collect(UsageFilter.AllCustomers(services), spans)
            .ToDictionary(t => (t.Slice, t.Service), t => t.Quantity);

        // Prepaid quotas: each such customer's credit left, once per customer.
        var creditLeft = checks.Where(c => c.Quota.Enforcement == QuotaEnforcement.Prepaid).Select(c => c.Terms).DistinctBy(t => t.CustomerId)
            .ToDictionary(t => t.CustomerId, CreditLeft, StringComparer.Ordinal);

        var statuses = new List<QuotaStatus>(checks.Count);
        var alerts = new List<(int Check, UsageAlert Alert)>();
        for (var i = 0; i < checks.Count; i++)
        {
            var (customer, quota, span) = checks[i];
            var (start, end, _) = spans[span];
            var raw = used.GetValueOrDefault((span, quota.Service));
            var inQuotaUnits = QuotaUnits.ToQuotaUnits(quota.Service, quota.LimitType, raw, start, end);
            decimal? credit = quota.Enforcement == QuotaEnforcement.Prepaid ? creditLeft[customer.CustomerId] : null;
            var level = _thresholds.LevelOf(inQuotaUnits, quota.Limit);
            // A Prepaid quota's limit is its allowance: past it, usage is paid from credit (Critical
            // at most) until none is left (Exceeded), whatever the limit says.
            if (credit is { } left)
                level = left <= 0 ? QuotaLevel.Exceeded : level == QuotaLevel.Exceeded ? QuotaLevel.Critical : level;
            var percent = quota.Limit is > 0 ? decimal.Round(inQuotaUnits * 100m / quota.Limit.Value, 2, MidpointRounding.AwayFromZero) : (decimal?)null;
            var status = new QuotaStatus
            {
                CustomerId = customer.CustomerId,
                Service = quota.Service,
                Plan = quota.Plan ?? customer.Subscription?.Plan,
                Used = Quantities.Normalize(decimal.Round(inQuotaUnits, 6, MidpointRounding.AwayFromZero)),
                Limit = quota.Limit,
                Remaining = quota.Limit is { } l ? Math.Max(0m, Quantities.Normalize(decimal.Round(l - inQuotaUnits, 6, MidpointRounding.AwayFromZero))) : null,
                Percent = percent is { } p ? Quantities.Normalize(p) : null,
                Level = level,
                Enforcement = quota.Enforcement,
                Unit = quota.UsageUnit,
                PeriodStart = start,
                PeriodEnd = end,
                CreditLeft = credit,
            };
            statuses.Add(status);
            if (raiseAlerts && level is QuotaLevel.Warning or QuotaLevel.Critical or QuotaLevel.Exceeded)
                alerts.Add((i, new UsageAlert
                {
                    AlertId = 0,
                    CustomerId = status.CustomerId,
                    Service = status.Service,
                    Level = level,
                    Used = status.Used,
                    Limit = quota.Limit ?? 0,
                    Percent = status.Percent ?? 0,
                    PeriodStart = start,
                    PeriodEnd = end,
                    RaisedAt = Time.Micros.Truncate(now),
                    Message = Wording(status, inQuotaUnits),
                }));
        }

        if (confirm is not null && alerts.Count > 0)
        {
            // Only alerts that would be new are offered: "would record" must not be said of an
            // alert the period already has. One read covers every customer's alerts of the check.
            var recorded = _book.Store.GetAlerts(null, alerts.Min(a => a.Alert.PeriodStart))
                .Select(a => (a.CustomerId, a.Service, a.Level, a.PeriodStart)).ToHashSet();
            alerts = alerts.Where(a => !recorded.Contains((a.Alert.CustomerId, a.Alert.Service, a.Alert.Level, a.Alert.PeriodStart)) && confirm(a.Alert)).ToList();
        }

        // Every alert of the check in one write: a first check across a thousand customers raises
        // a thousand at once.
        var warnings = new string?[checks.Count];
        var isNew = _book.Store.RaiseAlerts(alerts.Select(a => a.Alert).ToList());
        for (var k = 0; k < alerts.Count; k++)
        {
            if (!isNew[k])
                continue;
            var (i, alert) = alerts[k];
            statuses[i] = With(statuses[i], alerted: true);
            warnings[i] = prefixCustomer ? $"[{alert.CustomerId}] {alert.Message}" : alert.Message;
        }
        return statuses.Select((status, i) => new QuotaCheck(status, warnings[i])).ToList();
    }

    /// <summary>The quantity a check asks about (Test-UsageQuota -Quantity): zero or more.</summary>
    /// <param name="asGiven">The quantity as the caller wrote it, for the error's TargetObject.</param>
    public static decimal Requested(decimal quantity, object? asGiven)
    {
        if (quantity < 0)
            throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"-Quantity {Quantities.Format(quantity)} is negative.", asGiven);
        return quantity;
    }

    /// <summary>
    /// Test-UsageQuota -Quiet: whether <paramref name="quantity"/> more of the service checked
    /// fits. The quantity is in the service's unit and is converted to the quota's (storage's GB
    /// to GB-hours over the period); no status (no quota for the service) always fits.
    /// </summary>
    /// <param name="checks">The check of one customer and one service (the first status is the one asked about).</param>
    /// <param name="quotas">That customer's quotas, by service.</param>
    public static bool Fits(IReadOnlyList<QuotaCheck> checks, IReadOnlyDictionary<string, BillingQuota> quotas, decimal quantity)
    {
        if (checks.Count == 0)
            return true;
        var status = checks[0].Status;
        var more = quotas.GetValueOrDefault(status.Service) is { } quota
            ? QuotaUnits.ToQuotaUnits(quota.Service, quota.LimitType, quantity, status.PeriodStart, status.PeriodEnd)
            : quantity;
        return Allows(status, more);
    }

    /// <summary>
    /// Whether <paramref name="quantityInQuotaUnits"/> more units are allowed: false past a hard
    /// limit, and for a Prepaid quota once no credit is left (its limit is an allowance, not a stop).
    /// </summary>
    public static bool Allows(QuotaStatus status, decimal quantityInQuotaUnits) =>
        status.Enforcement switch
        {
            QuotaEnforcement.Soft => true,
            QuotaEnforcement.Prepaid => status.CreditLeft is > 0,
            _ => status.Limit is not { } limit || status.Used + quantityInQuotaUnits <= limit,
        };

    /// <summary>A customer's prepaid credit left: its balance in the plan's currency less what this period's usage has cost so far.</summary>
    private decimal CreditLeft(CustomerTerms terms)
    {
        var balance = Settlement.Balances(terms.CustomerId, Settlement.Grants(_book.Store.GetLedger(terms.CustomerId), _book.Now))
            .FirstOrDefault(b => string.Equals(b.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase))?.Balance ?? 0m;
        return Money.Round(balance - Invoicing.PeriodUsage(_book, terms, terms.Zone).Cost, terms.Currency);
    }

    /// <summary>The bash library's wording.</summary>
    public static string Wording(QuotaStatus status, decimal used)
    {
        string N(decimal? value) => Quantities.Format(decimal.Round(value ?? 0, 6, MidpointRounding.AwayFromZero));
        var percent = status.Percent is { } p ? Quantities.Format(p) : "∞";
        return status.Level switch
        {
            QuotaLevel.Exceeded when status.CreditLeft is <= 0 => string.Create(CultureInfo.InvariantCulture, $"QUOTA EXCEEDED: {status.Service} - no prepaid credit left ({status.CreditLeft})"),
            QuotaLevel.Exceeded => $"QUOTA EXCEEDED: {status.Service} - {N(used)}/{N(status.Limit)} ({percent}%)",
            QuotaLevel.Critical => $"CRITICAL: {status.Service} usage at {percent}% - {N(used)}/{N(status.Limit)}",
            _ => $"WARNING: {status.Service} usage at {percent}% - {N(used)}/{N(status.Limit)}",
        };
    }

    private static QuotaStatus With(QuotaStatus s, bool alerted) => new()
    {
        CustomerId = s.CustomerId, Service = s.Service, Plan = s.Plan, Used = s.Used, Limit = s.Limit, Remaining = s.Remaining, Percent = s.Percent,
        Level = s.Level, Enforcement = s.Enforcement, Unit = s.Unit, PeriodStart = s.PeriodStart, PeriodEnd = s.PeriodEnd, Alerted = alerted, CreditLeft = s.CreditLeft,
    };
}
