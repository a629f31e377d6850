using System.Globalization;

namespace NSelf.Usage.Engine.Billing;

/// <summary>A sending of an invoice, claimed before the mail goes out.</summary>
public sealed record DeliveryClaim(string InvoiceId, IReadOnlyList<string> To, IReadOnlyList<string> Cc, string Server, string MessageId, DateTimeOffset StartedAt);

/// <summary>How a claimed sending ended when it did not fail with nothing sent.</summary>
public enum DeliveryOutcome
{
    /// <summary>The server took the mail.</summary>
    Sent,
    /// <summary>The whole mail was transmitted, then the connection ended before the server's answer: it may have been delivered.</summary>
    Uncertain,
}

/// <summary>An earlier sending of an invoice, as stored: status sending, sent or uncertain.</summary>
public sealed record EarlierDelivery(string Status, IReadOnlyList<string> To, DateTimeOffset StartedAt, DateTimeOffset? SentAt);

/// <summary>Which invoices may be sent, and when a sending would send one twice.</summary>
public static class DeliveryRules
{
    /// <summary>
    /// Only an issued invoice goes to a customer: a draft has no number and may still change, and a
    /// void one is no longer owed.
    /// </summary>
    public static void CheckSendable(BillingInvoice invoice)
    {
        if (invoice.Status == InvoiceStatus.Draft)
            throw new UsageException(ErrorIds.InvoiceNotSendable, UsageErrorKind.InvalidOperation,
                $"Invoice '{invoice.InvoiceId}' is a draft: finalize it with Complete-BillingInvoice (which gives it its number), then send it.", invoice.InvoiceId);
        // An invoice another tool finalized (nself's own) has no number of the seller's series.
        if (invoice.InvoiceNumber is null)
            throw new UsageException(ErrorIds.InvoiceNotSendable, UsageErrorKind.InvalidOperation,
                $"Invoice '{invoice.InvoiceId}' has no invoice number (it was not finalized by Complete-BillingInvoice), so it cannot be sent as a customer's invoice.", invoice.InvoiceId);
        if (invoice.Status == InvoiceStatus.Void)
            throw new UsageException(ErrorIds.InvoiceNotSendable, UsageErrorKind.InvalidOperation,
                $"Invoice {invoice.InvoiceNumber} is void: it is not owed, so it is not sent.", invoice.InvoiceId);
    }

    /// <summary>
    /// Refuses a second sending unless forced: a script run twice, or two hosts sending the same
    /// open invoices, would otherwise mail the customer the same bill again. A sending under way
    /// (or one whose host stopped mid-way) counts, as does one that may have arrived.
    /// </summary>
    public static void CheckNotSent(BillingInvoice invoice, IReadOnlyList<EarlierDelivery> earlier, bool force)
    {
        if (force || earlier.Count == 0)
            return;
        var last = earlier[^1];
        var to = string.Join(", ", last.To);
        var why = last.Status switch
        {
            "sent" => $"was sent to {to} at {Instant(last.SentAt ?? last.StartedAt)}",
            "uncertain" => $"was transmitted to {to} at {Instant(last.StartedAt)} but the server's answer never came, so it may have arrived",
            _ => $"is being sent to {to} since {Instant(last.StartedAt)} (if no host is sending it now, that sending stopped mid-way)",
        };
        throw new UsageException(ErrorIds.InvoiceAlreadySent, UsageErrorKind.ResourceExists,
            $"Invoice {invoice.InvoiceNumber} {why}. Add -Force to send it again.", invoice.InvoiceId);
    }

    /// <summary>Addresses as one stored text, one per line (an address holds no line break).</summary>
    public static string Join(IReadOnlyList<string> addresses) => string.Join('\n', addresses);

    public static IReadOnlyList<string> Split(string? stored) =>
        string.IsNullOrEmpty(stored) ? Array.Empty<string>() : stored.Split('\n');

    private static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
