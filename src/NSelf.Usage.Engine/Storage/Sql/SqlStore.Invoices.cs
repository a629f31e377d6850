using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using static NSelf.Usage.Engine.Storage.Sql.BillingText;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>
/// Invoices, their lines and the ledger of what finalized lines billed. The invoice rules
/// (<see cref="InvoiceRules"/>) are the domain's; this code reads what they need inside the
/// transaction that holds the customer's lock and calls them there.
/// </summary>
public abstract partial class SqlStore
{
    // nself's columns allow NULL amounts and times; ours never write one.
    private string InvoiceColumns => "invoice_id, customer_id, plan_name, status, coalesce(currency, 'USD'), coalesce(subtotal, 0), tax_rate, " +
        $"coalesce({Dialect.InvoiceTaxColumn}, 0), coalesce({Dialect.InvoiceTotalColumn}, 0), period_start, period_end, due_date, coalesce(created_at, {Dialect.NowSql}), finalized_at, " +
        $"invoice_number, tax_name, tax_treatment, {Dialect.JsonTextOrNull("seller")}, {Dialect.JsonTextOrNull("buyer")}, {LastSentAt}, {LastSentTo}, paid_at";

    private string LineColumns => "line_number, kind, service_name, description, quantity, included, billable, unit, unit_price, amount, period_start, period_end, " +
        $"{Dialect.JsonTextOrNull("tiers")}, events, events_hash";

    private static BillingInvoice ReadInvoiceHeader(SqlRow r) => new()
    {
        InvoiceId = r.Text(0),
        CustomerId = r.Text(1),
        Plan = r.TextOrNull(2),
        Status = Invoice(r.Text(3)),
        Currency = r.Text(4),
        Subtotal = r.Money(5),
        TaxRate = r.Money(6),
        Tax = r.Money(7),
        Total = r.Money(8),
        PeriodStart = r.Time(9),
        PeriodEnd = r.Time(10),
        DueDate = r.TimeOrNull(11),
        CreatedAt = r.Time(12),
        FinalizedAt = r.TimeOrNull(13),
        InvoiceNumber = r.TextOrNull(14),
        TaxName = r.TextOrNull(15) ?? TaxPlaces.FallbackName,
        TaxTreatment = Treatment(r.TextOrNull(16)),
        Seller = Party(r.TextOrNull(17)),
        Buyer = Party(r.TextOrNull(18)),
        SentAt = r.TimeOrNull(19),
        SentTo = DeliveryRules.Split(r.TextOrNull(20)),
        PaidAt = r.TimeOrNull(21),
        Lines = Array.Empty<BillingInvoiceLine>(),
    };

    // A line's quantities are kept exactly as money is (decimal text on SQLite), not as scaled usage quantities.
    private static BillingInvoiceLine ReadLine(SqlRow r) => new()
    {
        LineNumber = r.Int(0),
        Kind = LineKind(r.Text(1)),
        Service = r.TextOrNull(2),
        Description = r.Text(3),
        Quantity = r.Money(4),
        Included = r.Money(5),
        Billable = r.Money(6),
        Unit = r.TextOrNull(7),
        UnitPrice = r.MoneyOrNull(8),
        Amount = r.Money(9),
        PeriodStart = r.Time(10),
        PeriodEnd = r.Time(11),
        Tiers = TierAmounts(r.TextOrNull(12)),
        Events = r.Long(13),
        // nself's char(64) pads.
        EventsHash = r.TextOrNull(14)?.Trim(),
    };

    /// <summary>Invoice headers without their lines, oldest period first; locked for the transaction when <paramref name="lockRows"/>.</summary>
    private List<BillingInvoice> ReadInvoiceHeaders(SqlSession session, string where, bool lockRows, params (string Name, object? Value)[] parameters) =>
        // Invoices nself made without a period are not ours to read as billing periods.
        session.Query($"SELECT {InvoiceColumns} FROM billing_invoices {where} {(where.Length == 0 ? "WHERE" : "AND")} period_start IS NOT NULL AND period_end IS NOT NULL "
            + "ORDER BY period_start, invoice_id" + (lockRows ? Dialect.ForUpdate : ""), ReadInvoiceHeader, parameters);

