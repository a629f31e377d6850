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

    // ---------------------------------------------------------------- invoices

    private const string InvoiceColumns = "invoice_id, customer_id, plan_name, status, coalesce(currency, 'USD'), coalesce(subtotal, 0), tax_rate, coalesce(tax_amount, 0), coalesce(total_amount, 0), period_start, period_end, due_date, coalesce(created_at, now()), finalized_at";

    private const string LineColumns = "line_number, kind, service_name, description, quantity, included, billable, unit, unit_price, amount, period_start, period_end, tiers::text, events, events_hash";

    private static BillingInvoiceLine ReadLine(NpgsqlDataReader r) => new()
    {
        LineNumber = r.GetInt32(0),
        Kind = LineKind(r.GetString(1)),
        Service = Text(r, 2),
        Description = r.GetString(3),
        Quantity = Dec(r, 4),
        Included = Dec(r, 5),
        Billable = Dec(r, 6),
        Unit = Text(r, 7),
        UnitPrice = DecimalOrNull(r, 8),
        Amount = Dec(r, 9),
        PeriodStart = ToInstant(r.GetDateTime(10)),
        PeriodEnd = ToInstant(r.GetDateTime(11)),
        Tiers = TierAmounts(Text(r, 12)),
        Events = r.GetInt64(13),
        EventsHash = Text(r, 14)?.Trim(),
    };

    private static List<BillingInvoice> ReadInvoices(NpgsqlConnection connection, NpgsqlTransaction? transaction, string where, params (string, object?)[] parameters)
    {
        // Invoices nself made without a period are not ours to read as billing periods.
        var headers = Query(connection, transaction, $"SELECT {InvoiceColumns} FROM billing_invoices {where} {(where.Length == 0 ? "WHERE" : "AND")} period_start IS NOT NULL AND period_end IS NOT NULL ORDER BY period_start, invoice_id",
            r => (Id: r.GetString(0), Customer: r.GetString(1), Plan: Text(r, 2), Status: Invoice(r.GetString(3)), Currency: r.GetString(4), Subtotal: Dec(r, 5),
                TaxRate: Dec(r, 6), Tax: Dec(r, 7), Total: Dec(r, 8), Start: ToInstant(r.GetDateTime(9)), End: ToInstant(r.GetDateTime(10)), Due: InstantOrNull(r, 11),
                Created: ToInstant(r.GetDateTime(12)), Finalized: InstantOrNull(r, 13)), parameters);
        return headers.Select(h => Money.InCurrency(new BillingInvoice
        {
            InvoiceId = h.Id, CustomerId = h.Customer, Plan = h.Plan, Status = h.Status, Currency = h.Currency, Subtotal = h.Subtotal, TaxRate = h.TaxRate,
            Tax = h.Tax, Total = h.Total, PeriodStart = h.Start, PeriodEnd = h.End, DueDate = h.Due, CreatedAt = h.Created, FinalizedAt = h.Finalized,
            Lines = Query(connection, transaction, $"SELECT {LineColumns} FROM billing_invoice_lines WHERE invoice_id = @i ORDER BY line_number", ReadLine, ("i", h.Id)),
        })).ToList();
    }

    public BillingInvoice? GetInvoice(string invoiceId) =>
        Run(writing: false, connection => ReadInvoices(connection, null, "WHERE invoice_id = @i", ("i", invoiceId)).FirstOrDefault());

    public BillingInvoice? FindInvoice(string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd) =>
        Run(writing: false, connection => FindInvoice(connection, null, customerId, periodStart, periodEnd));

    private static BillingInvoice? FindInvoice(NpgsqlConnection connection, NpgsqlTransaction? transaction, string customerId, DateTimeOffset periodStart, DateTimeOffset periodEnd) =>
        ReadInvoices(connection, transaction, "WHERE customer_id = @c AND period_start = @s AND period_end = @e AND status <> 'void'",
            ("c", customerId), ("s", periodStart.UtcDateTime), ("e", periodEnd.UtcDateTime)).FirstOrDefault();

    public IReadOnlyList<BillingInvoice> GetInvoices(string? customerId = null) =>
        Run(writing: false, connection => customerId is null ? ReadInvoices(connection, null, "") : ReadInvoices(connection, null, "WHERE customer_id = @c", ("c", customerId)));

    public SavedInvoice SaveDraft(BillingInvoice draft, IReadOnlyList<SealRange> lineCutoffs, bool replaceDraft) =>
        Write((connection, transaction) =>
        {
            // One invoice per customer and period, even with two hosts invoicing at once: the
            // customer's row is the lock they queue on.
            Execute(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = @c FOR UPDATE", ("c", draft.CustomerId));
            var overlapping = ReadInvoices(connection, transaction,
                "WHERE customer_id = @c AND status <> 'void' AND period_start < @e AND period_end > @s AND NOT (period_start = @s AND period_end = @e)",
                ("c", draft.CustomerId), ("s", draft.PeriodStart.UtcDateTime), ("e", draft.PeriodEnd.UtcDateTime));
            if (overlapping.Count > 0)
                throw BillingText.InvoiceOverlap(draft, overlapping[0]);
            var existing = FindInvoice(connection, transaction, draft.CustomerId, draft.PeriodStart, draft.PeriodEnd);
            if (existing is not null && (existing.Status != InvoiceStatus.Draft || !replaceDraft))
                return new SavedInvoice(existing, Written: false);
            var invoice = existing is null ? draft : WithId(draft, existing.InvoiceId, existing.CreatedAt);
            if (existing is not null)
                Execute(connection, transaction, "DELETE FROM billing_invoices WHERE invoice_id = @i", ("i", existing.InvoiceId));
            WriteInvoice(connection, transaction, invoice, lineCutoffs, seal: null);
            return new SavedInvoice(ReadInvoices(connection, transaction, "WHERE invoice_id = @i", ("i", invoice.InvoiceId)).Single(), Written: true);
        });

    public BillingSeal SealUsage(string customerId) =>
        Write((connection, transaction) =>
        {
            // The customer's lock orders seals and finalizations: a seal given out before another
            // finalization saved is checked against it when this one saves.
            Execute(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = @c FOR UPDATE", ("c", customerId));
            var last = LastFinalizedSeal(connection, transaction, customerId);
            var seal = Query(connection, transaction, "SELECT nextval('billing_seal_seq')", r => r.GetInt64(0)).Single();
            // Rows committed after this statement's snapshot stay unsealed, so newer than this seal:
            // late usage for the invoice being finalized, never lost.
            Execute(connection, transaction, "UPDATE billing_usage_records SET billing_seal = @s WHERE customer_id = @c AND billing_seal IS NULL", ("s", seal), ("c", customerId));
            Execute(connection, transaction, "UPDATE usage_archived_events SET billing_seal = @s WHERE customer_id = @c AND billing_seal IS NULL", ("s", seal), ("c", customerId));
            return new BillingSeal(customerId, seal, last);
        });

    /// <summary>
    /// The ledger of a finalized invoice: each event its usage and adjustment lines bill, from
    /// their seal ranges, in the transaction that finalizes it. A line whose range now holds other
    /// events than it was worked out from (a writer that set seals itself) is a conflict: worked out again.
    /// </summary>
    private static void RecordBilledEvents(NpgsqlConnection connection, NpgsqlTransaction transaction, BillingInvoice invoice, IReadOnlyList<SealRange> cutoffs)
    {
        for (var n = 0; n < invoice.Lines.Count; n++)
        {
            var line = invoice.Lines[n];
            if (line.Kind == InvoiceLineKind.BaseFee || line.Service is null || cutoffs[n].Through is not { } through)
                continue;
            var recorded = Execute(connection, transaction, """
                INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
                SELECT @c, e.event_id, @i, @n, e.quantity FROM (
                    SELECT event_id, quantity, billing_seal FROM billing_usage_records
                    WHERE customer_id = @c AND service_name = @s AND recorded_at >= @ps AND recorded_at < @pe
                    UNION ALL
                    SELECT event_id, quantity, billing_seal FROM usage_archived_events
                    WHERE customer_id = @c AND service_name = @s AND recorded_at >= @ps AND recorded_at < @pe AND quantity IS NOT NULL) e
                WHERE e.billing_seal > @after AND e.billing_seal <= @through
                """, ("c", invoice.CustomerId), ("i", invoice.InvoiceId), ("n", line.LineNumber), ("s", line.Service),
                ("ps", line.PeriodStart.UtcDateTime), ("pe", line.PeriodEnd.UtcDateTime), ("after", cutoffs[n].After ?? long.MinValue), ("through", through));
            if (recorded != line.Events)
                throw BillingText.FinalizationConflict(invoice);
        }
    }

    public IReadOnlyList<AuditedEvent> ReadBillingAudit(string customerId, DateTimeOffset start, DateTimeOffset end) =>
        Query("""
            WITH ev AS (
                SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM billing_usage_records
                WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e
                UNION ALL
                SELECT event_id, service_name, recorded_at, quantity, billing_seal FROM usage_archived_events
                WHERE customer_id = @c AND recorded_at >= @s AND recorded_at < @e AND quantity IS NOT NULL)
            SELECT ev.event_id, ev.service_name, ev.recorded_at, ev.quantity, ev.billing_seal, b.invoice_id, b.line_number, b.quantity
            FROM ev LEFT JOIN billing_line_events b ON b.customer_id = @c AND b.event_id = ev.event_id
            UNION ALL
            SELECT b.event_id, l.service_name, NULL, NULL, NULL, b.invoice_id, b.line_number, b.quantity
            FROM billing_line_events b JOIN billing_invoice_lines l ON l.invoice_id = b.invoice_id AND l.line_number = b.line_number
            WHERE b.customer_id = @c AND l.period_start < @e AND l.period_end > @s
              AND NOT EXISTS (SELECT 1 FROM billing_usage_records r WHERE r.customer_id = @c AND r.event_id = b.event_id)
              AND NOT EXISTS (SELECT 1 FROM usage_archived_events a WHERE a.customer_id = @c AND a.event_id = b.event_id AND a.quantity IS NOT NULL)
            """,
            r => new AuditedEvent(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : ToInstant(r.GetDateTime(2)), r.IsDBNull(3) ? null : Dec(r, 3),
                r.IsDBNull(4) ? null : r.GetInt64(4), r.IsDBNull(5) ? null : r.GetString(5), r.IsDBNull(6) ? null : r.GetInt32(6), r.IsDBNull(7) ? null : Dec(r, 7)),
            ("c", customerId), ("s", start.UtcDateTime), ("e", end.UtcDateTime));

    public IReadOnlyList<BilledEvent> ReadBilledEvents(string customerId) =>
        Query("""
            SELECT invoice_id, line_number, event_id, quantity FROM billing_line_events
            WHERE customer_id = @c ORDER BY invoice_id, line_number, event_id COLLATE "C"
            """,
            r => new BilledEvent(r.GetString(0), r.GetInt32(1), r.GetString(2), Dec(r, 3)), ("c", customerId));

    private static long? LastFinalizedSeal(NpgsqlConnection connection, NpgsqlTransaction transaction, string customerId) =>
        Query(connection, transaction, "SELECT max(billing_seal) FROM billing_invoices WHERE customer_id = @c", r => r.IsDBNull(0) ? (long?)null : r.GetInt64(0), ("c", customerId)).Single();

    public IReadOnlyDictionary<string, long> GetInvoiceSeals(string customerId) =>
        Query("SELECT invoice_id, billing_seal FROM billing_invoices WHERE customer_id = @c AND billing_seal IS NOT NULL", r => (r.GetString(0), r.GetInt64(1)), ("c", customerId))
            .ToDictionary(x => x.Item1, x => x.Item2, StringComparer.Ordinal);

    public BillingInvoice FinalizeInvoice(BillingInvoice finalized, IReadOnlyList<SealRange> lineCutoffs, BillingSeal seal) =>
        Write((connection, transaction) =>
        {
            Execute(connection, transaction, "SELECT 1 FROM billing_customers WHERE customer_id = @c FOR UPDATE", ("c", finalized.CustomerId));
            if (LastFinalizedSeal(connection, transaction, finalized.CustomerId) != seal.LastFinalized)
                throw BillingText.FinalizationConflict(finalized);
            Execute(connection, transaction, "SELECT 1 FROM billing_invoices WHERE invoice_id = @i FOR UPDATE", ("i", finalized.InvoiceId));
            var current = ReadInvoices(connection, transaction, "WHERE invoice_id = @i", ("i", finalized.InvoiceId)).SingleOrDefault()
                ?? throw new UsageException(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{finalized.InvoiceId}' does not exist.", finalized.InvoiceId);
            if (current.Status != InvoiceStatus.Draft)
                throw new UsageException(ErrorIds.InvoiceFinalized, UsageErrorKind.InvalidOperation,
                    $"Invoice '{finalized.InvoiceId}' is already {current.Status.ToString().ToLowerInvariant()}; a finalized invoice never changes.", finalized.InvoiceId);
            Execute(connection, transaction, "DELETE FROM billing_invoices WHERE invoice_id = @i", ("i", current.InvoiceId));
            WriteInvoice(connection, transaction, WithId(finalized, current.InvoiceId, current.CreatedAt), lineCutoffs, seal.Seal);
            RecordBilledEvents(connection, transaction, WithId(finalized, current.InvoiceId, current.CreatedAt), lineCutoffs);
            return ReadInvoices(connection, transaction, "WHERE invoice_id = @i", ("i", current.InvoiceId)).Single();
        });

    private static BillingInvoice WithId(BillingInvoice i, string id, DateTimeOffset createdAt) => new()
    {
        InvoiceId = id, CustomerId = i.CustomerId, Plan = i.Plan, Status = i.Status, Currency = i.Currency, Subtotal = i.Subtotal, TaxRate = i.TaxRate,
        Tax = i.Tax, Total = i.Total, PeriodStart = i.PeriodStart, PeriodEnd = i.PeriodEnd, DueDate = i.DueDate, CreatedAt = createdAt,
        FinalizedAt = i.FinalizedAt, Lines = i.Lines,
    };

    private static void WriteInvoice(NpgsqlConnection connection, NpgsqlTransaction transaction, BillingInvoice i, IReadOnlyList<SealRange> cutoffs, long? seal)
    {
        using (var header = Command(connection, """
            INSERT INTO billing_invoices (invoice_id, customer_id, plan_name, status, currency, subtotal, tax_rate, tax_amount, total_amount, discount_amount,
                period_start, period_end, due_date, created_at, updated_at, finalized_at, line_items, billing_seal)
            VALUES (@id, @c, @p, @s, @cur, @sub, @tr, @tax, @tot, 0, @ps, @pe, @due, @ca, @ca, @fa, @items, @seal)
            """, transaction))
        {
            header.Parameters.AddWithValue("seal", NpgsqlDbType.Bigint, (object?)seal ?? DBNull.Value);
            header.Parameters.AddWithValue("id", i.InvoiceId);
            header.Parameters.AddWithValue("c", i.CustomerId);
            header.Parameters.AddWithValue("p", NpgsqlDbType.Varchar, (object?)i.Plan ?? DBNull.Value);
            header.Parameters.AddWithValue("s", Of(i.Status));
            header.Parameters.AddWithValue("cur", i.Currency);
            header.Parameters.AddWithValue("sub", i.Subtotal);
            header.Parameters.AddWithValue("tr", i.TaxRate);
            header.Parameters.AddWithValue("tax", i.Tax);
            header.Parameters.AddWithValue("tot", i.Total);
            header.Parameters.AddWithValue("ps", i.PeriodStart.UtcDateTime);
            header.Parameters.AddWithValue("pe", i.PeriodEnd.UtcDateTime);
            header.Parameters.AddWithValue("due", NpgsqlDbType.TimestampTz, (object?)i.DueDate?.UtcDateTime ?? DBNull.Value);
            header.Parameters.AddWithValue("ca", i.CreatedAt.UtcDateTime);
            header.Parameters.AddWithValue("fa", NpgsqlDbType.TimestampTz, (object?)i.FinalizedAt?.UtcDateTime ?? DBNull.Value);
            header.Parameters.AddWithValue("items", NpgsqlDbType.Jsonb, LineItemsJson(i.Lines));
            header.ExecuteNonQuery();
        }
        for (var n = 0; n < i.Lines.Count; n++)
        {
            var l = i.Lines[n];
            using var line = Command(connection, $"""
                INSERT INTO billing_invoice_lines (invoice_id, customer_id, {LineColumns.Replace("tiers::text", "tiers", StringComparison.Ordinal)}, sealed_after, sealed_through)
                VALUES (@id, @c, @n, @k, @s, @d, @q, @inc, @b, @u, @up, @a, @ps, @pe, @t, @ev, @h, @after, @through)
                """, transaction);
            line.Parameters.AddWithValue("id", i.InvoiceId);
            line.Parameters.AddWithValue("c", i.CustomerId);
            line.Parameters.AddWithValue("n", l.LineNumber);
            line.Parameters.AddWithValue("k", Of(l.Kind));
            line.Parameters.AddWithValue("s", NpgsqlDbType.Varchar, (object?)l.Service ?? DBNull.Value);
            line.Parameters.AddWithValue("d", l.Description);
            line.Parameters.AddWithValue("q", l.Quantity);
            line.Parameters.AddWithValue("inc", l.Included);
            line.Parameters.AddWithValue("b", l.Billable);
            line.Parameters.AddWithValue("u", NpgsqlDbType.Varchar, (object?)l.Unit ?? DBNull.Value);
            line.Parameters.AddWithValue("up", NpgsqlDbType.Numeric, (object?)l.UnitPrice ?? DBNull.Value);
            line.Parameters.AddWithValue("a", l.Amount);
            line.Parameters.AddWithValue("ps", l.PeriodStart.UtcDateTime);
            line.Parameters.AddWithValue("pe", l.PeriodEnd.UtcDateTime);
            line.Parameters.AddWithValue("t", NpgsqlDbType.Jsonb, (object?)TierAmountsJson(l.Tiers) ?? DBNull.Value);
            line.Parameters.AddWithValue("ev", l.Events);
            line.Parameters.AddWithValue("h", NpgsqlDbType.Char, (object?)l.EventsHash ?? DBNull.Value);
            // A draft's open end is stored as NULL: it bills whatever is stored when it is finalized.
            line.Parameters.AddWithValue("after", NpgsqlDbType.Bigint, (object?)cutoffs[n].After ?? DBNull.Value);
            line.Parameters.AddWithValue("through", NpgsqlDbType.Bigint, cutoffs[n].Through is { } through && through != SealRange.Open ? through : DBNull.Value);
            line.ExecuteNonQuery();
        }
    }

    public IReadOnlyList<BilledUsage> GetBilledUsage(string customerId) =>
        Query("""
            SELECT l.service_name, l.period_start, l.period_end, sum(l.quantity), max(l.sealed_through)
            FROM billing_invoice_lines l JOIN billing_invoices i ON i.invoice_id = l.invoice_id
            WHERE l.customer_id = @c AND l.kind IN ('usage', 'adjustment') AND i.status IN ('open', 'paid', 'uncollectible') AND l.sealed_through IS NOT NULL
            GROUP BY l.service_name, l.period_start, l.period_end
            """,
            r => new BilledUsage(r.GetString(0), ToInstant(r.GetDateTime(1)), ToInstant(r.GetDateTime(2)), Dec(r, 3), r.GetInt64(4)),
            ("c", customerId));

    public IEnumerable<LedgerEntry> ReadLedger(string customerId, string service, DateTimeOffset start, DateTimeOffset end, long? sealedAfter, long sealedThrough)
    {
        using var connection = Open();
        // Unsealed events are newer than every seal. Archived events are read from their
        // tombstones, which keep quantity and seal: an archive moves events out of the table, not
        // out of billing. A restored event's tombstone went when it was stored again.
        using var command = Command(connection, $"""
            SELECT event_id, quantity FROM (
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) AS seal FROM billing_usage_records
                WHERE customer_id = @c AND service_name = @s AND recorded_at >= @start AND recorded_at < @end
                UNION ALL
                SELECT event_id, quantity, coalesce(billing_seal, {SealRange.Open}) FROM usage_archived_events
                WHERE customer_id = @c AND service_name = @s AND recorded_at >= @start AND recorded_at < @end AND quantity IS NOT NULL) e
            WHERE seal > @after AND seal <= @through
            ORDER BY event_id COLLATE "C"
            """);
        command.Parameters.AddWithValue("c", customerId);
        command.Parameters.AddWithValue("s", service);
        command.Parameters.AddWithValue("start", start.UtcDateTime);
        command.Parameters.AddWithValue("end", end.UtcDateTime);
        command.Parameters.AddWithValue("after", sealedAfter ?? long.MinValue);
        command.Parameters.AddWithValue("through", sealedThrough);
        using var reader = command.ExecuteReader();
        while (reader.Read())
            yield return new LedgerEntry(reader.GetString(0), Dec(reader, 1));
    }

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
