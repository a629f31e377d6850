using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Accounts;

/// <summary>New-BillingInvoice and Complete-BillingInvoice over a store.</summary>
public sealed class Invoicing
{
    private readonly Subscriptions _book;
    private readonly decimal _fallbackRate;

    /// <param name="taxRate">
    /// BILLING_TAX_RATE: the rate of buyers whose place has no rate (Set-BillingTaxRate). A draft
    /// taxed at it is finalized at the rate it was made with, whatever the finalizing host's is.
    /// </param>
    /// <param name="dueDays">INVOICE_DUE_DAYS: the days from finalization to the due date.</param>
    public Invoicing(Subscriptions book, decimal taxRate, int dueDays = InvoiceBuilder.DefaultDueDays)
    {
        _book = book;
        _fallbackRate = taxRate;
        _dueDays = dueDays;
    }

    private readonly int _dueDays;

    /// <summary>
    /// The seller, the buyer and the tax as they are now in the store: the seller's profile, the
    /// customer's details and the rate of the customer's place.
    /// </summary>
    public InvoiceParties Parties(string customerId, decimal fallbackRate)
    {
        var store = _book.Store;
        var profile = store.GetProfile();
        var customer = store.GetCustomer(customerId, includeRemoved: true);
        return new InvoiceParties(InvoiceParties.SellerOf(profile), InvoiceParties.BuyerOf(customerId, customer),
            TaxPlaces.Decide(profile, customer, store.GetTaxRates(), fallbackRate));
    }

    /// <summary>The draft a period would get now, without storing it (what -WhatIf shows).</summary>
    public InvoiceDraft Preview(string customerId, DateTimeOffset? start, DateTimeOffset? end, TimeZoneInfo defaultZone)
    {
        var builder = new InvoiceBuilder(_book, Parties(customerId, _fallbackRate), _dueDays);
        var (from, to) = start is { } s && end is { } e ? (s, e) : builder.DefaultPeriod(customerId);
        var draft = builder.Build(_book.TermsOver(customerId, from, to, defaultZone), from, to, SealRange.Open, InvoiceStatus.Draft);
        InvoiceLimits.Check(draft.Invoice);
        // The store refuses an overlapping period when saving; the preview says so too.
        var invoices = _book.Store.GetInvoices(customerId);
        InvoiceRules.CheckNoOverlap(draft.Invoice, invoices);
        // The id the store gives it, when a void invoice of the period holds the period's own.
        var id = InvoiceRules.FreshId(draft.Invoice.InvoiceId, invoices.Where(i => i.Status == InvoiceStatus.Void).Select(i => i.InvoiceId));
        return draft with { Invoice = draft.Invoice with { InvoiceId = id } };
    }

    /// <summary>
    /// Creates the draft of a period, or returns the invoice the period already has: a finalized
    /// one as it is, a draft as it is unless <paramref name="regenerateDraft"/>.
    /// </summary>
    public SavedInvoice Create(string customerId, DateTimeOffset? start, DateTimeOffset? end, TimeZoneInfo defaultZone, bool regenerateDraft) =>
        Save(Preview(customerId, start, end, defaultZone), regenerateDraft);

    /// <summary>
    /// Saves a draft <see cref="Preview"/> built (New-BillingInvoice shows it for -WhatIf and
    /// -Confirm, then saves the same one: building it is most of the work). The store checks the
    /// period again as it writes, so a draft saved a moment after it was built is refused or
    /// returned as <see cref="Create"/> would.
    /// </summary>
    public SavedInvoice Save(InvoiceDraft draft, bool regenerateDraft) =>
        _book.Store.SaveDraft(draft.Invoice, draft.Cutoffs, regenerateDraft);

    /// <summary>How many times a finalization is worked out again when another of the customer's invoices was finalized meanwhile.</summary>
    private const int FinalizationAttempts = 5;