    /// <summary>An invoice with its lines, and what its ledger entries say it owes.</summary>
    private BillingInvoice WithLines(SqlSession session, BillingInvoice header) => Settlement.WithAccount(
        Money.InCurrency(WithId(header, header.InvoiceId, header.CreatedAt,
            session.Query($"SELECT {LineColumns} FROM billing_invoice_lines WHERE invoice_id = @invoice ORDER BY line_number", ReadLine, ("invoice", header.InvoiceId)))),
        ReadLedgerRows(session, "WHERE l.invoice_id = @invoice", ("invoice", header.InvoiceId)));

    private List<BillingInvoice> ReadInvoices(SqlSession session, string where, params (string Name, object? Value)[] parameters) =>
        ReadInvoiceHeaders(session, where, lockRows: false, parameters).Select(header => WithLines(session, header)).ToList();

    private BillingInvoice ReadInvoice(SqlSession session, string invoiceId) =>
        ReadInvoices(session, "WHERE invoice_id = @invoice", ("invoice", invoiceId)).Single();

    private static BillingInvoice WithId(BillingInvoice i, string id, DateTimeOffset createdAt, IReadOnlyList<BillingInvoiceLine>? lines = null, string? number = null) =>
        i with { InvoiceId = id, CreatedAt = createdAt, Lines = lines ?? i.Lines, InvoiceNumber = number ?? i.InvoiceNumber };

    public BillingInvoice? GetInvoice(string invoiceId) => InReadSession(session =>
        ReadInvoices(session, "WHERE invoice_id = @invoice", ("invoice", invoiceId)).FirstOrDefault());

    public BillingInvoice? FindInvoice(string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd) => InReadSession(session =>
        ReadInvoices(session, "WHERE customer_id = @customer AND period_start = @start AND period_end = @end AND status <> 'void'",
            ("customer", customerId), ("start", periodStart), ("end", periodEnd)).FirstOrDefault());

    public IReadOnlyList<string> FindInvoiceIds(string? customerId, string prefix, int maximum) => InReadSession(session =>
        session.Query("SELECT invoice_id FROM billing_invoices WHERE " + (customerId is null ? "" : "customer_id = @customer AND ")
            + "lower(substr(invoice_id, 1, length(@prefix))) = lower(@prefix) ORDER BY period_start DESC, invoice_id LIMIT @maximum",
            r => r.Text(0), [.. CustomerParameter(customerId), ("prefix", prefix), ("maximum", maximum)]));

    public IReadOnlyList<BillingInvoice> GetInvoices(string? customerId = null) => InReadSession(session => customerId is null
        ? ReadInvoices(session, "")
        : ReadInvoices(session, "WHERE customer_id = @customer", ("customer", customerId)));

    /// <summary>
    /// The customer's row is the lock two hosts' seals, drafts and finalizations of one customer
    /// queue on, so the invoice rules are checked over what the other committed. SQLite's write
    /// transaction holds the whole file already.
    /// </summary>
    private void LockCustomer(SqlSession session, string customerId)
    {
        if (Dialect.ForUpdate.Length > 0)
            session.Execute($"SELECT 1 FROM billing_customers WHERE customer_id = @customer{Dialect.ForUpdate}", ("customer", customerId));
    }

