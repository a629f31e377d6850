using NSelf.Usage.Engine.Billing;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Reporting;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>An invoice ready to store, with the seals of the events each line bills.</summary>
public sealed record InvoiceDraft(BillingInvoice Invoice, IReadOnlyList<SealRange> Cutoffs);

/// <summary>Who an invoice is from and to, as printed, and how it is taxed.</summary>
public sealed record InvoiceParties(BillingParty? Seller, BillingParty? Buyer, TaxDecision Tax)
{
    /// <summary>An invoice taxed at a flat rate with no seller or buyer details (BILLING_TAX_RATE alone).</summary>
    public static InvoiceParties FlatRate(decimal rate) => new(null, null, new TaxDecision(TaxTreatment.Standard, TaxPlaces.FallbackName, rate));

    /// <summary>The seller as printed from the profile; null without one.</summary>
    public static BillingParty? SellerOf(BillingProfile? profile) => profile is null ? null : new BillingParty
    {
        Name = profile.LegalName, Address = profile.Address, Country = profile.Country, TaxId = profile.TaxId,
        Email = profile.Email, Website = profile.Website, Locale = profile.Locale, PaymentInstructions = profile.PaymentInstructions,
    };

    /// <summary>The buyer as printed: the company (to the attention of the person) or the person, else the customer id.</summary>
    public static BillingParty BuyerOf(string customerId, BillingCustomer? customer) => new()
    {
        Name = customer?.Company ?? customer?.Name ?? customerId,
        Attention = customer?.Company is not null ? customer.Name : null,
        Address = customer?.Address, Country = customer?.Country, Region = customer?.Region, TaxId = customer?.TaxId,
        Email = customer?.InvoiceEmail ?? customer?.Email, Locale = customer?.Locale,
    };
}

/// <summary>
/// Makes invoices that cannot double-bill. A usage line bills the events of its period stored
/// when the invoice is made, or for a finalized one, sealed by its finalization (see
/// <see cref="SealRange"/>); usage sealed later for a finalized period is billed once, on a later
/// invoice, as an adjustment line naming that period and priced at the margin (the price of the
/// period's new total less what was already billed).
/// Each usage line carries the number of events it bills and a SHA-256 of their sorted ids.
/// </summary>
public sealed class InvoiceBuilder
{
    /// <summary>INVOICE_DUE_DAYS when it is not set.</summary>
    public const int DefaultDueDays = 30;

    private readonly Subscriptions _book;
    private readonly InvoiceParties _parties;
    private readonly TimeSpan _paymentTerms;

    public InvoiceBuilder(Subscriptions book, InvoiceParties parties, int dueDays = DefaultDueDays)
    {
        _book = book;
        _parties = parties;
        _paymentTerms = TimeSpan.FromDays(dueDays);
    }

