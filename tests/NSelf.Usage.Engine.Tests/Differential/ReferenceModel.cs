using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace NSelf.Usage.Engine.Tests.Differential;

/// <summary>
/// The product's semantics, in memory, written from the help pages and decisions (not from the
/// engine's code): a list of events, a list of subscriptions and a list of invoices, and every
/// read computed from them by brute force. Slow and obvious on purpose.
/// </summary>
public sealed class ReferenceModel : IWorld
{
    private sealed class Event
    {
        public required EventSpec Spec { get; set; }
        public required DateTimeOffset IngestedAt { get; init; }
        public bool Archived { get; set; }
        /// <summary>Inserted with plain SQL into SQLite, whose schema has no insert trigger: in no rollup until Repair.</summary>
        public bool Unrolled { get; set; }
    }

    private sealed class Subscription
    {
        public required int Order { get; init; }
        public required string Customer { get; init; }
        public required string InitialPlan { get; init; }
        public List<(DateTimeOffset From, string Plan)> Changes { get; } = new();
        public required DateTime AnchorLocal { get; init; }
        public required DateTimeOffset Anchor { get; init; }
        public required TimeZoneInfo Zone { get; init; }
        public DateTimeOffset? CanceledAt { get; set; }
        public required DateTimeOffset CreatedAt { get; init; }

        public string Plan => Changes.Count == 0 ? InitialPlan : Changes[^1].Plan;

        /// <summary>The plan in force at the end of an interval: changes apply from the start of the period they were made in.</summary>
        public string PlanAt(DateTimeOffset end) => Changes.LastOrDefault(c => c.From < end).Plan ?? InitialPlan;

        public DateTimeOffset PeriodStart(int n) => Utc(AnchorLocal.AddMonths(n), Zone);

        /// <summary>Period n starts n months after the anchor, at the anchor's wall-clock time (day clamped).</summary>
        public (int N, DateTimeOffset Start, DateTimeOffset End) Containing(DateTimeOffset t)
        {
            var local = TimeZoneInfo.ConvertTime(t, Zone);
            var n = (local.Year - AnchorLocal.Year) * 12 + local.Month - AnchorLocal.Month - 1;
            while (PeriodStart(n + 1) <= t) n++;
            while (PeriodStart(n) > t) n--;
            return (n, PeriodStart(n), PeriodStart(n + 1));
        }
    }

    private sealed record Terms(Subscription? Subscription, PlanDef? Plan, Dictionary<string, QuotaDef> Quotas, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, TimeZoneInfo Zone)
    {
        public string Currency => Plan?.Currency ?? "USD";
    }

    private sealed class Invoice
    {
        public required string Customer { get; init; }
        public required DateTimeOffset Start { get; init; }
        public required DateTimeOffset End { get; init; }
        public required BillingInvoice Document { get; set; }
        /// <summary>What the invoice bills of each billing period, recorded when it is finalized.</summary>
        public required List<Billed> Billing { get; set; }

        /// <summary>Which of its period's invoices it is (0 the first; a period invoiced again after a void has more).</summary>
        public int Generation { get; set; }

        /// <summary>Credit applied to it, grant by grant (less what a void gave back).</summary>
        public List<(CreditGrant Grant, decimal Amount)> Applied { get; } = new();

        public decimal Paid { get; set; }

        /// <summary>What credit notes took back in all (net, tax, gross), and the part of it taken off what it owed.</summary>
        public decimal CreditedNet { get; set; }

        public decimal CreditedTax { get; set; }

        public decimal CreditedTotal { get; set; }

        public decimal CreditedOnInvoice { get; set; }

        public string Key => SettlementText.Key(Start, End, Generation);
    }

    /// <summary>Prepaid credit granted to a customer (Add-BillingCredit, or the rest of a credit note).</summary>
    private sealed class CreditGrant
    {
        public required string Customer { get; init; }
        public required int Ordinal { get; init; }
        public required long Id { get; init; }
        public required decimal Amount { get; init; }
        public required string Currency { get; init; }
        public DateTimeOffset? ExpiresAt { get; init; }
        public required int Priority { get; init; }
        /// <summary>Applied to invoices, less what voids gave back.</summary>
        public decimal Used { get; set; }

        public decimal Left => Amount - Used;
    }

    /// <summary>
    /// What one line bills of one billing period's usage of a service: its events and its amount
    /// (a line across several periods has one per period), and the invoice whose interval the
    /// events are in (for an adjustment, the finalized invoice whose late usage it bills).
    /// </summary>
    private sealed record Billed(string Service, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, IReadOnlyList<Event> Events, decimal Amount,
        (DateTimeOffset Start, DateTimeOffset End) For, bool Late);

    /// <summary>A billing period's usage of a service billed by finalized invoices so far, and what it was billed.</summary>
    private sealed record PeriodBill(IReadOnlyList<Event> Events, decimal Amount)
    {
        public static readonly PeriodBill None = new(Array.Empty<Event>(), 0m);

        public PeriodBill Plus(IReadOnlyList<Event> events, decimal amount) => new(Events.Concat(events).ToList(), Amount + amount);

        public PeriodBill Minus(IReadOnlyList<Event> events, decimal amount) => new(Events.Except(events).ToList(), Amount - amount);
    }

    private readonly List<Event> _events = new();
    private readonly Dictionary<(string, string), Event> _byKey = new();
    private readonly List<Subscription> _subscriptions = new();
    private readonly Dictionary<string, Dictionary<string, QuotaDef>> _overrides = new(StringComparer.Ordinal);
    private readonly List<Invoice> _invoices = new();
    private readonly Dictionary<string, List<EventSpec>> _archives = new(StringComparer.Ordinal);
    private readonly HashSet<string> _customers = new(StringComparer.Ordinal);

    /// <summary>Each customer's place (an index into Catalog.Places; 0, nowhere, until set).</summary>
    private readonly Dictionary<string, int> _places = new(StringComparer.Ordinal);

    /// <summary>The seller's invoice prefix, and the last number given in each prefix's series.</summary>
    private string _prefix = "INV-";

    private readonly Dictionary<string, long> _lastNumber = new(StringComparer.Ordinal);
    // What finalized invoices billed per customer, billing period and service.
    private readonly Dictionary<(string, DateTimeOffset, DateTimeOffset, string), PeriodBill> _billed = new();
    // Per finalized invoice and service: the events billed for its interval, by it and by adjustments.
    private readonly Dictionary<(string, DateTimeOffset, DateTimeOffset, string), HashSet<Event>> _billedEvents = new();

    // Issue 19: grants, the ledger in order, and the last number of each prefix's credit note series.
    private readonly List<CreditGrant> _grants = new();
    private readonly List<LedgerLine> _ledger = new();
    private readonly Dictionary<string, long> _lastCreditNote = new(StringComparer.Ordinal);

    private readonly bool _sqlite;
    // The sequence's service that nobody registered (nself's tools stored usage under it), until RegisterService.
    private readonly string _unregistered;
    private bool _registered;
    // Tenant access (PostgreSQL): role index and customer.
    private readonly HashSet<(int, string)> _access = new();

    public ReferenceModel(DateTimeOffset now, bool sqlite, string unregistered)
    {
        Now = now;
        _sqlite = sqlite;
        _unregistered = unregistered;
    }

    public string UnregisteredService => _unregistered;

    /// <summary>Whether the sequence has written with plain SQL, and whether it has touched tenant access (see <see cref="ReadPlan.Verify"/>).</summary>
    public bool WroteForeign { get; private set; }

    public bool TouchedTenants { get; private set; }

    public bool ServiceRegistered => _registered;

    /// <summary>Rows SQLite holds but its rollups do not count yet (Verify reports them until Repair).</summary>
    public bool HasUnrolled => _events.Any(e => e.Unrolled);

    /// <summary>
    /// The stored events a foreign UPDATE or DELETE may touch: in the table (not archived) and billed
    /// by no finalized invoice (a correction of billed usage is another issue's rule).
    /// </summary>
    public IReadOnlyList<EventSpec> Changeable =>
        _events.Where(e => !e.Archived && !_billedEvents.Values.Any(b => b.Contains(e))).Select(e => e.Spec).ToList();