    public SavedInvoice SaveDraft(BillingInvoice draft, IReadOnlyList<SealRange> lineCutoffs, bool replaceDraft) => InWriteTransaction(session =>
    {
        LockCustomer(session, draft.CustomerId);
        // Void invoices are left out here only so the read uses the index of live periods; the rules leave them out anyway.
        var invoices = ReadInvoiceHeaders(session, "WHERE customer_id = @customer AND status <> 'void'", lockRows: false, ("customer", draft.CustomerId));
        InvoiceRules.CheckNoOverlap(draft, invoices);
        var existing = InvoiceRules.OfSamePeriod(draft, invoices);
        if (existing is not null && !InvoiceRules.Replaces(existing, replaceDraft))
            return new SavedInvoice(WithLines(session, existing), Written: false);
        // A period invoiced again after its invoice was voided gets a new id: the void one stays.
        var invoice = existing is null
            ? WithId(draft, InvoiceRules.FreshId(draft.InvoiceId, session.Query("SELECT invoice_id FROM billing_invoices WHERE customer_id = @customer AND status = 'void'",
                r => r.Text(0), ("customer", draft.CustomerId))), draft.CreatedAt)
            : WithId(draft, existing.InvoiceId, existing.CreatedAt);
        if (existing is not null)
            session.Execute("DELETE FROM billing_invoices WHERE invoice_id = @invoice", ("invoice", existing.InvoiceId));
        WriteInvoice(session, invoice, lineCutoffs, seal: null);
        return new SavedInvoice(ReadInvoice(session, invoice.InvoiceId), Written: true);
    });

    public BillingSeal SealUsage(string customerId) => InWriteTransaction(session =>
    {
        // Under the customer's lock: a seal given out before another finalization saved is
        // checked against it when this one saves.
        LockCustomer(session, customerId);
        var last = LastFinalizedSeal(session, customerId);
        var seal = session.Query(Dialect.NextSealSql, r => r.Long(0)).Single();
        // On PostgreSQL, rows committed after this statement's snapshot stay unsealed, so newer
        // than this seal: late usage for the invoice being finalized, never lost.
        session.Execute("UPDATE billing_usage_records SET billing_seal = @seal WHERE customer_id = @customer AND billing_seal IS NULL", ("seal", seal), ("customer", customerId));
        session.Execute("UPDATE usage_archived_events SET billing_seal = @seal WHERE customer_id = @customer AND billing_seal IS NULL", ("seal", seal), ("customer", customerId));
        return new BillingSeal(customerId, seal, last);
    });

    private static long? LastFinalizedSeal(SqlSession session, string customerId) =>
        session.Query("SELECT max(billing_seal) FROM billing_invoices WHERE customer_id = @customer", r => r.LongOrNull(0), ("customer", customerId)).Single();

    public BillingInvoice FinalizeInvoice(BillingInvoice finalized, IReadOnlyList<SealRange> lineCutoffs, BillingSeal seal, string recordedBy) => InWriteTransaction(session =>
    {
        LockCustomer(session, finalized.CustomerId);
        InvoiceRules.CheckSealStillLast(finalized, seal, LastFinalizedSeal(session, finalized.CustomerId));
        // The invoice's row is locked too: a status change that does not take the customer's lock waits.
        var current = ReadInvoiceHeaders(session, "WHERE invoice_id = @invoice", lockRows: true, ("invoice", finalized.InvoiceId)).SingleOrDefault()
            ?? throw InvoiceRules.NotFound(finalized.InvoiceId);
        InvoiceRules.CheckDraft(current);
        var invoice = WithId(finalized, current.InvoiceId, current.CreatedAt, number: NextInvoiceNumber(session));
        session.Execute("DELETE FROM billing_invoices WHERE invoice_id = @invoice", ("invoice", current.InvoiceId));
        WriteInvoice(session, invoice, lineCutoffs, seal.Seal);
        RecordBilledEvents(session, invoice, lineCutoffs);
        ApplyCredits(session, invoice, recordedBy);
        return ReadInvoice(session, current.InvoiceId);
    });

    /// <summary>
    /// The next number of the seller's series, taken in the finalizing transaction: the series'
    /// row stays locked (PostgreSQL) or the file does (SQLite) until it commits, and a rollback
    /// gives the number back, so numbers have no gap and none is given twice.
    /// </summary>
    private static string NextInvoiceNumber(SqlSession session)
    {
        var prefix = FindProfile(session)?.InvoicePrefix ?? InvoiceNumbering.DefaultPrefix;
        return InvoiceNumbering.Format(prefix, NextInSeries(session, InvoiceNumbering.Series("invoice", prefix)));
    }