    /// <summary>INVOICE_DUE_DAYS: whole days from finalization to the due date, 0 to 365 (default 30).</summary>
    public static int DueDays(EnvironmentSettings environment)
    {
        var text = environment.Get("INVOICE_DUE_DAYS");
        if (text is null)
            return DefaultDueDays;
        if (!PlainNumbers.TryParse(text.Trim(), allowExponent: false, out var days) || days != decimal.Truncate(days) || days < 0 || days > 365)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"$INVOICE_DUE_DAYS is '{text}'; it must be a whole number of days from 0 to 365 such as 14.", "INVOICE_DUE_DAYS");
        return (int)days;
    }

    public InvoiceBuilder(Subscriptions book, decimal taxRate)
        : this(book, InvoiceParties.FlatRate(taxRate))
    {
    }

    /// <summary>BILLING_TAX_RATE: a percentage such as 8.25 or 8.25% (default 0).</summary>
    public static decimal TaxRate(EnvironmentSettings environment)
    {
        var text = environment.Get("BILLING_TAX_RATE");
        if (text is null)
            return 0m;
        // The one rule for numbers as text (PlainNumbers): '.5', '5.' and digits past what a
        // decimal holds are refused like any other text that is not a plain invariant number.
        if (!PlainNumbers.TryParse(text.TrimEnd('%').Trim(), allowExponent: false, out var rate) || rate < 0 || rate > 100)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"$BILLING_TAX_RATE is '{text}'; it must be a percentage from 0 to 100 such as 8.25.", "BILLING_TAX_RATE");
        return rate;
    }

    /// <summary>
    /// The period an invoice covers by default: the last closed billing period of the customer's
    /// live subscription, or for a subscription that has ended, its last period up to the end.
    /// </summary>
    public (DateTimeOffset Start, DateTimeOffset End) DefaultPeriod(string customerId)
    {
        var subscription = _book.LiveSubscription(customerId)
            ?? _book.Store.GetSubscriptions(customerId, includeEnded: true).Where(s => s.CanceledAt is not null).MaxBy(s => s.CanceledAt)
            ?? throw new UsageException(ErrorIds.NoBillingPeriod, UsageErrorKind.InvalidArgument,
                $"Customer '{customerId}' has no subscription, so it has no billing period to invoice. Give -Start and -End.", customerId);
        var zone = TimeZones.Find(subscription.TimeZone);
        if (subscription.CanceledAt is { } ended && !SubscriptionRules.IsLive(subscription.Status))
        {
            var last = BillingPeriods.Containing(ended.AddTicks(-1), subscription.Anchor.DateTime, subscription.BillingCycle, zone);
            return (last.Start, ended > last.Start ? ended : last.End);
        }
        var closed = BillingPeriods.LastClosed(_book.Now, subscription.Anchor.DateTime, subscription.BillingCycle, zone)
            ?? throw new UsageException(ErrorIds.NoBillingPeriod, UsageErrorKind.InvalidOperation,
                string.Create(CultureInfo.InvariantCulture, $"The first billing period of customer '{customerId}' ({subscription.CurrentPeriodStart:yyyy-MM-dd} to {subscription.CurrentPeriodEnd:yyyy-MM-dd}) has not closed yet. Give -Start and -End to invoice part of it."), customerId);
        return (closed.Start, closed.End);
    }

    public static string InvoiceId(string customerId, DateTimeOffset start, DateTimeOffset end)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{customerId}|{start.UtcTicks}|{end.UtcTicks}"));
        // Invariant: a stored identifier, which the current culture's calendar (Thai Buddhist, say)
        // or digits must not change.
        return string.Create(CultureInfo.InvariantCulture, $"INV-{start.UtcDateTime:yyyyMMdd}-{Convert.ToHexString(hash, 0, 5)}");
    }

    /// <summary>
    /// Builds the invoice of a period, billing usage sealed up to <paramref name="cutoff"/>
    /// (<see cref="SealRange.Open"/> for a draft: everything stored).
    /// </summary>
    public InvoiceDraft Build(CustomerTerms terms, DateTimeOffset start, DateTimeOffset end, long cutoff, InvoiceStatus status)
    {
        ReportingPeriods.RequireOrdered(start, end);
        var currency = terms.Currency;
        var lines = new List<BillingInvoiceLine>();
        var cutoffs = new List<SealRange>();
        void Add(BillingInvoiceLine line, long? after, long? through)
        {
            lines.Add(line);
            cutoffs.Add(new SealRange(after, through));
        }

        if (terms.Subscription is { } subscription && terms.Plan is { } plan)
        {
            // A whole billing period pays the fee once; a part of one (a first or last period, or
            // an explicit -Start/-End) pays the margin of the fee's prorated share, so adjoining
            // partial invoices add up to it to the cent.
            if (PeriodCharges.BaseFee(terms, start, end) is { } baseFee)
            {
                var (periods, fee) = baseFee;
                var shown = Quantities.Normalize(decimal.Round(periods, 6, MidpointRounding.AwayFromZero));
                var name = $"{plan.DisplayName ?? plan.Name} plan ({subscription.BillingCycle.ToString().ToLowerInvariant()})";
                Add(new BillingInvoiceLine
                {
                    LineNumber = lines.Count + 1, Kind = InvoiceLineKind.BaseFee,
                    Description = periods == 1m ? name : $"{name}, {Quantities.Format(shown)} of a billing period",
                    Quantity = shown, Included = 0, Billable = shown, UnitPrice = terms.BaseFee, Amount = fee,
                    PeriodStart = start, PeriodEnd = end,
                }, null, null);
            }
        }

        var services = _book.Store.GetServices();
        var used = new UsageReports(_book.Store).Collect(new UsageFilter(terms.CustomerId), new[] { new UsageReports.Span(start, end, null) })
            .Select(t => t.Service).Distinct(StringComparer.Ordinal);
        foreach (var service in used.OrderBy(s => ServiceRank(s)).ThenBy(s => s, StringComparer.Ordinal))
        {
            var ledger = Ledger(terms.CustomerId, service, start, end, null, cutoff);
            if (ledger.Events == 0)
                continue;
            var quota = QuotaFor(terms, services, service, billing: true);
            var priced = Charge(terms, service, quota, start, end, cutoff, ledger.Quantity);
            Add(UsageLine(lines.Count + 1, InvoiceLineKind.Usage, service, quota, priced, priced.Amount, ledger, start, end,
                Priceable(terms, services, service) ? $"{service}: {Quantities.Format(ledger.Quantity)} {services.Describe(service).Unit}" : Unpriced(service, ledger.Quantity),
                unpriced: !Priceable(terms, services, service)), null, cutoff);
        }

        foreach (var a in Adjustments(terms, start, end, cutoff, services).ToList())
            Add(UsageLine(lines.Count + 1, InvoiceLineKind.Adjustment, a.Service, a.Quota, a.Priced, a.Priced.Amount, a.Ledger, a.Start, a.End,
                Priceable(terms, services, a.Service) ? a.Description : a.Description + Unpriced(a.Service, null),
                unpriced: !Priceable(terms, services, a.Service)), a.After, cutoff);

        // A finalized invoice seals its events onto its lines for good: usage of an unregistered
        // service would be given away on a 0 line that could never be corrected. Only a draft
        // (recomputed until it is finalized) may show it unpriced.
        var unpriced = lines.Where(l => l.Service is { } s && !Priceable(terms, services, s)).Select(l => l.Service!).Distinct(StringComparer.Ordinal).ToList();
        if (status != InvoiceStatus.Draft && unpriced.Count > 0)
            throw UnpricedUsage(InvoiceId(terms.CustomerId, start, end), unpriced);

        var subtotal = lines.Sum(l => l.Amount);
        var tax = TaxPlaces.Tax(subtotal, _parties.Tax.Rate, currency);
        var now = Time.Micros.Truncate(_book.Now);
        var invoice = new BillingInvoice
        {
            InvoiceId = InvoiceId(terms.CustomerId, start, end),
            CustomerId = terms.CustomerId,
            Plan = terms.Plan?.Name,
            PeriodStart = start,
            PeriodEnd = end,
            Status = status,
            Currency = currency,
            Subtotal = subtotal,
            TaxRate = _parties.Tax.Rate,
            TaxName = _parties.Tax.Name,
            TaxTreatment = _parties.Tax.Treatment,
            Tax = tax,
            Total = subtotal + tax,
            Lines = lines,
            CreatedAt = now,
            FinalizedAt = status == InvoiceStatus.Draft ? null : now,
            DueDate = status == InvoiceStatus.Draft ? null : now + _paymentTerms,
            Seller = _parties.Seller,
            Buyer = _parties.Buyer,
        };
        return new InvoiceDraft(invoice, cutoffs);
    }

    /// <summary>
    /// Late usage: for every earlier period a finalized invoice billed, the events of that period
    /// ingested after what was billed, one line per billing period the invoice's dates fall in.
    /// Priced over everything already billed for that billing period (PeriodCharges.Late).
    /// </summary>
    private sealed record Adjustment(string Service, BillingQuota Quota, PricedUsage Priced, (long Events, decimal Quantity, string Hash) Ledger,
        DateTimeOffset Start, DateTimeOffset End, string Description, long After);

    private IEnumerable<Adjustment> Adjustments(CustomerTerms terms, DateTimeOffset start, DateTimeOffset end, long cutoff, ServiceCatalog services)
    {
        var customer = terms.CustomerId;
        var seals = _book.Store.GetInvoiceSeals(customer);
        var finalized = _book.Store.GetInvoices(customer)
            .Where(i => seals.ContainsKey(i.InvoiceId) && i.Status is InvoiceStatus.Open or InvoiceStatus.Paid or InvoiceStatus.Uncollectible)
            .Where(i => !(i.PeriodStart == start && i.PeriodEnd == end))
            .ToList();
        // Stryker disable once Statement : equivalent, without finalized invoices the loops below make no adjustment; the exit only saves reading the billed usage
        if (finalized.Count == 0)
            yield break;
        var billed = _book.Store.GetBilledUsage(customer);
        // Adjustments made by this invoice, by service and piece of a finalized invoice: they bill
        // that piece's events through the cutoff, and count as billed for the next ones.
        var made = new Dictionary<(string Service, DateTimeOffset From, DateTimeOffset To), decimal>();
        var termsOver = new Dictionary<(DateTimeOffset, DateTimeOffset), CustomerTerms>();
        CustomerTerms TermsOver(DateTimeOffset from, DateTimeOffset to) =>
            termsOver.TryGetValue((from, to), out var t) ? t : termsOver[(from, to)] = _book.TermsOver(customer, from, to, terms.Zone);

        // What was billed of a service in a piece [from, to) of a finalized invoice, and up to which
        // seal: the invoice's usage line, adjustments of the whole invoice (before lines were cut
        // per billing period) or of this piece, and this invoice's own adjustments.
        long BilledThrough(BillingInvoice invoice, string service, DateTimeOffset from, DateTimeOffset to) =>
            made.ContainsKey((service, from, to)) ? cutoff
            : finalized.Where(i => i.PeriodStart == invoice.PeriodStart && i.PeriodEnd == invoice.PeriodEnd).Select(i => seals[i.InvoiceId])
                .Concat(billed.Where(b => b.Service == service && ((b.PeriodStart == invoice.PeriodStart && b.PeriodEnd == invoice.PeriodEnd) || (b.PeriodStart == from && b.PeriodEnd == to)))
                    .Select(b => b.SealedThrough))
                .Max();

        foreach (var invoice in finalized.OrderBy(i => i.PeriodStart))
        {
            var (pStart, pEnd) = (invoice.PeriodStart, invoice.PeriodEnd);
            var earliest = finalized.Where(i => i.PeriodStart == pStart && i.PeriodEnd == pEnd).Min(i => seals[i.InvoiceId]);
            var pieces = BillingPeriods.Parts(TermsOver(pStart, pEnd), pStart, pEnd).ToList();
            foreach (var service in _book.Store.ServicesSealedAfter(customer, pStart, pEnd, earliest))
            {
                foreach (var (periodStart, periodEnd, from, to) in pieces)
                {
                    var after = BilledThrough(invoice, service, from, to);
                    if (after >= cutoff)
                        continue;
                    var ledger = Ledger(customer, service, from, to, after, cutoff);
                    if (ledger.Events == 0)
                        continue;
                    // Priced with the plan in force in that billing period, as its parts were.
                    var periodTerms = TermsOver(periodStart, periodEnd);
                    // There is no exchange rate to apply: late usage of a period billed in another
                    // currency cannot be added to this invoice's total.
                    if (!string.Equals(periodTerms.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase))
                        throw new UsageException(ErrorIds.CurrencyMismatch, UsageErrorKind.InvalidOperation,
                            string.Create(CultureInfo.InvariantCulture, $"Late {service} usage for {from:yyyy-MM-dd} to {to:yyyy-MM-dd} belongs to a billing period billed in {periodTerms.Currency} (plan '{periodTerms.Plan?.Name}'), and this invoice is in {terms.Currency}; there is no exchange rate to apply, so it cannot go on this invoice."), service);
                    var quota = QuotaFor(periodTerms, services, service, billing: true);
                    var windows = PeriodCharges.Windows(quota.ResetPeriod, periodStart, periodEnd, periodTerms.Zone);
                    var (billedUsage, billedAmount) = BilledInPeriod(finalized, seals, service, quota, windows, periodStart, periodEnd, made, BilledThrough, TermsOver, services);
                    var late = windows.Select(w => Read(customer, service, Later(w.Start, from), Earlier(w.End, to), after, cutoff)).ToList();
                    var priced = PeriodCharges.Late(quota, service, periodTerms.Currency, windows, billedUsage, billedAmount, late);
                    made[(service, from, to)] = priced.Amount;
                    yield return new Adjustment(service, quota, priced, ledger, from, to,
                        string.Create(CultureInfo.InvariantCulture, $"Late {service} usage for {from:yyyy-MM-dd} to {to:yyyy-MM-dd} (invoice {invoice.InvoiceId}): {Quantities.Format(ledger.Quantity)} {services.Describe(service).Unit}"), after);
                }
            }
        }
    }

    /// <summary>
    /// Everything already billed of a service's usage in the billing period [periodStart,
    /// periodEnd): the usage (per window) and the amount, over every finalized invoice whose dates
    /// fall in it (all its parts and their adjustments, in whatever order they came) and the
    /// adjustments this invoice has already made. A usage line of an invoice reaching over the
    /// period's edge is split by pricing its piece in this period again as the part it was.
    /// </summary>
    private (List<decimal> Usage, decimal Amount) BilledInPeriod(IReadOnlyList<BillingInvoice> finalized, IReadOnlyDictionary<string, long> seals, string service, BillingQuota quota,
        IReadOnlyList<PeriodCharges.Window> windows, DateTimeOffset periodStart, DateTimeOffset periodEnd,
        IReadOnlyDictionary<(string Service, DateTimeOffset From, DateTimeOffset To), decimal> made,
        Func<BillingInvoice, string, DateTimeOffset, DateTimeOffset, long> billedThrough,
        Func<DateTimeOffset, DateTimeOffset, CustomerTerms> termsOver, ServiceCatalog services)
    {
        var usage = windows.Select(_ => 0m).ToList();
        var amount = made.Where(m => m.Key.Service == service && m.Key.From >= periodStart && m.Key.To <= periodEnd).Sum(m => m.Value);
        // Stryker disable once Equality,Logical : equivalent, an invoice outside the period gives an empty piece (from >= to), which Read counts as 0; the filter only saves reads
        var overlapping = finalized.Where(i => i.PeriodStart < periodEnd && i.PeriodEnd > periodStart);
        foreach (var invoice in overlapping)
        {
            var (from, to) = (Later(invoice.PeriodStart, periodStart), Earlier(invoice.PeriodEnd, periodEnd));
            var through = billedThrough(invoice, service, from, to);
            for (var w = 0; w < windows.Count; w++)
                usage[w] += Read(invoice.CustomerId, service, Later(windows[w].Start, from), Earlier(windows[w].End, to), null, through);
        }
        // Lines bill a period's usage on any invoice: a part's on its own, adjustments on later ones.
        foreach (var invoice in finalized)
            foreach (var line in invoice.Lines.Where(l => l.Service == service && l.Kind is InvoiceLineKind.Usage or InvoiceLineKind.Adjustment))
            {
                if (line.PeriodStart >= periodStart && line.PeriodEnd <= periodEnd)
                    amount += line.Amount;
                else if (line.Kind == InvoiceLineKind.Usage && line.PeriodStart < periodEnd && line.PeriodEnd > periodStart)
                {
                    var (from, to) = (Later(line.PeriodStart, periodStart), Earlier(line.PeriodEnd, periodEnd));
                    var terms = termsOver(invoice.PeriodStart, invoice.PeriodEnd);
                    var billedThen = seals[invoice.InvoiceId];
                    amount += Charge(terms, service, QuotaFor(terms, services, service, billing: true), from, to, billedThen,
                        Read(invoice.CustomerId, service, from, to, null, billedThen)).Amount;
                }
                // An adjustment line reaching over the period's edge was made before adjustments
                // were cut per billing period; it cannot be split, so it is left out (decisions).
            }
        return (usage, amount);
    }

    // Stryker disable once Equality : equivalent, an empty range (from == to) holds no events in any store; the guard only saves a round trip
    private decimal Read(string customer, string service, DateTimeOffset from, DateTimeOffset to, long? sealedAfter, long sealedThrough) =>
        from >= to ? 0m : _book.Store.ReadLedger(customer, service, from, to, sealedAfter, sealedThrough).Sum(e => e.Quantity);

    // Stryker disable once Equality : equivalent, at equal instants either is the answer
    internal static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    // Stryker disable once Equality : equivalent, at equal instants either is the answer
    internal static DateTimeOffset Earlier(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>
    /// What the usage of [start, end) sealed up to <paramref name="through"/> bills: in each
    /// billing period it falls in, the margin it adds to the period's cumulative usage
    /// (PeriodCharges.Margin). The usage before it is the period's usage before start sealed
    /// through <paramref name="through"/>. Late usage is priced by Adjustments instead.
    /// </summary>
    private PricedUsage Charge(CustomerTerms terms, string service, BillingQuota quota, DateTimeOffset start, DateTimeOffset end,
        long through, decimal quantity)
    {
        var customer = terms.CustomerId;
        var parts = BillingPeriods.Parts(terms, start, end).ToList();
        PricedUsage? charge = null;
        foreach (var (periodStart, periodEnd, from, to) in parts)
        {
            var windows = PeriodCharges.Windows(quota.ResetPeriod, periodStart, periodEnd, terms.Zone);
            var before = windows.Select(w => Read(customer, service, Later(w.Start, periodStart), Earlier(w.End, from), null, through)).ToList();
            var part = parts.Count == 1 && windows.Count == 1 ? new List<decimal> { quantity }
                : windows.Select(w => Read(customer, service, Later(w.Start, from), Earlier(w.End, to), null, through)).ToList();
            var priced = PeriodCharges.Margin(quota, service, terms.Currency, windows, before, part,
                wholePeriod: from == periodStart && to == periodEnd);
            charge = charge is null ? priced : PeriodCharges.Add(charge, priced);
        }
        return charge!;
    }

    private static BillingInvoiceLine UsageLine(int number, InvoiceLineKind kind, string service, BillingQuota quota, PricedUsage priced, decimal amount,
        (long Events, decimal Quantity, string Hash) ledger, DateTimeOffset start, DateTimeOffset end, string description, bool unpriced = false) => new()
    {
        LineNumber = number,
        Kind = kind,
        Service = service,
        Description = description,
        // In the unit the limit, included and billable amounts are in: average GB for storage
        // under a GB quota (the GB-hours billed are in the description), else the service's.
        Quantity = QuotaUnits.IsTimeAveraged(service, quota.LimitType) ? Quantities.Normalize(decimal.Round(priced.Used, 6, MidpointRounding.AwayFromZero)) : ledger.Quantity,
        Included = Quantities.Normalize(decimal.Round(priced.Included, 6, MidpointRounding.AwayFromZero)),
        Billable = Quantities.Normalize(decimal.Round(priced.Billable, 6, MidpointRounding.AwayFromZero)),
        // An unregistered service has neither a unit nor a price (not a price of 0).
        Unit = unpriced ? null : quota.UsageUnit,
        UnitPrice = unpriced ? null : priced.UnitPrice,
        Amount = amount,
        PeriodStart = start,
        PeriodEnd = end,
        Tiers = priced.Tiers,
        Events = ledger.Events,
        EventsHash = ledger.Hash,
    };

    /// <summary>The events a line bills: their count, exact total and the SHA-256 of their sorted ids.</summary>
    private (long Events, decimal Quantity, string Hash) Ledger(string customer, string service, DateTimeOffset start, DateTimeOffset end, long? after, long through) =>
        EventsDigest.Summarize(_book.Store.ReadLedger(customer, service, start, end, after, through));

    /// <summary>
    /// The quota that prices a service: the customer's, else a flat one at the service's display
    /// price. An invoice (<paramref name="billing"/>) cannot use a display price in another currency
    /// than the plan's: there is no exchange rate to apply, so it fails with CurrencyMismatch.
    /// </summary>
    public static BillingQuota QuotaFor(CustomerTerms terms, ServiceCatalog services, string service, bool billing = false)
    {
        if (terms.Quotas.TryGetValue(service, out var quota))
            return quota;
        // An unregistered service has no price: a flat quota at 0 in the plan's currency (a draft
        // shows its usage unpriced; finalizing refuses it, see Build).
        var known = services.Describe(service);
        if (billing && services.IsRegistered(service) && !string.Equals(known.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase))
            throw new UsageException(ErrorIds.CurrencyMismatch, UsageErrorKind.InvalidOperation,
                $"Plan '{terms.Plan?.Name}' bills in {terms.Currency}, but service '{service}' has no quota on it and its display price is in {known.Currency}. "
                + $"Price it in {terms.Currency}: Set-UsageQuota -Plan {terms.Plan?.Name} -Service {service} -Limit 0 -OveragePrice <price>.", service);
        return new BillingQuota
        {
            Service = service,
            Limit = 0,
            LimitType = known.Unit,
            UsageUnit = known.Unit,
            Enforcement = QuotaEnforcement.Soft,
            ResetPeriod = QuotaResetPeriod.Monthly,
            PricingModel = PricingModel.PerUnit,
            OveragePrice = known.DisplayPrice,
        };
    }

    /// <summary>A service an invoice can price: on the plan, or registered (with its display price).</summary>
    private static bool Priceable(CustomerTerms terms, ServiceCatalog services, string service) =>
        terms.Quotas.ContainsKey(service) || services.IsRegistered(service);

    private static string Unpriced(string service, decimal? quantity) =>
        (quantity is { } q ? $"{service}: {Quantities.Format(q)} " : "")
        + $"(unpriced: service '{service}' is not registered; {UnregisteredServices.Fix(service)} prices it)";

    /// <summary>Complete-BillingInvoice of an invoice with usage of unregistered services.</summary>
    public static UsageException UnpricedUsage(string invoiceId, IReadOnlyList<string> services) =>
        new(ErrorIds.UnpricedUsage, UsageErrorKind.InvalidOperation,
            $"Invoice '{invoiceId}' bills usage of unregistered service(s) {string.Join(", ", services.Select(s => "'" + s + "'"))}, which have no price; "
            + "finalizing would seal that usage onto a 0.00 line for good. Register them first ("
            + string.Join("; ", services.Select(UnregisteredServices.Fix)) + "), then finalize: the draft is priced again.", invoiceId);

    private static int ServiceRank(string service)
    {
        var index = ServiceCatalog.BuiltIn.Select(s => s.Name).ToList().IndexOf(service);
        return index < 0 ? int.MaxValue : index;
    }
}