    /// <summary>The mappings of these customers, in a fixed order.</summary>
    public IReadOnlyList<(int Role, string Customer)> Access(IReadOnlyList<string> customers) =>
        _access.Where(a => customers.Contains(a.Item2)).OrderBy(a => a.Item1).ThenBy(a => a.Item2, StringComparer.Ordinal).ToList();

    private IEnumerable<string> AllServices => Catalog.Services.Append(_unregistered);

    /// <summary>Registered (built in, the catalog's custom one, or the sequence's after RegisterService).</summary>
    private bool Registered(string service) => service != _unregistered || _registered;

    private decimal DisplayPrice(string service) => service == _unregistered ? Unregistered.DisplayPrice : Catalog.DisplayPrices[service];

    /// <summary>An unregistered service is reported with no unit.</summary>
    private string UnitOf(string service) => service == _unregistered ? (_registered ? Unregistered.Unit : "") : Catalog.Units[service];

    public DateTimeOffset Now { get; private set; }

    public IReadOnlyCollection<string> KnownCustomers => _customers;

    public IReadOnlyList<EventSpec> Events => _events.Select(e => e.Spec).ToList();

    public IReadOnlyList<string> ArchiveFiles => _archives.Keys.ToList();

    // ------------------------------------------------------------------ helpers