    /// <summary>The next number of a gapless series (an invoice prefix's, a credit note prefix's), taken in the caller's transaction.</summary>
    private static long NextInSeries(SqlSession session, string series) => session.Query("""
        INSERT INTO billing_number_series (series, last_number) VALUES (@series, 1)
        ON CONFLICT (series) DO UPDATE SET last_number = billing_number_series.last_number + 1
        RETURNING last_number
        """, r => r.Long(0), ("series", series)).Single();

    private void WriteInvoice(SqlSession session, BillingInvoice i, IReadOnlyList<SealRange> cutoffs, long? seal)
    {
        // nself's own tools read the lines from line_items and expect its other columns filled.
        var nself = Dialect.HasNselfInvoiceColumns;
        (string Name, object? Value)[] header =
        [
            ("invoice", i.InvoiceId), ("customer", i.CustomerId), ("plan", i.Plan), ("status", Spell(i.Status)), ("currency", i.Currency),
            ("subtotal", new MoneyValue(i.Subtotal)), ("taxRate", new MoneyValue(i.TaxRate)), ("tax", new MoneyValue(i.Tax)), ("total", new MoneyValue(i.Total)),
            ("start", i.PeriodStart), ("end", i.PeriodEnd), ("due", i.DueDate), ("created", i.CreatedAt), ("finalized", i.FinalizedAt), ("seal", seal),
            ("number", i.InvoiceNumber), ("taxName", i.TaxName), ("treatment", Spell(i.TaxTreatment)),
            ("seller", PartyJsonText(i.Seller)), ("buyer", PartyJsonText(i.Buyer)),
        ];
        session.Execute($"""
            INSERT INTO billing_invoices (invoice_id, customer_id, plan_name, status, currency, subtotal, tax_rate, {Dialect.InvoiceTaxColumn}, {Dialect.InvoiceTotalColumn},
                period_start, period_end, due_date, created_at, finalized_at, billing_seal, invoice_number, tax_name, tax_treatment, seller, buyer{(nself ? ", discount_amount, updated_at, line_items" : "")})
            VALUES (@invoice, @customer, @plan, @status, @currency, @subtotal, @taxRate, @tax, @total,
                @start, @end, @due, @created, @finalized, @seal, @number, @taxName, @treatment, {Dialect.Json("seller")}, {Dialect.Json("buyer")}{(nself ? $", 0, @created, {Dialect.Json("items")}" : "")})
            """, nself ? [.. header, ("items", LineItemsJson(i.Lines))] : header);
        for (var n = 0; n < i.Lines.Count; n++)
        {
            var l = i.Lines[n];
            session.Execute($"""
                INSERT INTO billing_invoice_lines (invoice_id, customer_id, line_number, kind, service_name, description, quantity, included, billable, unit,
                    unit_price, amount, period_start, period_end, tiers, events, events_hash, sealed_after, sealed_through)
                VALUES (@invoice, @customer, @number, @kind, @service, @description, @quantity, @included, @billable, @unit,
                    @unitPrice, @amount, @start, @end, {Dialect.Json("tiers")}, @events, @hash, @after, @through)
                """, ("invoice", i.InvoiceId), ("customer", i.CustomerId), ("number", l.LineNumber), ("kind", Spell(l.Kind)), ("service", l.Service),
                ("description", l.Description), ("quantity", new MoneyValue(l.Quantity)), ("included", new MoneyValue(l.Included)),
                ("billable", new MoneyValue(l.Billable)), ("unit", l.Unit), ("unitPrice", l.UnitPrice is { } price ? new MoneyValue(price) : null),
                ("amount", new MoneyValue(l.Amount)), ("start", l.PeriodStart), ("end", l.PeriodEnd), ("tiers", TierAmountsJson(l.Tiers)),
                ("events", l.Events), ("hash", l.EventsHash),
                // A draft's open end is stored as NULL: it bills whatever is stored when it is finalized.
                ("after", cutoffs[n].After), ("through", cutoffs[n].Through is { } through && through != SealRange.Open ? through : null));
        }
    }

