using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// What the invoice of a billing period charges for one service, in one place: invoice lines,
/// parts of a period, late usage, Get-BillingSummary and every to-date cost price through here, so
/// a figure shown before the invoice is the figure the invoice will carry.
/// <list type="bullet">
/// <item>A quota with a daily (weekly) reset prices each local day (ISO week from Monday) of the
/// billing period as a window of its own, with the full allowance and the pricing model; other
/// quotas have one window, the billing period. The amount is the sum of the windows' amounts,
/// rounded once.</item>
/// <item>Storage under a GB quota is averaged over the hours of its window, never over the
/// hours elapsed so far: 120 GB-hours in a 720-hour month is 1/6 GB, on the first day too.</item>
/// <item>A part of a period bills the margin of the period's cumulative usage:
/// R(C(before + part)) - R(C(before)), so allowances are given once, tiers and their flat fees are
/// not restarted, and adjoining parts add up to the whole period to the cent.</item>
/// </list>
/// </summary>
public static class PeriodCharges
{
    /// <summary>A half-open interval of a billing period priced on its own.</summary>
    public readonly record struct Window(DateTimeOffset Start, DateTimeOffset End);

    /// <summary>The windows a quota prices [periodStart, periodEnd) in, in time order.</summary>
    public static IReadOnlyList<Window> Windows(QuotaResetPeriod reset, DateTimeOffset periodStart, DateTimeOffset periodEnd, TimeZoneInfo zone)
    {
        if (reset is not (QuotaResetPeriod.Daily or QuotaResetPeriod.Weekly) || periodEnd <= periodStart)
            return new[] { new Window(periodStart, periodEnd) };
        var windows = new List<Window>();
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(periodStart, zone).DateTime);
        if (reset == QuotaResetPeriod.Weekly)
            day = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        var step = reset == QuotaResetPeriod.Weekly ? 7 : 1;
        var from = periodStart;
        while (from < periodEnd)
        {
            day = day.AddDays(step);
            var next = TimeInput.StartOfLocalDay(day, zone).ToUniversalTime();
            // The next local day (week) start is always after from: no window is empty.
            var to = next < periodEnd ? next : periodEnd;
            windows.Add(new Window(from, to));
            from = to;
        }
        return windows;
    }

    /// <summary>
    /// The price of usage in each window (in the service's unit, one quantity per window), summed
    /// over the windows and not rounded. Used, Included and Billable are sums over the windows.
    /// </summary>
    public static PricedUsage Whole(BillingQuota quota, string service, IReadOnlyList<Window> windows, IReadOnlyList<decimal> used)
    {
        var priced = PerWindow(quota, service, windows, used);
        if (priced.Count == 1)
            return priced[0];
        var prices = priced.Where(p => p.Billable > 0).Select(p => p.UnitPrice).Distinct().ToList();
        return new PricedUsage(
            priced.Sum(p => p.Used),
            priced.Sum(p => p.Included),
            priced.Sum(p => p.Billable),
            priced.Sum(p => p.Amount),
            prices.Count == 1 ? prices[0] : prices.Count == 0 && quota.PricingModel == PricingModel.PerUnit ? quota.OveragePrice : null,
            MergeTiers(priced.SelectMany(p => p.Tiers)));
    }

    private static List<PricedUsage> PerWindow(BillingQuota quota, string service, IReadOnlyList<Window> windows, IReadOnlyList<decimal> used)
    {
        if (windows.Count != used.Count || windows.Count == 0)
            throw new ArgumentException("One quantity per window.", nameof(used));
        return windows.Select((w, i) => ServicePricing.Price(quota, QuotaUnits.ToQuotaUnits(service, quota.LimitType, used[i], w.Start, w.End))).ToList();
    }

    /// <summary>
    /// What a part of a billing period bills: the margin its usage adds to the period's charge,
    /// each side rounded to the currency's minor unit. <paramref name="before"/> is the period's
    /// usage before the part (per window), <paramref name="part"/> the part's. Used and Billable
    /// are the part's share, Included the allowance this part used up; a line for a whole period
    /// (<paramref name="wholePeriod"/>) shows the whole allowance instead, as invoices always have.
    /// </summary>
    public static PricedUsage Margin(BillingQuota quota, string service, string currency, IReadOnlyList<Window> windows,
        IReadOnlyList<decimal> before, IReadOnlyList<decimal> part, bool wholePeriod = false)
    {
        var total = before.Zip(part, (b, p) => b + p).ToList();
        var after = Whole(quota, service, windows, total);
        var prior = Whole(quota, service, windows, before);
        var limit = quota.Limit ?? decimal.MaxValue;
        decimal InQuotaUnits(int i, decimal quantity) => QuotaUnits.ToQuotaUnits(service, quota.LimitType, quantity, windows[i].Start, windows[i].End);
        var usedUp = windows.Select((_, i) => Math.Min(InQuotaUnits(i, total[i]), limit) - Math.Min(InQuotaUnits(i, before[i]), limit)).Sum();
        return new PricedUsage(
            after.Used - prior.Used,
            wholePeriod ? after.Included : usedUp,
            after.Billable - prior.Billable,
            Money.Round(after.Amount, currency) - Money.Round(prior.Amount, currency),
            after.UnitPrice,
            MergeTiers(after.Tiers.Concat(prior.Tiers.Select(Negated))));
    }

    /// <summary>
    /// What late usage of a billing period bills: the rounded charge of everything billed for the
    /// period so far plus the late usage, less what was billed for the period's usage so far
    /// (<paramref name="billedAmount"/>, the sum of its rounded lines), so once the period's usage
    /// is all billed, its lines add up to the whole period's charge to the cent, whatever the order
    /// its parts and late usage were billed in. <paramref name="billed"/> is the usage those lines
    /// billed, per window. The amount can be negative where the period's price falls as usage grows
    /// (volume tiers), exactly as a part's margin can.
    /// </summary>
    public static PricedUsage Late(BillingQuota quota, string service, string currency, IReadOnlyList<Window> windows,
        IReadOnlyList<decimal> billed, decimal billedAmount, IReadOnlyList<decimal> late)
    {
        var margin = Margin(quota, service, currency, windows, billed, late);
        // Margin is R(C(billed + late)) - R(C(billed)); the lines may have billed other than R(C(billed))
        // (a later part priced before late usage of an earlier one was billed): settle the difference.
        var owed = Money.Round(Whole(quota, service, windows, billed).Amount, currency) - billedAmount;
        return margin with { Amount = margin.Amount + owed };
    }

    /// <summary>Two charges of one line (parts of two billing periods) added together.</summary>
    public static PricedUsage Add(PricedUsage a, PricedUsage b) => new(
        a.Used + b.Used, a.Included + b.Included, a.Billable + b.Billable, a.Amount + b.Amount,
        a.UnitPrice == b.UnitPrice ? a.UnitPrice : null, MergeTiers(a.Tiers.Concat(b.Tiers)));

    /// <summary>Tier amounts added up by tier; entries that come to nothing are left out.</summary>
    private static IReadOnlyList<InvoiceTierAmount> MergeTiers(IEnumerable<InvoiceTierAmount> tiers)
    {
        var merged = tiers.GroupBy(t => (t.UpTo, t.UnitPrice, t.FlatFee))
            .Select(g => new InvoiceTierAmount { UpTo = g.Key.UpTo, UnitPrice = g.Key.UnitPrice, FlatFee = g.Key.FlatFee, Quantity = g.Sum(t => t.Quantity), Amount = g.Sum(t => t.Amount) })
            .Where(t => t.Quantity != 0 || t.Amount != 0)
            .OrderBy(t => t.UpTo ?? decimal.MaxValue)
            .ToList();
        return merged;
    }

    private static InvoiceTierAmount Negated(InvoiceTierAmount t) =>
        new() { UpTo = t.UpTo, UnitPrice = t.UnitPrice, FlatFee = t.FlatFee, Quantity = -t.Quantity, Amount = -t.Amount };

    /// <summary>
    /// The plan base fee an invoice of [start, end) bills: how many billing periods the dates cover
    /// (up to a cancellation) and the amount, the sum over those periods of
    /// <see cref="BaseFeeShare"/>. Null without a subscription and plan, or when the dates cover
    /// none of the subscription. Invoices and the usage report both call this, so a report's fee
    /// is the invoice's to the cent.
    /// </summary>
    public static (decimal Periods, decimal Amount)? BaseFee(CustomerTerms terms, DateTimeOffset start, DateTimeOffset end)
    {
        if (terms.Subscription is not { } subscription || terms.Plan is null)
            return null;
        var ends = subscription.CanceledAt is { } canceled && canceled < end ? canceled : end;
        var periods = BillingPeriods.PeriodsCovered(start, ends, subscription.Anchor.DateTime, subscription.BillingCycle, terms.Zone);
        if (periods <= 0)
            return null;
        var first = BillingPeriods.StartOf(0, subscription.Anchor.DateTime, subscription.BillingCycle, terms.Zone);
        var fee = BillingPeriods.Parts(terms, start > first ? start : first, ends)
            .Sum(p => BaseFeeShare(terms.BaseFee, terms.Currency, p.PeriodStart, p.PeriodEnd, p.From, p.To));
        return (periods, fee);
    }

    /// <summary>
    /// The base fee of [start, end) within the billing period [periodStart, periodEnd):
    /// R(fee * F(end)) - R(fee * F(start)), F being the fraction of the period elapsed, so
    /// adjoining parts add up to the fee exactly (three thirds of 29.00 are 9.67 + 9.66 + 9.67).
    /// </summary>
    public static decimal BaseFeeShare(decimal fee, string currency, DateTimeOffset periodStart, DateTimeOffset periodEnd, DateTimeOffset start, DateTimeOffset end)
    {
        decimal Elapsed(DateTimeOffset t) => t <= periodStart ? 0m : t >= periodEnd ? 1m : (decimal)(t - periodStart).Ticks / (periodEnd - periodStart).Ticks;
        return Money.Round(fee * Elapsed(end), currency) - Money.Round(fee * Elapsed(start), currency);
    }
}
