using NSelf.Usage.Engine.Billing;

namespace NSelf.Usage.Engine.Storage.Sql;

/// <summary>Sendings of invoices by e-mail: claimed before the mail goes out, completed or removed after.</summary>
public abstract partial class SqlStore
{
    // The invoice's last completed sending, read with every invoice header.
    private const string LastSentAt =
        "(SELECT max(d.sent_at) FROM billing_invoice_deliveries d WHERE d.invoice_id = billing_invoices.invoice_id AND d.status = 'sent')";

    private const string LastSentTo =
        "(SELECT d.recipients FROM billing_invoice_deliveries d WHERE d.invoice_id = billing_invoices.invoice_id AND d.status = 'sent' ORDER BY d.delivery_id DESC LIMIT 1)";

    public long ClaimDelivery(DeliveryClaim claim, bool force) => InWriteTransaction(session =>
    {
        // The invoice's row is the lock two hosts sending it queue on (SQLite's write transaction holds the file).
        var invoice = ReadInvoiceHeaders(session, "WHERE invoice_id = @invoice", lockRows: true, ("invoice", claim.InvoiceId)).SingleOrDefault()
            ?? throw InvoiceRules.NotFound(claim.InvoiceId);
        DeliveryRules.CheckSendable(invoice);
        var earlier = session.Query(
            "SELECT status, recipients, started_at, sent_at FROM billing_invoice_deliveries WHERE invoice_id = @invoice ORDER BY delivery_id",
            r => new EarlierDelivery(r.Text(0), DeliveryRules.Split(r.Text(1)), r.Time(2), r.TimeOrNull(3)), ("invoice", claim.InvoiceId));
        DeliveryRules.CheckNotSent(invoice, earlier, force);
        return session.Query("""
            INSERT INTO billing_invoice_deliveries (invoice_id, customer_id, status, recipients, cc, server, message_id, started_at)
            VALUES (@invoice, @customer, 'sending', @to, @cc, @server, @messageId, @started)
            RETURNING delivery_id
            """, r => r.Long(0),
            ("invoice", invoice.InvoiceId), ("customer", invoice.CustomerId), ("to", DeliveryRules.Join(claim.To)),
            ("cc", claim.Cc.Count == 0 ? null : DeliveryRules.Join(claim.Cc)), ("server", claim.Server), ("messageId", claim.MessageId),
            ("started", claim.StartedAt)).Single();
    });

    public void CompleteDelivery(long deliveryId, DeliveryOutcome outcome, DateTimeOffset? sentAt) => InWriteTransaction(session =>
        session.Execute("UPDATE billing_invoice_deliveries SET status = @status, sent_at = @sent WHERE delivery_id = @delivery",
            ("status", outcome == DeliveryOutcome.Sent ? "sent" : "uncertain"), ("sent", sentAt), ("delivery", deliveryId)));

    public void AbandonDelivery(long deliveryId) => InWriteTransaction(session =>
        session.Execute("DELETE FROM billing_invoice_deliveries WHERE delivery_id = @delivery AND status = 'sending'", ("delivery", deliveryId)));
}