    /// <summary>
    /// The ledger of a finalized invoice: each event its usage and adjustment lines bill, from
    /// their seal ranges, in the transaction that finalizes it.
    /// </summary>
    private static void RecordBilledEvents(SqlSession session, BillingInvoice invoice, IReadOnlyList<SealRange> cutoffs)
    {
        for (var n = 0; n < invoice.Lines.Count; n++)
        {
            var line = invoice.Lines[n];
            if (line.Kind == InvoiceLineKind.BaseFee || line.Service is null || cutoffs[n].Through is not { } through)
                continue;
            var recorded = session.Execute("""
                INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
                SELECT @customer, e.event_id, @invoice, @number, e.quantity FROM (
                    SELECT event_id, quantity, billing_seal FROM billing_usage_records
                    WHERE customer_id = @customer AND service_name = @service AND recorded_at >= @start AND recorded_at < @end
                    UNION ALL
                    SELECT event_id, quantity, billing_seal FROM usage_archived_events
                    WHERE customer_id = @customer AND service_name = @service AND recorded_at >= @start AND recorded_at < @end AND quantity IS NOT NULL) e
                WHERE e.billing_seal > @after AND e.billing_seal <= @through
                """, ("customer", invoice.CustomerId), ("invoice", invoice.InvoiceId), ("number", line.LineNumber), ("service", line.Service),
                ("start", line.PeriodStart), ("end", line.PeriodEnd), ("after", cutoffs[n].After ?? long.MinValue), ("through", through));
            InvoiceRules.CheckLineEvents(invoice, line, recorded);
        }
    }

    public IReadOnlyList<AuditedEvent> ReadBillingAudit(string customerId, DateTimeOffset start, DateTimeOffset end) => InReadSession(session => session.Query("""
        WITH ev AS (
            SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM billing_usage_records
            WHERE customer_id = @customer AND recorded_at >= @start AND recorded_at < @end
            UNION ALL
            SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM usage_archived_events
            WHERE customer_id = @customer AND recorded_at >= @start AND recorded_at < @end AND quantity IS NOT NULL)
        SELECT ev.event_id, ev.service_name, ev.recorded_at, ev.quantity, ev.billing_seal, b.invoice_id, b.line_number, b.quantity
        FROM ev LEFT JOIN billing_line_events b ON b.customer_id = @customer AND b.event_id = ev.event_id
            AND NOT EXISTS (SELECT 1 FROM billing_invoices v WHERE v.invoice_id = b.invoice_id AND v.status = 'void')
        UNION ALL
        SELECT b.event_id, l.service_name, NULL, NULL, NULL, b.invoice_id, b.line_number, b.quantity
        FROM billing_line_events b JOIN billing_invoice_lines l ON l.invoice_id = b.invoice_id AND l.line_number = b.line_number
        WHERE b.customer_id = @customer AND l.period_start < @end AND l.period_end > @start
          AND NOT EXISTS (SELECT 1 FROM billing_usage_records r WHERE r.customer_id = @customer AND r.event_id = b.event_id)
          AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = @customer AND a.event_id = b.event_id AND a.quantity IS NOT NULL)
          AND NOT EXISTS (SELECT 1 FROM billing_invoices v WHERE v.invoice_id = b.invoice_id AND v.status = 'void')
        """,
        r => new AuditedEvent(r.Text(0), r.Text(1), r.TimeOrNull(2), r.QuantityOrNull(3), r.LongOrNull(4), r.TextOrNull(5), r.IsNull(6) ? null : r.Int(6), r.QuantityOrNull(7)),
        ("customer", customerId), ("start", start), ("end", end)));