    internal static DateTimeOffset Utc(DateTime local, TimeZoneInfo zone) =>
        new(TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), zone), TimeSpan.Zero);

    internal static DateTimeOffset Micros(DateTimeOffset t) => t.AddTicks(-(t.UtcTicks % 10));

    private static decimal Hours(DateTimeOffset start, DateTimeOffset end) => (decimal)(end - start).Ticks / TimeSpan.TicksPerHour;

    /// <summary>Invoice rounding: to the currency's minor unit, half away from zero.</summary>
    /// <summary>An amount as an invoice shows it: with every digit of the currency's minor unit (10 USD is 10.00).</summary>
    private static decimal Shown(decimal amount, string currency) => currency switch
    {
        "JPY" => decimal.Truncate(amount),
        "KWD" => amount + 0.000m,
        _ => amount + 0.00m,
    };

    internal static decimal Round(decimal amount, string currency) =>
        Math.Round(amount, currency switch { "JPY" => 0, "KWD" => 3, _ => 2 }, MidpointRounding.AwayFromZero);

    private static decimal Six(decimal d) => Math.Round(d, 6, MidpointRounding.AwayFromZero) / 1.000000000000000000000000000m;

    /// <summary>
    /// The price of a quantity (in the quota's unit) under a quota, as Set-UsageQuota describes it:
    /// the limit is included, only the rest is billable, then the pricing model.
    /// </summary>
    internal static (decimal Amount, decimal Included, decimal Billable) Price(QuotaDef quota, decimal used)
    {
        if (quota.Limit is not { } limit)
            return (0m, used, 0m);
        var billable = Math.Max(0m, used - limit);
        var tiers = (quota.Tiers ?? Array.Empty<(decimal?, decimal, decimal)>()).OrderBy(t => t.UpTo ?? decimal.MaxValue).ToList();
        decimal amount = 0;
        switch (quota.Model)
        {
            case PricingModel.PerUnit:
                amount = billable * quota.Overage;
                break;
            case PricingModel.Graduated:
                decimal below = 0;
                foreach (var (upTo, price, flat) in tiers)
                {
                    var top = upTo ?? decimal.MaxValue;
                    var inTier = Math.Max(0m, Math.Min(billable, top) - below);
                    if (inTier > 0)
                        amount += inTier * price + flat;
                    below = top;
                    if (billable <= top)
                        break;
                }
                break;
            case PricingModel.Volume:
                if (billable > 0)
                {
                    var (_, price, flat) = tiers.First(t => t.UpTo is null || billable <= t.UpTo);
                    amount = billable * price + flat;
                }
                break;
            case PricingModel.Package:
                amount = Math.Ceiling(billable / quota.PackageSize!.Value) * quota.PackagePrice!.Value;
                break;
        }
        return (amount, limit, billable);
    }

    /// <summary>A service without a quota: its display price per unit of its own (storage: per GB-hour, not averaged).</summary>
    private QuotaDef Display(string service) => new QuotaDef(service, 0, PricingModel.PerUnit, DisplayPrice(service)) { Averaged = false };

    private static int ServiceRank(string service) =>
        Array.IndexOf(Catalog.BuiltInOrder, service) is var i and >= 0 ? i : int.MaxValue;

    private static string Hash(IEnumerable<string> ids)
    {
        var text = string.Concat(ids.Order(StringComparer.Ordinal).Select(id => id + "\n"));
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
    }

    // ------------------------------------------------------------------ subscriptions and terms

    private Subscription? Live(string customer) =>
        _subscriptions.Where(s => s.Customer == customer && s.CanceledAt is null).MaxBy(s => s.Order);

    private Dictionary<string, QuotaDef> QuotasOf(string customer, PlanDef? plan)
    {
        var quotas = new Dictionary<string, QuotaDef>(StringComparer.Ordinal);
        foreach (var q in plan?.Quotas ?? Array.Empty<QuotaDef>())
            quotas[q.Service] = q;
        foreach (var q in _overrides.GetValueOrDefault(customer)?.Values ?? Enumerable.Empty<QuotaDef>())
            quotas[q.Service] = q;
        return quotas;
    }

    private static PlanDef PlanNamed(string name) => Catalog.Plans.Single(p => p.Name == name);

    /// <summary>Terms now: the live subscription's current plan and period; without one the UTC calendar month.</summary>
    private Terms TermsNow(string customer)
    {
        if (Live(customer) is { } sub)
        {
            var (_, start, end) = sub.Containing(Now > sub.Anchor ? Now : sub.Anchor);
            var plan = PlanNamed(sub.Plan);
            return new Terms(sub, plan, QuotasOf(customer, plan), start, end, sub.Zone);
        }
        var month = new DateTimeOffset(Now.Year, Now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        return new Terms(null, null, QuotasOf(customer, null), month, month.AddMonths(1), TimeZoneInfo.Utc);
    }

    /// <summary>Terms of an invoice: the subscription in force in the interval, with the plan it had at its end.</summary>
    private Terms TermsOver(string customer, DateTimeOffset start, DateTimeOffset end)
    {
        var sub = _subscriptions.Where(s => s.Customer == customer && s.Anchor < end && (s.CanceledAt ?? DateTimeOffset.MaxValue) > start).MaxBy(s => s.Order);
        if (sub is null)
            return TermsNow(customer) with { Subscription = null, Plan = null, Quotas = QuotasOf(customer, null) };
        var plan = PlanNamed(sub.PlanAt(end));
        var (_, ps, pe) = sub.Containing(end.AddTicks(-1) < sub.Anchor ? sub.Anchor : end.AddTicks(-1));
        return new Terms(sub, plan, QuotasOf(customer, plan), ps, pe, sub.Zone);
    }

    public bool SubscribedAt(string customer, DateTimeOffset at) => _subscriptions.Any(s => s.Customer == customer && s.CreatedAt == Micros(at));

    public (DateTimeOffset Start, DateTimeOffset End) CurrentPeriod(string customer) => TermsNow(customer) is var t ? (t.PeriodStart, t.PeriodEnd) : default;

    /// <summary>New-BillingInvoice without dates: the last closed period, or a canceled subscription's last one.</summary>
    public (DateTimeOffset Start, DateTimeOffset End) DefaultPeriod(string customer)
    {
        if (Live(customer) is { } sub)
        {
            var (n, start, _) = sub.Containing(Now);
            if (n <= 0)
                throw new ModelRefusal(ErrorIds.NoBillingPeriod);
            return (sub.PeriodStart(n - 1), start);
        }
        var ended = _subscriptions.Where(s => s.Customer == customer && s.CanceledAt is not null).MaxBy(s => s.CanceledAt)
            ?? throw new ModelRefusal(ErrorIds.NoBillingPeriod);
        var last = ended.Containing(ended.CanceledAt!.Value.AddTicks(-1));
        return (last.Start, ended.CanceledAt.Value > last.Start ? ended.CanceledAt.Value : last.End);
    }

    public (DateTimeOffset Start, DateTimeOffset End)? OldestDraft(string customer) =>
        _invoices.Where(i => i.Customer == customer && i.Document.Status == InvoiceStatus.Draft).OrderBy(i => i.Start).Select(i => ((DateTimeOffset, DateTimeOffset)?)(i.Start, i.End)).FirstOrDefault();


    /// <summary>The periods of the customer's invoices, oldest first.</summary>
    public IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> InvoicePeriods(string customer) =>
        _invoices.Where(i => i.Customer == customer && i.Document.Status != InvoiceStatus.Void).OrderBy(i => i.Start).Select(i => (i.Start, i.End)).ToList();

    /// <summary>One of the customer's invoices in the order they were made (-1: the last one issued), or null when it has none.</summary>
    public InvoiceRef? PickInvoice(string customer, int pick)
    {
        var mine = _invoices.Where(i => i.Customer == customer).ToList();
        if (mine.Count == 0)
            return null;
        var invoice = pick < 0 ? mine.LastOrDefault(i => i.Document.Status != InvoiceStatus.Draft) ?? mine[^1] : mine[pick % mine.Count];
        return new InvoiceRef(customer, invoice.Start, invoice.End, invoice.Generation);
    }

    private Invoice Find(InvoiceRef r) => _invoices.Single(i => i.Customer == r.Customer && i.Start == r.Start && i.End == r.End && i.Generation == r.Generation);

    private static decimal MinorUnit(string currency) => currency switch { "JPY" => 1m, "KWD" => 0.001m, _ => 0.01m };

    /// <summary>A part of what an invoice owes (its total for a draft), at least one minor unit.</summary>
    public decimal PartOfDue(InvoiceRef r, int percent)
    {
        var i = Find(r);
        var currency = i.Document.Currency;
        return Math.Max(MinorUnit(currency), Round(Due(i) * percent / 100m, currency));
    }

    /// <summary>A part of what is left to credit of an invoice (all of it at 100), at least one minor unit.</summary>
    public decimal PartToCredit(InvoiceRef r, int percent)
    {
        var i = Find(r);
        var currency = i.Document.Currency;
        var left = i.Document.Total - i.CreditedTotal;
        return Math.Max(MinorUnit(currency), percent == 100 ? left : Round(left * percent / 100m, currency));
    }

    private static decimal Due(Invoice i) => i.Document.Status switch
    {
        InvoiceStatus.Paid or InvoiceStatus.Void => 0m,
        InvoiceStatus.Draft => i.Document.Total,
        _ => i.Document.Total - i.Applied.Sum(a => a.Amount) - i.Paid - i.CreditedOnInvoice,
    };

    /// <summary>An invoice as a read shows it, with what its ledger says it owes.</summary>
    private static BillingInvoice Shown(Invoice i) => i.Document with
    {
        CreditsApplied = i.Applied.Sum(a => a.Amount), AmountPaid = i.Paid, AmountCredited = i.CreditedOnInvoice, AmountDue = Due(i),
    };

    private void Enter(string customer, LedgerEntryKind kind, decimal amount, string currency, Invoice? invoice, CreditGrant? grant) =>
        _ledger.Add(new LedgerLine(customer, _ledger.Count(l => l.Customer == customer), kind, amount, currency, invoice?.Key, grant?.Ordinal));

    private CreditGrant NewGrant(string customer, decimal amount, string currency, DateTimeOffset? expiresAt, int priority)
    {
        var grant = new CreditGrant
        {
            Customer = customer, Ordinal = _grants.Count(g => g.Customer == customer), Id = _grants.Count, Amount = amount, Currency = currency,
            ExpiresAt = expiresAt, Priority = priority,
        };
        _grants.Add(grant);
        Enter(customer, LedgerEntryKind.Grant, amount, currency, null, grant);
        return grant;
    }

    private string GrantCredit(GrantCommand c)
    {
        NewGrant(c.Customer, c.Amount, c.Currency, c.ExpiresAt, c.Priority);
        return "granted";
    }

    private string Pay(PayCommand c)
    {
        var i = Find(c.Invoice);
        if (i.Document.Status is InvoiceStatus.Draft or InvoiceStatus.Void)
            throw new ModelRefusal(ErrorIds.InvoiceNotPayable);
        var due = Due(i);
        if (i.Document.Status == InvoiceStatus.Paid || due <= 0)
            throw new ModelRefusal(ErrorIds.InvoiceAlreadyPaid);
        var amount = c.Amount ?? due;
        if (amount > due)
            throw new ModelRefusal(ErrorIds.AmountExceedsDue);
        i.Paid += amount;
        Enter(i.Customer, LedgerEntryKind.Payment, amount, i.Document.Currency, i, null);
        if (amount == due)
            i.Document = i.Document with { Status = InvoiceStatus.Paid };
        return $"paid {i.Document.Status} due={SettlementText.M(Due(i))}";
    }

    private string VoidOf(VoidCommand c)
    {
        var i = Find(c.Invoice);
        var laterAdjustments = _invoices.Any(o => o != i && o.Customer == i.Customer && o.Document.Status is InvoiceStatus.Open or InvoiceStatus.Paid
            && o.Document.Lines.Any(l => l.Kind == InvoiceLineKind.Adjustment && l.PeriodStart < i.End && l.PeriodEnd > i.Start));
        if (i.Document.Status is InvoiceStatus.Draft or InvoiceStatus.Void or InvoiceStatus.Paid || i.Paid > 0 || i.CreditedOnInvoice > 0 || laterAdjustments)
            throw new ModelRefusal(ErrorIds.InvoiceNotVoidable);
        var currency = i.Document.Currency;
        // The credit it used goes back to its grants, in the order it was applied; what it owed is written off.
        foreach (var grant in i.Applied.Select(a => a.Grant).Distinct().ToList())
        {
            var used = i.Applied.Where(a => a.Grant == grant).Sum(a => a.Amount);
            if (used <= 0)
                continue;
            grant.Used -= used;
            Enter(i.Customer, LedgerEntryKind.CreditReturned, used, currency, i, grant);
        }
        i.Applied.Clear();
        if (i.Document.Total > 0)
            Enter(i.Customer, LedgerEntryKind.Void, i.Document.Total, currency, i, null);
        i.Document = i.Document with { Status = InvoiceStatus.Void };
        // What it billed is billable again.
        foreach (var b in i.Billing)
        {
            var key = (i.Customer, b.PeriodStart, b.PeriodEnd, b.Service);
            _billed[key] = _billed.GetValueOrDefault(key, PeriodBill.None).Minus(b.Events, b.Amount);
            if (_billedEvents.TryGetValue((i.Customer, b.For.Start, b.For.End, b.Service), out var events))
                events.ExceptWith(b.Events);
        }
        return "voided Void";
    }

    private string CreditNoteOf(CreditNoteCommand c)
    {
        var i = Find(c.Invoice);
        if (i.Document.Status is InvoiceStatus.Draft or InvoiceStatus.Void)
            throw new ModelRefusal(ErrorIds.InvoiceNotCreditable);
        var currency = i.Document.Currency;
        var left = i.Document.Total - i.CreditedTotal;
        if (c.Amount > left)
            throw new ModelRefusal(ErrorIds.CreditExceedsInvoice);
        var net = c.Amount == left ? i.Document.Subtotal - i.CreditedNet : Round(c.Amount * 100m / (100m + i.Document.TaxRate), currency);
        var tax = c.Amount - net;
        var due = Due(i);
        var onInvoice = Math.Min(c.Amount, due);
        var rest = c.Amount - onInvoice;
        var number = _lastCreditNote[_prefix] = _lastCreditNote.GetValueOrDefault(_prefix) + 1;
        var name = _prefix + "CN-" + number.ToString("000000", CultureInfo.InvariantCulture);
        (i.CreditedNet, i.CreditedTax, i.CreditedTotal, i.CreditedOnInvoice) = (i.CreditedNet + net, i.CreditedTax + tax, i.CreditedTotal + c.Amount, i.CreditedOnInvoice + onInvoice);
        if (onInvoice > 0)
            Enter(i.Customer, LedgerEntryKind.CreditNote, onInvoice, currency, i, null);
        if (rest > 0)
            NewGrant(i.Customer, rest, currency, null, 50);
        if (onInvoice > 0 && onInvoice == due)
            i.Document = i.Document with { Status = InvoiceStatus.Paid };
        return $"credit note total={SettlementText.M(c.Amount)} applied={SettlementText.M(onInvoice)} balance={SettlementText.M(rest)} number={name}";
    }

    /// <summary>At finalization: the total is owed, and the customer's credit in its currency pays what it can, soonest expiry first.</summary>
    private void ApplyCredits(Invoice i, DateTimeOffset at)
    {
        var total = i.Document.Total;
        if (total <= 0)
            return;
        var currency = i.Document.Currency;
        Enter(i.Customer, LedgerEntryKind.Invoiced, total, currency, i, null);
        var left = total;
        foreach (var grant in _grants.Where(g => g.Customer == i.Customer && g.Currency == currency && g.Left > 0 && (g.ExpiresAt is not { } e || e > at))
                     .OrderBy(g => g.ExpiresAt ?? DateTimeOffset.MaxValue).ThenBy(g => g.Priority).ThenBy(g => g.Id).ToList())
        {
            if (left <= 0)
                break;
            var use = Math.Min(grant.Left, left);
            grant.Used += use;
            i.Applied.Add((grant, use));
            Enter(i.Customer, LedgerEntryKind.CreditApplied, use, currency, i, grant);
            left -= use;
        }
        if (left == 0)
            i.Document = i.Document with { Status = InvoiceStatus.Paid };
    }

    public (DateTimeOffset Start, DateTimeOffset End)? LatestFinalized(string customer) =>
        _invoices.Where(i => i.Customer == customer && i.Document.Status is InvoiceStatus.Open or InvoiceStatus.Paid).OrderByDescending(i => i.Document.FinalizedAt)
            .Select(i => ((DateTimeOffset, DateTimeOffset)?)(i.Start, i.End)).FirstOrDefault();

    // ------------------------------------------------------------------ commands

    public string Apply(Command command)
    {
        WroteForeign |= command is ForeignUpdateCommand or ForeignDeleteCommand or ForeignInsertCommand;
        TouchedTenants |= command is GrantAccessCommand or RevokeAccessCommand or ListAccessCommand;
        try
        {
            return command switch
            {
                IngestCommand c => Ingest(c.Events, "ingest"),
                ArchiveCommand c => ArchiveEvents(c),
                ImportCommand c => Ingest(_archives[c.File], "import"),
                ExportImportCommand c => Ingest(_events.Where(e => e.Spec.Customer == c.Customer && !e.Archived).Select(e => e.Spec).ToList(), "import"),
                SubscribeCommand c => Subscribe(c),
                ChangePlanCommand c => ChangePlanOf(c),
                CancelCommand c => CancelOf(c.Customer),
                OverrideCommand c => SetOverride(c),
                InvoiceCommand c => CreateInvoice(c),
                FinalizeCommand c => FinalizeInvoice(c),
                AdvanceCommand c => AdvanceBy(c.By),
                ForeignUpdateCommand c => ForeignUpdate(c),
                ForeignDeleteCommand c => ForeignDelete(c),
                ForeignInsertCommand c => ForeignInsert(c.Event),
                VerifyCommand c => $"verify differences={Differences(c.Customers).Count}",
                RepairCommand c => RepairRollups(c.Customers),
                RegisterServiceCommand => RegisterUnregistered(),
                GrantAccessCommand c => Grant(c),
                RevokeAccessCommand c => Revoke(c),
                ListAccessCommand c => ListAccess(c),
                PlaceCommand c => _customers.Contains(c.Customer) ? Placed(c) : throw new ModelRefusal(ErrorIds.CustomerNotFound),
                PrefixCommand c => "prefix " + (_prefix = c.Prefix),
                SendCommand c => SendInvoice(c),
                GrantCommand c => GrantCredit(c),
                PayCommand c => Pay(c),
                VoidCommand c => VoidOf(c),
                CreditNoteCommand c => CreditNoteOf(c),
                _ => throw new InvalidOperationException(command.ToString()),
            };
        }
        catch (ModelRefusal refusal)
        {
            return "error " + refusal.ErrorId;
        }
    }

    private string Placed(PlaceCommand c)
    {
        _places[c.Customer] = c.Place;
        return "placed";
    }

    // ------------------------------------------------------------------ issue 15: foreign writes, verify, repair, unregistered services

    /// <summary>A correction of a row: both stores' UPDATE triggers move the rollups with it (decision 148).</summary>
    private string ForeignUpdate(ForeignUpdateCommand c)
    {
        var e = _byKey[(c.Customer, c.EventId)];
        e.Spec = e.Spec with { Quantity = c.Quantity };
        return "updated 1";
    }

    /// <summary>A row deleted: gone from every read and from billing, and its id free again (no tombstone).</summary>
    private string ForeignDelete(ForeignDeleteCommand c)
    {
        var e = _byKey[(c.Customer, c.EventId)];
        _events.Remove(e);
        _byKey.Remove((c.Customer, c.EventId));
        return "deleted 1";
    }

    /// <summary>A row inserted with plain SQL: rolled up on PostgreSQL (its insert trigger), not on SQLite (decision 150).</summary>
    private string ForeignInsert(EventSpec spec)
    {
        var added = new Event { Spec = spec, IngestedAt = Micros(Now), Unrolled = _sqlite };
        _events.Add(added);
        _byKey[(spec.Customer, spec.EventId)] = added;
        return "inserted 1";
    }

    private string RepairRollups(IReadOnlyList<string> customers)
    {
        var found = Differences(customers);
        foreach (var e in _events.Where(e => customers.Contains(e.Spec.Customer)))
            e.Unrolled = false;
        return $"repair buckets={found.Count} repaired={found.Count}";
    }

    private string RegisterUnregistered()
    {
        _registered = true;
        return "registered";
    }

    /// <summary>
    /// What Verify reports: every bucket (quarter hour and UTC day) whose rollup, which counts the
    /// events stored through the module and by triggers, differs from all stored events plus
    /// tombstones (archived events count in both).
    /// </summary>
    private List<UsageStoreDifference> Differences(IReadOnlyList<string> customers)
    {
        var found = new List<UsageStoreDifference>();
        foreach (var (grain, ticks) in new[] { ("QuarterHour", TimeSpan.TicksPerMinute * 15), ("Day", TimeSpan.TicksPerDay) })
        {
            var events = _events.Where(e => customers.Contains(e.Spec.Customer)).ToList();
            foreach (var bucket in events.GroupBy(e => (e.Spec.Customer, Start: new DateTimeOffset(e.Spec.Timestamp.UtcTicks - e.Spec.Timestamp.UtcTicks % ticks, TimeSpan.Zero), e.Spec.Service)))
            {
                var rolled = bucket.Where(e => !e.Unrolled).Select(e => e.Spec.Quantity).ToList();
                if (rolled.Count == bucket.Count())
                    continue;
                var all = bucket.Select(e => e.Spec.Quantity).ToList();
                found.Add(new UsageStoreDifference
                {
                    Rollup = grain, CustomerId = bucket.Key.Customer, Service = bucket.Key.Service, BucketStart = bucket.Key.Start,
                    Kind = rolled.Count == 0 ? "Missing" : "Different",
                    ExpectedEvents = all.Count, ExpectedQuantity = all.Sum(), ExpectedMinimum = all.Min(), ExpectedMaximum = all.Max(),
                    StoredEvents = rolled.Count == 0 ? null : rolled.Count, StoredQuantity = rolled.Count == 0 ? null : rolled.Sum(),
                    StoredMinimum = rolled.Count == 0 ? null : rolled.Min(), StoredMaximum = rolled.Count == 0 ? null : rolled.Max(),
                });
            }
        }
        return found;
    }

    // ------------------------------------------------------------------ issue 22: tenant access (PostgreSQL only)

    private void RequirePostgres()
    {
        // A SQLite file has no roles: every tenant-isolation call is refused before the file is touched.
        if (_sqlite)
            throw new ModelRefusal(ErrorIds.InvalidArgument);
    }

    private string Grant(GrantAccessCommand c)
    {
        RequirePostgres();
        if (!_customers.Contains(c.Customer))
            throw new ModelRefusal(ErrorIds.CustomerNotFound);
        _access.Add((c.Role, c.Customer));
        return "granted True";
    }

    private string Revoke(RevokeAccessCommand c)
    {
        RequirePostgres();
        return $"revoked {_access.Remove((c.Role, c.Customer))}";
    }

    private string ListAccess(ListAccessCommand c)
    {
        RequirePostgres();
        return "access " + string.Join(",", _access.Where(a => a.Item1 == c.Role && c.Customers.Contains(a.Item2)).Select(a => a.Item2).Order(StringComparer.Ordinal));
    }

    private string AdvanceBy(TimeSpan by)
    {
        Now += by;
        return "ok";
    }

    /// <summary>Exactly once by (customer, event id); an archived event sent again as it was is restored.</summary>
    private string Ingest(IReadOnlyList<EventSpec> events, string what)
    {
        // Usage of an unregistered service is stored only by nself's tools: the module refuses to
        // write it (InvalidService), a tracking call whole, an imported file row by row.
        if (what == "ingest" && events.Any(e => !Registered(e.Service)))
            throw new ModelRefusal(ErrorIds.InvalidService);
        int inserted = 0, duplicates = 0, rejected = 0;
        foreach (var e in events)
        {
            if (!Registered(e.Service))
            {
                rejected++;
                continue;
            }
            _customers.Add(e.Customer);
            if (_byKey.TryGetValue((e.Customer, e.EventId), out var stored))
            {
                if (stored.Archived && stored.Spec.SamePayload(e))
                {
                    stored.Archived = false;
                    inserted++;
                }
                else
                    duplicates++;
                continue;
            }
            var added = new Event { Spec = e, IngestedAt = Micros(Now) };
            _events.Add(added);
            _byKey[(e.Customer, e.EventId)] = added;
            inserted++;
        }
        return what == "import"
            ? $"import rows={events.Count} inserted={inserted} duplicates={duplicates}" + (rejected > 0 ? $" rejected={rejected} ({string.Join("; ", Enumerable.Repeat(ErrorIds.InvalidService, rejected))})" : "")
            : $"ingest inserted={inserted} duplicates={duplicates}";
    }

    private string ArchiveEvents(ArchiveCommand c)
    {
        var moved = _events.Where(e => e.Spec.Customer == c.Customer && !e.Archived && e.Spec.Timestamp < c.Cutoff).ToList();
        foreach (var e in moved)
            e.Archived = true;
        _archives[c.File] = moved.Select(e => e.Spec).ToList();
        return $"archive rows={moved.Count}";
    }

    private string Subscribe(SubscribeCommand c)
    {
        if (Live(c.Customer) is not null)
            throw new ModelRefusal(ErrorIds.SubscriptionExists);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(c.Zone);
        var anchor = c.Start.AddTicks(-(c.Start.UtcTicks % TimeSpan.TicksPerSecond));
        // A new subscription never covers time an earlier one of the customer already covered.
        if (_subscriptions.Any(s => s.Customer == c.Customer && s.CanceledAt > anchor))
            throw new ModelRefusal(ErrorIds.SubscriptionExists);
        _customers.Add(c.Customer);
        _subscriptions.Add(new Subscription
        {
            Order = _subscriptions.Count, Customer = c.Customer, InitialPlan = c.Plan, AnchorLocal = TimeZoneInfo.ConvertTime(anchor, zone).DateTime,
            Anchor = anchor, Zone = zone, CreatedAt = Micros(Now),
        });
        return "subscribed";
    }

    private string ChangePlanOf(ChangePlanCommand c)
    {
        var sub = Live(c.Customer) ?? throw new ModelRefusal(ErrorIds.SubscriptionNotFound);
        sub.Changes.Add((sub.Containing(Now).Start, c.Plan));
        return "changed";
    }

    private string CancelOf(string customer)
    {
        var sub = Live(customer) ?? throw new ModelRefusal(ErrorIds.SubscriptionNotFound);
        foreach (var s in _subscriptions.Where(s => s.Customer == customer && s.CanceledAt is null))
            s.CanceledAt = Micros(Now);
        return "canceled " + (sub.CanceledAt is null ? "" : "now");
    }

    private string SetOverride(OverrideCommand c)
    {
        if (!_overrides.TryGetValue(c.Customer, out var own))
            _overrides[c.Customer] = own = new Dictionary<string, QuotaDef>(StringComparer.Ordinal);
        own[c.Quota.Service] = c.Quota;
        return "saved";
    }

    private string CreateInvoice(InvoiceCommand c)
    {
        var (start, end) = c.Start is { } s && c.End is { } e ? (s, e) : DefaultPeriod(c.Customer);
        // A void invoice holds its period no more (issue 19).
        var same = _invoices.FirstOrDefault(i => i.Customer == c.Customer && i.Start == start && i.End == end && i.Document.Status != InvoiceStatus.Void);
        var overlapping = _invoices.Any(i => i.Customer == c.Customer && i.Start < end && i.End > start && !(i.Start == start && i.End == end) && i.Document.Status != InvoiceStatus.Void);
        // The preview is worked out first, so an unpriceable service is refused before anything else.
        var built = Build(c.Customer, start, end, Micros(Now), InvoiceStatus.Draft);
        Fits(built.Document);
        if (overlapping)
            throw new ModelRefusal(ErrorIds.InvoicePeriodOverlap);
        if (same is not null)
            return $"invoice existing {same.Document.Status}";
        built.Generation = _invoices.Count(i => i.Customer == c.Customer && i.Start == start && i.End == end);
        _invoices.Add(built);
        return $"invoice new Draft total={Shown(built.Document.Total, built.Document.Currency)}";
    }

    private string FinalizeInvoice(FinalizeCommand c)
    {
        var invoice = _invoices.Single(i => i.Customer == c.Customer && i.Start == c.Start && i.End == c.End && i.Document.Status != InvoiceStatus.Void);
        if (invoice.Document.Status != InvoiceStatus.Draft)
            throw new ModelRefusal(ErrorIds.InvoiceFinalized);
        var now = Micros(Now);
        var final = Build(c.Customer, c.Start, c.End, now, InvoiceStatus.Open);
        Fits(final.Document);
        // The next number of the seller's series, given only to a finalization that succeeds.
        var number = _lastNumber[_prefix] = _lastNumber.GetValueOrDefault(_prefix) + 1;
        // An invoice of nothing is settled as it is issued (issue 19): paid, with nothing due.
        final.Document = final.Document with
        {
            InvoiceNumber = _prefix + number.ToString("000000", CultureInfo.InvariantCulture),
            Status = final.Document.Total <= 0 ? InvoiceStatus.Paid : InvoiceStatus.Open,
        };
        invoice.Document = final.Document;
        invoice.Billing = final.Billing;
        ApplyCredits(invoice, now);
        foreach (var b in final.Billing)
        {
            var key = (c.Customer, b.PeriodStart, b.PeriodEnd, b.Service);
            _billed[key] = _billed.GetValueOrDefault(key, PeriodBill.None).Plus(b.Events, b.Amount);
            var invoiceKey = (c.Customer, b.For.Start, b.For.End, b.Service);
            if (!_billedEvents.TryGetValue(invoiceKey, out var events))
                _billedEvents[invoiceKey] = events = new HashSet<Event>();
            events.UnionWith(b.Events);
        }
        return $"finalized {final.Document.InvoiceNumber} total={Shown(final.Document.Total, final.Document.Currency)}";
    }

    // Send-BillingInvoice: only an issued invoice goes out, and only once unless forced.
    private string SendInvoice(SendCommand c)
    {
        var invoice = _invoices.Single(i => i.Customer == c.Customer && i.Start == c.Start && i.End == c.End && i.Document.Status != InvoiceStatus.Void);
        if (invoice.Document.Status is InvoiceStatus.Draft or InvoiceStatus.Void)
            throw new ModelRefusal(ErrorIds.InvoiceNotSendable);
        if (invoice.Document.SentAt is not null && !c.Force)
            throw new ModelRefusal(ErrorIds.InvoiceAlreadySent);
        invoice.Document = invoice.Document with { SentAt = Micros(Now), SentTo = [c.To] };
        return $"sent {invoice.Document.InvoiceNumber} to {c.To}";
    }

    // ------------------------------------------------------------------ invoices

    /// <summary>
    /// nself's invoice columns hold subtotal, tax and total up to 99,999,999.99 (numeric(10,2)) and
    /// a line's amount up to 9,999,999,999.9999 (numeric(14,4)); an invoice beyond them is refused
    /// on every store, before anything is saved.
    /// </summary>
    private static void Fits(BillingInvoice invoice)
    {
        if (new[] { invoice.Subtotal, invoice.Tax, invoice.Total }.Any(a => Math.Abs(a) > 99_999_999.99m)
            || invoice.Lines.Any(l => Math.Abs(l.Amount) > 9_999_999_999.9999m))
            throw new ModelRefusal(ErrorIds.InvoiceTooLarge);
    }

    /// <summary>
    /// The usage of [start, end) stored by <paramref name="through"/>. Archived events count: an
    /// archive moves events out of the table, not out of billing (decision 100).
    /// </summary>
    private IEnumerable<Event> Ledger(string customer, string service, DateTimeOffset start, DateTimeOffset end, DateTimeOffset through) =>
        _events.Where(e => e.Spec.Customer == customer && e.Spec.Service == service
            && e.Spec.Timestamp >= start && e.Spec.Timestamp < end && e.IngestedAt <= through);

    private QuotaDef QuotaFor(Terms terms, string service)
    {
        if (terms.Quotas.TryGetValue(service, out var quota))
            return quota;
        // An unregistered service has no price and no currency: 0, whatever the plan bills in.
        if (!Registered(service))
            return new QuotaDef(service, 0, PricingModel.PerUnit) { Averaged = false };
        if (terms.Currency != "USD")
            throw new ModelRefusal(ErrorIds.CurrencyMismatch);
        return Display(service);
    }

    /// <summary>What a raw quantity of [start, end) costs under a quota: storage is averaged over the period's hours.</summary>
    private static (decimal Amount, decimal Used, decimal Included, decimal Billable) PriceOver(QuotaDef quota, decimal raw, DateTimeOffset start, DateTimeOffset end)
    {
        var used = quota.Averaged ? raw / Hours(start, end) : raw;
        var (amount, included, billable) = Price(quota, used);
        return (amount, used, included, billable);
    }

    private static string Fraction(decimal d) => (Math.Round(d, 6, MidpointRounding.AwayFromZero) / 1.000000000000000000000000000m).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private Invoice Build(string customer, DateTimeOffset start, DateTimeOffset end, DateTimeOffset cutoff, InvoiceStatus status)
    {
        var terms = TermsOver(customer, start, end);
        var currency = terms.Currency;
        var lines = new List<BillingInvoiceLine>();
        var billing = new List<Billed>();
        if (terms.Subscription is { } sub && terms.Plan is { } plan)
        {
            // Each billing period the interval touches pays the share of the fee it covers:
            // R(fee × F(e)) − R(fee × F(s)), so adjoining parts add up to the whole fee.
            var ends = sub.CanceledAt is { } canceled && canceled < end ? canceled : end;
            decimal fraction = 0, amount = 0;
            if (ends > start)
            {
                var (n, _, _) = sub.Containing(start < sub.Anchor ? sub.Anchor : start);
                for (; sub.PeriodStart(n) < ends; n++)
                {
                    var (ps, pe) = (sub.PeriodStart(n), sub.PeriodStart(n + 1));
                    var from = start > ps ? start : ps;
                    var to = ends < pe ? ends : pe;
                    if (to <= from)
                        continue;
                    decimal F(DateTimeOffset t) => (decimal)(t - ps).Ticks / (pe - ps).Ticks;
                    fraction += F(to) - F(from);
                    amount += Round(plan.Monthly * F(to), currency) - Round(plan.Monthly * F(from), currency);
                }
            }
            if (fraction > 0)
            {
                lines.Add(new BillingInvoiceLine
                {
                    LineNumber = 1, Kind = InvoiceLineKind.BaseFee, Description = "base fee", Quantity = Six(fraction), Included = 0, Billable = Six(fraction),
                    UnitPrice = plan.Monthly, Amount = amount, PeriodStart = start, PeriodEnd = end,
                });
            }
        }

        var services = _events.Where(e => e.Spec.Customer == customer && e.Spec.Timestamp >= start && e.Spec.Timestamp < end).Select(e => e.Spec.Service)
            .Distinct().OrderBy(ServiceRank).ThenBy(s => s, StringComparer.Ordinal);
        foreach (var service in services)
        {
            var ledger = Ledger(customer, service, start, end, cutoff).ToList();
            if (ledger.Count == 0)
                continue;
            var quota = QuotaFor(terms, service);
            var raw = ledger.Sum(e => e.Spec.Quantity);
            decimal amount = 0, used = 0, included = 0, billable = 0;
            // Each billing period the line touches bills the margin its part adds to the period's
            // usage before it (fix 5); a whole period has nothing before it.
            foreach (var (ps, pe, from, to) in Pieces(terms.Subscription, start, end))
            {
                var windows = Windows(quota.Reset, ps, pe, terms.Zone);
                var before = windows.Select(w => Sum(Ledger(customer, service, w.Start, Min(w.End, from), cutoff))).ToList();
                var part = windows.Select(w => Sum(Ledger(customer, service, Max(w.Start, from), Min(w.End, to), cutoff))).ToList();
                var m = Margin(quota, windows, before, part, currency, whole: from == ps && to == pe);
                (amount, used, included, billable) = (amount + m.Amount, used + m.Used, included + m.Included, billable + m.Billable);
                billing.Add(new Billed(service, ps, pe, Ledger(customer, service, from, to, cutoff).ToList(), m.Amount, (start, end), false));
            }
            lines.Add(new BillingInvoiceLine
            {
                LineNumber = lines.Count + 1, Kind = InvoiceLineKind.Usage, Service = service, Description = service,
                Quantity = quota.Averaged ? Six(used) : raw, Included = Six(included), Billable = Six(billable),
                Amount = amount, PeriodStart = start, PeriodEnd = end, Events = ledger.Count, EventsHash = Hash(ledger.Select(e => e.Spec.EventId)),
            });
        }

        // Late usage of finalized invoices, billed once, on the next invoice made, in order of their periods.
        var billedNow = new Dictionary<(string, DateTimeOffset, DateTimeOffset, string), PeriodBill>();
        foreach (var q in _invoices.Where(i => i.Customer == customer && i.Document.Status is InvoiceStatus.Open or InvoiceStatus.Paid && !(i.Start == start && i.End == end)).OrderBy(i => i.Start).ToList())
        {
            foreach (var service in AllServices.OrderBy(ServiceRank).ThenBy(s => s, StringComparer.Ordinal))
            {
                // Late usage is what the invoice's interval has that no finalized line billed.
                var late = Ledger(customer, service, q.Start, q.End, cutoff)
                    .Where(e => !_billedEvents.GetValueOrDefault((customer, q.Start, q.End, service), new()).Contains(e)).ToList();
                if (late.Count == 0)
                    continue;
                var adjustmentTerms = AdjustmentTerms(customer, q.Start, q.End);
                // No exchange rate: late usage of a period billed in another currency is refused.
                if (adjustmentTerms.Currency != currency)
                    throw new ModelRefusal(ErrorIds.CurrencyMismatch);
                var quota = QuotaFor(adjustmentTerms, service);
                decimal amount = 0;
                foreach (var (ps, pe, from, to) in Pieces(adjustmentTerms.Subscription, q.Start, q.End))
                {
                    var windows = Windows(quota.Reset, ps, pe, adjustmentTerms.Zone);
                    var lateHere = late.Where(e => e.Spec.Timestamp >= from && e.Spec.Timestamp < to).ToList();
                    var lateInWindows = windows.Select(w => Sum(lateHere.Where(e => e.Spec.Timestamp >= w.Start && e.Spec.Timestamp < w.End))).ToList();
                    // What the period's billed usage and the late usage cost together, less what the period was billed.
                    var key = (customer, ps, pe, service);
                    var bill = billedNow.GetValueOrDefault(key) ?? _billed.GetValueOrDefault(key, PeriodBill.None);
                    var billed = bill.Events;
                    var billedInWindows = windows.Select(w => Sum(billed.Where(e => e.Spec.Timestamp >= w.Start && e.Spec.Timestamp < w.End))).ToList();
                    var a = Round(PeriodPrice(quota, windows, billedInWindows.Zip(lateInWindows, (b, l) => b + l).ToList()).Amount, currency) - bill.Amount;
                    billedNow[key] = bill.Plus(lateHere, a);
                    amount += a;
                    billing.Add(new Billed(service, ps, pe, lateHere, a, (q.Start, q.End), true));
                }
                lines.Add(new BillingInvoiceLine
                {
                    LineNumber = lines.Count + 1, Kind = InvoiceLineKind.Adjustment, Service = service, Description = "late " + service,
                    Quantity = late.Sum(e => e.Spec.Quantity), Included = 0, Billable = 0, Amount = amount, PeriodStart = q.Start, PeriodEnd = q.End,
                    Events = late.Count, EventsHash = Hash(late.Select(e => e.Spec.EventId)),
                });
            }
        }

        // Finalizing would seal usage of an unregistered service onto a 0.00 line for good: refused
        // (only a draft shows it unpriced), before anything is written.
        if (status != InvoiceStatus.Draft && lines.Any(l => l.Service is { } s && !terms.Quotas.ContainsKey(s) && !Registered(s)))
            throw new ModelRefusal(ErrorIds.UnpricedUsage);

        var subtotal = lines.Sum(l => l.Amount);
        var place = Catalog.Places[_places.GetValueOrDefault(customer)];
        var tax = Round(subtotal * place.Rate / 100m, currency);
        return new Invoice
        {
            Customer = customer, Start = start, End = end, Billing = billing,
            Document = new BillingInvoice
            {
                InvoiceId = "", CustomerId = customer, Plan = terms.Plan?.Name, PeriodStart = start, PeriodEnd = end, Status = status, Currency = currency,
                Subtotal = subtotal, TaxRate = place.Rate, TaxName = place.TaxName, TaxTreatment = place.Treatment, Tax = tax, Total = subtotal + tax, Lines = lines, CreatedAt = cutoff,
                Buyer = new BillingParty { Country = place.Country, Region = place.Region, TaxId = place.TaxId },
                FinalizedAt = status == InvoiceStatus.Draft ? null : cutoff,
            },
        };
    }

    /// <summary>
    /// The terms an adjustment for an earlier period is priced with. Decision 33: a closed period
    /// keeps the plan it had, so late usage is priced as it would have been then.
    /// </summary>
    private Terms AdjustmentTerms(string customer, DateTimeOffset start, DateTimeOffset end) => TermsOver(customer, start, end);

    /// <summary>
    /// The billing periods [start, end) falls in, each with the part of it inside: without a
    /// subscription the interval is a period of its own; time before a subscription's first
    /// period counts as part of that period.
    /// </summary>
    private static IEnumerable<(DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, DateTimeOffset From, DateTimeOffset To)> Pieces(Subscription? sub,
        DateTimeOffset start, DateTimeOffset end)
    {
        if (sub is null)
        {
            yield return (start, end, start, end);
            yield break;
        }
        for (var from = start; from < end;)
        {
            var (_, ps, pe) = from < sub.PeriodStart(0) ? (0, sub.PeriodStart(0), sub.PeriodStart(1)) : sub.Containing(from);
            var to = Min(end, pe);
            yield return (Min(from, ps), pe, from, to);
            from = to;
        }
    }

    /// <summary>
    /// The windows a quota gives its allowance in over a billing period: the period itself, or for
    /// a daily (weekly) quota each local day (ISO week from Monday) of the zone, cut to the period (fix 13).
    /// </summary>
    private static List<(DateTimeOffset Start, DateTimeOffset End)> Windows(QuotaResetPeriod reset, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        if (reset == QuotaResetPeriod.Monthly)
            return new() { (start, end) };
        var windows = new List<(DateTimeOffset, DateTimeOffset)>();
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(start, zone).DateTime);
        if (reset == QuotaResetPeriod.Weekly)
            day = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        var step = reset == QuotaResetPeriod.Weekly ? 7 : 1;
        for (var ws = Utc(day.ToDateTime(TimeOnly.MinValue), zone); ws < end; day = day.AddDays(step), ws = Utc(day.ToDateTime(TimeOnly.MinValue), zone))
            windows.Add((Max(ws, start), Min(Utc(day.AddDays(step).ToDateTime(TimeOnly.MinValue), zone), end)));
        return windows;
    }

    /// <summary>
    /// The price of a billing period's usage, one quantity per window: each window priced on its
    /// own with the whole allowance (storage averaged over the window's hours), the amounts summed
    /// and not rounded; Used, Included and Billable are sums too.
    /// </summary>
    private static (decimal Amount, decimal Used, decimal Included, decimal Billable) PeriodPrice(QuotaDef quota,
        IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> windows, IReadOnlyList<decimal> quantities)
    {
        decimal amount = 0, used = 0, included = 0, billable = 0;
        for (var i = 0; i < windows.Count; i++)
        {
            var p = PriceOver(quota, quantities[i], windows[i].Start, windows[i].End);
            (amount, used, included, billable) = (amount + p.Amount, used + p.Used, included + p.Included, billable + p.Billable);
        }
        return (amount, used, included, billable);
    }

    /// <summary>
    /// What a part adds to its billing period (New-BillingInvoice): R(P(before + part)) - R(P(before)).
    /// Used and Billable are the part's share; Included is the allowance it used up, or on a line
    /// for a whole period the whole allowance, as such lines have always shown it.
    /// </summary>
    private static (decimal Amount, decimal Used, decimal Included, decimal Billable) Margin(QuotaDef quota,
        IReadOnlyList<(DateTimeOffset Start, DateTimeOffset End)> windows, IReadOnlyList<decimal> before, IReadOnlyList<decimal> part, string currency, bool whole)
    {
        var total = before.Zip(part, (b, p) => b + p).ToList();
        var after = PeriodPrice(quota, windows, total);
        var prior = PeriodPrice(quota, windows, before);
        var limit = quota.Limit ?? decimal.MaxValue;
        decimal UsedUp(int i) => Math.Min(PriceOver(quota, total[i], windows[i].Start, windows[i].End).Used, limit)
            - Math.Min(PriceOver(quota, before[i], windows[i].Start, windows[i].End).Used, limit);
        return (Round(after.Amount, currency) - Round(prior.Amount, currency), after.Used - prior.Used,
            whole ? after.Included : Enumerable.Range(0, windows.Count).Sum(UsedUp), after.Billable - prior.Billable);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static decimal Sum(IEnumerable<Event> events) => events.Sum(e => e.Spec.Quantity);

    // ------------------------------------------------------------------ reads

    /// <summary>
    /// Reads of totals count every event ever stored, archived ones included (Move-UsageRecord),
    /// whatever the bounds of the read: a partial quarter hour at either end counts them too.
    /// </summary>
    private IEnumerable<EventSpec> Rollup(string customer, DateTimeOffset start, DateTimeOffset end) =>
        _events.Where(e => e.Spec.Customer == customer && e.Spec.Timestamp >= start && e.Spec.Timestamp < end).Select(e => e.Spec);

    /// <summary>
    /// Get-Usage's and Get-UsageAggregate's cost (fix 2), under the customer's terms over the read's
    /// dates (the subscription in force then, even if canceled since, with the plan it had), exact: an
    /// interval within one billing period (without a subscription, one calendar month of the
    /// read's zone) is priced as that period's invoice prices its usage (allowance per period or
    /// per window, storage averaged over the period's or the window's hours); any other interval is
    /// priced as a period of its own. Under a daily or weekly quota the quantity is spread over the
    /// windows by their stored usage within the interval, earliest first.
    /// </summary>
    private (decimal Cost, string Currency) Cost(Terms terms, string customer, string service, decimal quantity, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        if (!terms.Quotas.TryGetValue(service, out var quota))
            // An unregistered service costs 0 in the plan's currency (never another currency's cost).
            return Registered(service) ? (quantity * DisplayPrice(service), "USD") : (0m, terms.Currency);
        DateTimeOffset ps, pe;
        if (terms.Subscription is { } sub)
            (_, ps, pe) = start < sub.PeriodStart(0) ? (0, start, end) : sub.Containing(start);
        else
        {
            var month = new DateTime(TimeZoneInfo.ConvertTime(start, zone).Year, TimeZoneInfo.ConvertTime(start, zone).Month, 1);
            (ps, pe) = (Utc(month, zone), Utc(month.AddMonths(1), zone));
        }
        if (end > pe)
            (ps, pe) = (start, end);
        var windows = Windows(quota.Reset, ps, pe, terms.Subscription?.Zone ?? zone);
        var spread = new decimal[windows.Count];
        var left = quantity;
        for (var i = 0; i < windows.Count; i++)
        {
            var stored = Max(windows[i].Start, start) < Min(windows[i].End, end)
                ? Rollup(customer, Max(windows[i].Start, start), Min(windows[i].End, end)).Where(e => e.Service == service).Sum(e => e.Quantity) : 0m;
            spread[i] = Math.Min(left, stored);
            left -= spread[i];
        }
        // Only when the reads of the buckets and of the windows disagree (an archived event at a ragged edge).
        if (left > 0)
            spread[Math.Max(0, Array.FindLastIndex(spread, u => u > 0))] += left;
        return (PeriodPrice(quota, windows, spread).Amount, terms.Currency);
    }

    public Reads Read(ReadPlan plan)
    {
        var summaries = new List<(string, UsageSummary)>();
        var aggregates = new List<(string, UsageAggregate)>();
        var quotas = new List<QuotaStatus>();
        foreach (var customer in plan.Customers)
        {
            var terms = TermsNow(customer);
            foreach (var (name, start, end) in plan.Intervals)
                foreach (var g in Rollup(customer, start, end).GroupBy(e => e.Service).OrderBy(g => ServiceRank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
                {
                    var raw = g.Sum(e => e.Quantity);
                    var (cost, currency) = Cost(TermsOver(customer, start, end), customer, g.Key, raw, start, end, TimeZoneInfo.Utc);
                    summaries.Add((name, new UsageSummary
                    {
                        CustomerId = customer, Service = g.Key, Quantity = raw, Unit = UnitOf(g.Key), Events = g.Count(), Cost = cost, Currency = currency,
                        Start = start, End = end,
                    }));
                }
            foreach (var (interval, zoneId, start, end) in plan.Aggregates)
            {
                var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
                var buckets = Buckets(interval, start, end, zone).ToList();
                var over = TermsOver(customer, start, end);
                foreach (var service in Rollup(customer, start, end).Select(e => e.Service).Distinct())
                {
                    decimal cumulative = 0, costSoFar = 0;
                    foreach (var (bs, be) in buckets)
                    {
                        var inBucket = Rollup(customer, bs, be).Where(e => e.Service == service).ToList();
                        if (inBucket.Count == 0)
                            continue;
                        cumulative += inBucket.Sum(e => e.Quantity);
                        var (cost, currency) = Cost(over, customer, service, cumulative, start, end, zone);
                        aggregates.Add(($"{interval} {zoneId}", new UsageAggregate
                        {
                            CustomerId = customer, Period = TimeZoneInfo.ConvertTime(bs, zone), PeriodEnd = TimeZoneInfo.ConvertTime(be, zone), Interval = interval,
                            Service = service, Events = inBucket.Count, Total = inBucket.Sum(e => e.Quantity), Unit = UnitOf(service), Cost = cost - costSoFar,
                            Currency = currency, Average = Six(inBucket.Sum(e => e.Quantity) / inBucket.Count),
                            Minimum = inBucket.Min(e => e.Quantity), Maximum = inBucket.Max(e => e.Quantity),
                        }));
                        costSoFar = cost;
                    }
                }
            }
            foreach (var quota in terms.Quotas.Values.OrderBy(q => q.Service, StringComparer.Ordinal))
            {
                var (ps, pe) = quota.Reset == QuotaResetPeriod.Monthly ? (terms.PeriodStart, terms.PeriodEnd) : FullWindow(quota.Reset, Now, terms.Zone);
                var raw = Rollup(customer, ps, pe).Where(e => e.Service == quota.Service).Sum(e => e.Quantity);
                var used = quota.Averaged ? raw / Hours(ps, pe) : raw;
                var percent = quota.Limit is > 0 ? used * 100m / quota.Limit.Value : (decimal?)null;
                var level = quota.Limit is not { } limit ? QuotaLevel.Unlimited
                    : limit == 0 ? (used > 0 ? QuotaLevel.Exceeded : QuotaLevel.Ok)
                    : percent >= 100 ? QuotaLevel.Exceeded : percent >= 90 ? QuotaLevel.Critical : percent >= 75 ? QuotaLevel.Warning : QuotaLevel.Ok;
                quotas.Add(new QuotaStatus
                {
                    CustomerId = customer, Service = quota.Service, Used = Six(used), Limit = quota.Limit,
                    Remaining = quota.Limit is { } l ? Math.Max(0m, Six(l - used)) : null,
                    Percent = percent is { } p ? Math.Round(p, 2, MidpointRounding.AwayFromZero) : null,
                    Level = level, Enforcement = quota.Enforcement, Unit = "", PeriodStart = ps, PeriodEnd = pe,
                });
            }
        }
        var invoices = _invoices.Where(i => plan.Customers.Contains(i.Customer)).Select(Shown).ToList();
        var grants = _grants.Where(g => plan.Customers.Contains(g.Customer)).Select(g =>
        {
            var status = g.Left <= 0 ? CreditGrantStatus.Spent : g.ExpiresAt is { } e && e <= Now ? CreditGrantStatus.Expired : CreditGrantStatus.Active;
            return new GrantLine(g.Customer, g.Ordinal, g.Amount, g.Currency, status == CreditGrantStatus.Active ? g.Left : 0m, status);
        }).ToList();
        // Every event of a finalized period is billed exactly once: reconciliation finds nothing.
        return new Reads(summaries, aggregates, quotas, invoices, Array.Empty<BillingInvoiceDiscrepancy>())
        {
            Ledger = _ledger.Where(l => plan.Customers.Contains(l.Customer)).ToList(),
            Grants = grants,
            Verified = _sqlite && plan.Verify ? Differences(plan.Customers) : new List<UsageStoreDifference>(),
            Access = _sqlite || !plan.Tenants ? Array.Empty<(int, string)>() : _access.Where(a => plan.Customers.Contains(a.Item2)).ToList(),
            // Isolation is on and the tenant roles are no admins: a role may act for exactly its mapped customers.
            MayActFor = _sqlite || !plan.Tenants ? Array.Empty<(int, string, bool)>()
                : ReadPlan.MayActForPairs.Select(p => (p.Role, plan.Customers[p.Customer], _access.Contains((p.Role, plan.Customers[p.Customer])))).ToList(),
        };
    }

    /// <summary>The local day or ISO week (from Monday) containing an instant.</summary>
    private static (DateTimeOffset, DateTimeOffset) FullWindow(QuotaResetPeriod reset, DateTimeOffset at, TimeZoneInfo zone)
    {
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);
        if (reset == QuotaResetPeriod.Weekly)
            day = day.AddDays(-(((int)day.DayOfWeek + 6) % 7));
        return (Utc(day.ToDateTime(TimeOnly.MinValue), zone), Utc(day.AddDays(reset == QuotaResetPeriod.Weekly ? 7 : 1).ToDateTime(TimeOnly.MinValue), zone));
    }

    /// <summary>Wall-clock hours, days or months of a zone, cut to the interval.</summary>
    private static IEnumerable<(DateTimeOffset, DateTimeOffset)> Buckets(UsageInterval interval, DateTimeOffset start, DateTimeOffset end, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(start, zone);
        DateTimeOffset bucket = interval switch
        {
            UsageInterval.Hourly => start.AddTicks(-((local.Minute * 60L + local.Second) * TimeSpan.TicksPerSecond + local.Ticks % TimeSpan.TicksPerSecond)),
            UsageInterval.Daily => Utc(local.Date, zone),
            _ => Utc(new DateTime(local.Year, local.Month, 1), zone),
        };
        while (bucket < end)
        {
            var next = interval switch
            {
                UsageInterval.Hourly => bucket.AddHours(1),
                UsageInterval.Daily => Utc(TimeZoneInfo.ConvertTime(bucket, zone).Date.AddDays(1), zone),
                _ => Utc(new DateTime(TimeZoneInfo.ConvertTime(bucket, zone).Year, TimeZoneInfo.ConvertTime(bucket, zone).Month, 1).AddMonths(1), zone),
            };
            yield return (bucket > start ? bucket : start, next < end ? next : end);
            bucket = next;
        }
    }
}
