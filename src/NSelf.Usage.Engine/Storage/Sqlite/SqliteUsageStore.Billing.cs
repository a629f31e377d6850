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