    public IReadOnlyList<BilledEvent> ReadBilledEvents(string customerId) => InReadSession(session => session.Query(
        // A void invoice bills nothing: its lines' events are billable again.
        $"SELECT invoice_id, line_number, event_id, quantity FROM billing_line_events b WHERE customer_id = @customer "
        + "AND NOT EXISTS (SELECT 1 FROM billing_invoices v WHERE v.invoice_id = b.invoice_id AND v.status = 'void') "
        + $"ORDER BY invoice_id, line_number, {Dialect.Ordinal("event_id")}",
        r => new BilledEvent(r.Text(0), r.Int(1), r.Text(2), r.Quantity(3)), ("customer", customerId)));

    public IReadOnlyDictionary<string, long> GetInvoiceSeals(string customerId) => InReadSession(session => session.Query(
        "SELECT invoice_id, billing_seal FROM billing_invoices WHERE customer_id = @customer AND billing_seal IS NOT NULL",
        r => (Invoice: r.Text(0), Seal: r.Long(1)), ("customer", customerId))).ToDictionary(x => x.Invoice, x => x.Seal, StringComparer.Ordinal);

    public IReadOnlyList<BilledUsage> GetBilledUsage(string customerId) => InReadSession(session => session.Query("""
        SELECT l.service_name, l.period_start, l.period_end, l.quantity, l.sealed_through
        FROM billing_invoice_lines l JOIN billing_invoices i ON i.invoice_id = l.invoice_id
        WHERE l.customer_id = @customer AND l.kind IN ('usage', 'adjustment') AND i.status IN ('open', 'paid', 'uncollectible') AND l.sealed_through IS NOT NULL
        ORDER BY l.period_start, l.period_end
        """,
        r => (Service: r.Text(0), Start: r.Time(1), End: r.Time(2), Quantity: r.Money(3), Through: r.Long(4)), ("customer", customerId)))
        // Summed here, exactly: SQLite keeps line quantities as decimal text, which it cannot add exactly.
        .GroupBy(l => (l.Service, l.Start, l.End))
        .Select(g => new BilledUsage(g.Key.Service, g.Key.Start, g.Key.End, Quantities.Normalize(g.Sum(l => l.Quantity)), g.Max(l => l.Through)))
        .ToList();

    public IEnumerable<LedgerEntry> ReadLedger(string customerId, string service, DateTimeOffset start, DateTimeOffset end, long? sealedAfter, long sealedThrough) =>
        // Unsealed events are newer than every seal. Archived events are read from their
        // tombstones, which keep quantity and seal: an archive moves events out of the table, not
        // out of billing. A restored event's tombstone went when it was stored again.
        InReadStream(session => session.Stream($"""
            SELECT event_id, quantity FROM (
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) AS seal FROM billing_usage_records
                WHERE customer_id = @customer AND service_name = @service AND recorded_at >= @start AND recorded_at < @end
                UNION ALL
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) FROM usage_archived_events
                WHERE customer_id = @customer AND service_name = @service AND recorded_at >= @start AND recorded_at < @end AND quantity IS NOT NULL) e
            WHERE seal > @after AND seal <= @through
            ORDER BY {Dialect.Ordinal("event_id")}
            """,
            r => new LedgerEntry(r.Text(0), r.Quantity(1)),
            ("customer", customerId), ("service", service), ("start", start), ("end", end), ("after", sealedAfter ?? long.MinValue), ("through", sealedThrough)));

    public IReadOnlyList<string> ServicesSealedAfter(string customerId, DateTimeOffset start, DateTimeOffset end, long sealedAfter) => InReadSession(session =>
        session.Query("""
            SELECT service_name FROM billing_usage_records
            WHERE customer_id = @customer AND recorded_at >= @start AND recorded_at < @end AND (billing_seal IS NULL OR billing_seal > @sealedAfter)
            UNION
            SELECT service_name FROM usage_archived_events
            WHERE customer_id = @customer AND recorded_at >= @start AND recorded_at < @end AND (billing_seal IS NULL OR billing_seal > @sealedAfter) AND quantity IS NOT NULL
            ORDER BY 1
            """,
            r => r.Text(0), ("customer", customerId), ("start", start), ("end", end), ("sealedAfter", sealedAfter)));
}