    /// <summary>
    /// Finalizes a draft: the customer's usage stored until now is sealed, the lines are worked
    /// out again over what is sealed, the status becomes Open, and the period is locked: usage
    /// stored for it later (sealed by a later finalization) becomes an adjustment on a later invoice.
    /// </summary>
    public BillingInvoice Complete(string invoiceId, TimeZoneInfo defaultZone)
    {
        for (var attempt = 1; ; attempt++)
        {
            var invoice = _book.Store.GetInvoice(invoiceId) ?? throw InvoiceRules.NotFound(invoiceId);
            InvoiceRules.CheckDraft(invoice);
            var terms = _book.TermsOver(invoice.CustomerId, invoice.PeriodStart, invoice.PeriodEnd, defaultZone);
            // The seller, buyer and place's rate as they are at finalization: what the invoice is
            // issued with. A draft taxed at BILLING_TAX_RATE keeps the rate it was made with.
            var builder = new InvoiceBuilder(_book, Parties(invoice.CustomerId,
                invoice.TaxTreatment == TaxTreatment.Standard && invoice.TaxName == TaxPlaces.FallbackName ? invoice.TaxRate : _fallbackRate), _dueDays);
            // Usage of an unregistered service refuses finalization (UnpricedUsage) before the
            // seal is written: a refused finalization writes nothing. (Build refuses it again
            // over the sealed usage, for such usage stored in between.)
            if (attempt == 1)
                builder.Build(terms, invoice.PeriodStart, invoice.PeriodEnd, SealRange.Open, InvoiceStatus.Open);
            var seal = _book.Store.SealUsage(invoice.CustomerId);
            var built = builder.Build(terms, invoice.PeriodStart, invoice.PeriodEnd, seal.Seal, InvoiceStatus.Open);
            // The draft's own id: a period invoiced again after a void has another than the period's.
            var final = built with { Invoice = built.Invoice with { InvoiceId = invoice.InvoiceId } };
            InvoiceLimits.Check(final.Invoice);
            try
            {
                return _book.Store.FinalizeInvoice(final.Invoice, final.Cutoffs, seal, CustomerAccounts.Writer);
            }
            catch (UsageException e) when (e.ErrorId == ErrorIds.FinalizationConflict && attempt < FinalizationAttempts)
            {
                // Another invoice of the customer was finalized while this one was worked out: its
                // adjustments may bill late usage this one did too. Work it out again over theirs.
            }
        }
    }

    /// <summary>
    /// The usage of the customer's current billing period up to now, and what it costs so far under
    /// the plan in the plan's currency (each service rounded to the minor unit; usage priced in
    /// another currency left out): Get-BillingSummary's UsageCost, and what a Prepaid quota's credit pays.
    /// </summary>
    public static (IReadOnlyList<UsageSummary> Usage, decimal Cost) PeriodUsage(Subscriptions book, CustomerTerms terms, TimeZoneInfo defaultZone)
    {
        var (start, end) = (terms.BillingPeriod.Start, terms.BillingPeriod.End);
        var now = Time.Micros.Truncate(book.Now);
        // From the rollups, not the raw events: a summary must stay fast for a busy customer.
        // Stryker disable once Equality,Conditional : equivalent, the terms' billing period is the one holding now, so its end is never before now (and at equal instants either is the answer)
        var usage = new Reporting.UsageReports(book.Store, new PlanCosts(book, defaultZone))
            .Summaries(new UsageFilter(terms.CustomerId), start, end < now ? end : now);
        var cost = usage.Where(u => string.Equals(u.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase)).Sum(u => Money.Round(u.Cost, terms.Currency));
        return (usage, cost);
    }

    /// <summary>Get-BillingSummary: plan, period, cost so far, invoices and quotas of a customer.</summary>
    public BillingSummary Summary(string customerId, TimeZoneInfo defaultZone, AlertThresholds thresholds)
    {
        var terms = _book.Terms(customerId, defaultZone);
        var (start, end) = (terms.BillingPeriod.Start, terms.BillingPeriod.End);
        var now = Time.Micros.Truncate(_book.Now);
        var (usage, usageCost) = PeriodUsage(_book, terms, defaultZone);
        // A service priced only by a display price in another currency cannot be added in.
        // Usage of an unregistered service (stored by nself's own tools) has no price: it is listed as unpriced.
        var services = _book.Store.GetServices();
        var unregistered = usage.Where(u => !terms.Quotas.ContainsKey(u.Service) && !services.IsRegistered(u.Service)).Select(u => u.Service);
        var otherCurrency = usage.Where(u => u.Cost != 0 && !string.Equals(u.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase))
            .Select(u => u.Service).Concat(unregistered).Distinct(StringComparer.Ordinal).ToList();
        var baseFee = Money.Round(terms.BaseFee, terms.Currency);
        var invoices = _book.Store.GetInvoices(customerId);
        var open = invoices.Where(i => i.Status == InvoiceStatus.Open).ToList();
        var balance = Settlement.Balances(customerId, Settlement.Grants(_book.Store.GetLedger(customerId), now))
            .FirstOrDefault(b => string.Equals(b.Currency, terms.Currency, StringComparison.OrdinalIgnoreCase))?.Balance ?? 0m;
        return new BillingSummary
        {
            CustomerId = customerId,
            Plan = terms.Plan?.Name,
            Status = terms.Subscription?.Status,
            BillingCycle = terms.Subscription?.BillingCycle,
            PeriodStart = start,
            PeriodEnd = end,
            Currency = terms.Currency,
            BaseFee = baseFee,
            UsageCost = usageCost,
            UnpricedServices = otherCurrency,
            EstimatedTotal = baseFee + usageCost,
            Invoices = invoices.Count,
            OpenInvoices = open.Count,
            AmountDue = Money.Round(open.Sum(i => i.AmountDue), terms.Currency),
            OverdueAmount = Money.Round(open.Where(i => Settlement.IsOverdue(i, now)).Sum(i => i.AmountDue), terms.Currency),
            Balance = Money.Round(balance, terms.Currency),
            Quotas = new QuotaChecker(_book, thresholds).Check(new[] { terms }, null, raiseAlerts: false).Select(c => c.Status).ToList(),
        };
    }
}
