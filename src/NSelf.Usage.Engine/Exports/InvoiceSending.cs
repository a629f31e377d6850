using MimeKit;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Exports;

/// <summary>What a sending will do, checked before the command asks to go on (-WhatIf, -Confirm).</summary>
/// <remarks>Carries the seller's profile it was checked against, so the sending reads it no second time.</remarks>
public sealed record InvoiceSendingPlan(BillingInvoice Invoice, IReadOnlyList<string> To, IReadOnlyList<string> Cc, string From, SmtpSettings Smtp, BillingProfile? Profile);

/// <summary>
/// Sends a finalized invoice to its customer: the customer's copy as the HTML body, the PDF
/// attached, through the seller's SMTP server. The sending is claimed in the store before the mail
/// goes out, so two hosts (or a script run twice) do not mail the same bill twice, and it is
/// recorded as sent only when the server took the mail; a failure that sent nothing leaves the
/// invoice unsent.
/// </summary>
public sealed class InvoiceSending(Accounts.Subscriptions book, TimeProvider clock, EnvironmentSettings environment)
{
    private IUsageStore Store => book.Store;

    public InvoiceSendingPlan Plan(string invoiceId, IReadOnlyList<string>? to, IReadOnlyList<string>? cc, bool force)
    {
        var invoice = Store.GetInvoice(invoiceId) ?? throw InvoiceRules.NotFound(invoiceId);
        DeliveryRules.CheckSendable(invoice);
        // Told now rather than at the claim, so -WhatIf says it too; the claim checks again, under the invoice's lock.
        if (invoice.SentAt is { } sentAt)
            DeliveryRules.CheckNotSent(invoice, [new EarlierDelivery("sent", invoice.SentTo, sentAt, sentAt)], force);
        var profile = Store.GetProfile();
        var recipients = to is null ? [DefaultRecipient(invoice)] : Addresses(to, "-To");
        var copies = cc is null ? [] : Addresses(cc, "-Cc");
        // The mailbox the seller sends from now, as the SMTP server lets it send; the invoice's own if the profile has none.
        var from = profile?.Email ?? invoice.Seller?.Email
            ?? throw new UsageException(ErrorIds.NoSender, UsageErrorKind.InvalidOperation,
                "The seller's profile has no e-mail address to send invoices from: set one with Set-BillingProfile -Email.", invoiceId);
        var smtp = SmtpRules.Resolve(profile, environment, Store.GetSmtpPassword);
        return new InvoiceSendingPlan(invoice, recipients, copies, from, smtp, profile);
    }

    /// <summary>Sends the planned mail; a stop of the command (<see cref="StoreCancellation"/>) ends the SMTP session.</summary>
    public BillingInvoiceDelivery Send(InvoiceSendingPlan plan, bool force, TimeZoneInfo defaultZone, InvoicePaperSize? paper)
    {
        var stop = StoreCancellation.Current;
        var invoice = plan.Invoice;
        var number = invoice.InvoiceNumber!; // a sendable invoice has one
        var copy = InvoiceCopies.Of(book, invoice, plan.Profile, defaultZone, paper);
        var mail = InvoiceMails.Compose(copy, number, plan, Micros.Truncate(clock.GetUtcNow()));
        var messageId = InvoiceMailer.MessageIdOf(mail);

        var delivery = Store.ClaimDelivery(new DeliveryClaim(invoice.InvoiceId, plan.To, plan.Cc, plan.Smtp.Endpoint, messageId, mail.Date), force);
        try
        {
            new InvoiceMailer(plan.Smtp).SendAsync(mail, stop).GetAwaiter().GetResult();
        }
        catch (InvoiceMailException e)
        {
            // Recorded whatever the stop: a claim left 'sending' would hold the invoice back.
            using (StoreCancellation.Enter(CancellationToken.None))
            {
                if (e.DeliveryUncertain)
                    Store.CompleteDelivery(delivery, DeliveryOutcome.Uncertain, null);
                else
                    Store.AbandonDelivery(delivery);
            }
            if (e.Kind == InvoiceMailFailure.Cancelled)
                throw new OperationCanceledException(e.Message, e, stop);
            throw Failure(e, number, sentBefore: invoice.SentAt is not null);
        }
        catch
        {
            using (StoreCancellation.Enter(CancellationToken.None))
                Store.AbandonDelivery(delivery);
            throw;
        }

        var sentAt = Micros.Truncate(clock.GetUtcNow());
        try
        {
            using (StoreCancellation.Enter(CancellationToken.None))
                Store.CompleteDelivery(delivery, DeliveryOutcome.Sent, sentAt);
        }
        catch (UsageException e)
        {
            // The claim stays 'sending', which keeps a second sending back until -Force.
            throw new UsageException(e.ErrorId, e.Kind,
                $"Invoice {number} was sent to {string.Join(", ", plan.To)} (Message-ID {messageId}), but recording that failed: {e.Message}", invoice.InvoiceId, e);
        }
        return new BillingInvoiceDelivery
        {
            InvoiceId = invoice.InvoiceId, InvoiceNumber = number, CustomerId = invoice.CustomerId,
            To = plan.To, Cc = plan.Cc, SentAt = sentAt, MessageId = messageId, Server = plan.Smtp.Endpoint,
        };
    }

    /// <summary>The customer's invoice e-mail address, else its e-mail address, as they are now; else the invoice's.</summary>
    private string DefaultRecipient(BillingInvoice invoice)
    {
        var customer = Store.GetCustomer(invoice.CustomerId, includeRemoved: true);
        return customer?.InvoiceEmail ?? customer?.Email ?? invoice.Buyer?.Email
            ?? throw new UsageException(ErrorIds.NoRecipient, UsageErrorKind.InvalidArgument,
                $"Customer '{invoice.CustomerId}' has no e-mail address: give -To, or set one with Set-BillingCustomer -InvoiceEmail.", invoice.InvoiceId);
    }

    /// <summary>Addresses as given (someone@example.com, or Name &lt;someone@example.com&gt;), each checked; an empty list is refused.</summary>
    public static IReadOnlyList<string> Addresses(IReadOnlyList<string?> given, string parameter)
    {
        if (given.Count == 0)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"{parameter} is empty: give an e-mail address, or leave {parameter} out.", parameter);
        var addresses = new List<string>(given.Count);
        foreach (var value in given)
        {
            var text = value?.Trim();
            if (string.IsNullOrEmpty(text) || text.Contains('\n', StringComparison.Ordinal)
                || !MailboxAddress.TryParse(text, out var mailbox) || mailbox.Address.IndexOf('@', StringComparison.Ordinal) <= 0 || mailbox.Address.EndsWith('@'))
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                    $"{parameter} '{value}' is not an e-mail address; give someone@example.com or \"Name <someone@example.com>\".", value);
            addresses.Add(text);
        }
        return addresses;
    }

    private static UsageException Failure(InvoiceMailException e, string number, bool sentBefore)
    {
        var (id, kind) = e.Kind switch
        {
            InvoiceMailFailure.Unreachable => (ErrorIds.SmtpUnreachable, UsageErrorKind.ConnectionError),
            InvoiceMailFailure.TlsFailed => (ErrorIds.SmtpTlsFailed, UsageErrorKind.ConnectionError),
            InvoiceMailFailure.AuthenticationFailed => (ErrorIds.SmtpAuthenticationFailed, UsageErrorKind.PermissionDenied),
            InvoiceMailFailure.RecipientRefused => (ErrorIds.SmtpRecipientRefused, UsageErrorKind.InvalidArgument),
            InvoiceMailFailure.Rejected => (ErrorIds.SmtpRejected, UsageErrorKind.InvalidOperation),
            _ => (ErrorIds.SmtpConnectionLost, UsageErrorKind.ConnectionError),
        };
        var after = e.DeliveryUncertain
            ? $" Invoice {number} is recorded as possibly delivered; Send-BillingInvoice -Force sends it again (with the same Message-ID, which mail systems recognise)."
            : sentBefore ? $" Invoice {number} was not sent again; its earlier sending stands." : $" Invoice {number} stays unsent.";
        return new UsageException(id, kind, e.Message + after, number, e);
    }
}

/// <summary>The e-mail of an invoice, worded in the buyer's language from its customer's copy.</summary>
public static class InvoiceMails
{
    public static InvoiceMail Compose(CustomerCopy copy, string number, InvoiceSendingPlan plan, DateTimeOffset date)
    {
        var words = InvoiceWords.For(System.Globalization.CultureInfo.GetCultureInfo(copy.Language ?? "en-US"));
        var seller = copy.Seller.LegalName;
        var logo = copy.Seller.Logo is { } image && plan.Profile?.LogoType is { } type ? (image, type) : ((byte[], string)?)null;
        return new InvoiceMail
        {
            InvoiceNumber = number,
            SellerName = seller,
            SellerAddress = plan.From,
            To = plan.To,
            Cc = plan.Cc,
            Subject = string.Format(System.Globalization.CultureInfo.InvariantCulture, words.MailSubject, copy.Title, number, seller),
            HtmlBody = InvoiceDocument.Html(copy, logo is null ? null : "cid:" + InvoiceMail.LogoContentId),
            TextBody = Text(copy, words),
            Pdf = InvoicePdf.Render(copy),
            Logo = logo,
            Date = date,
        };
    }

    /// <summary>The plain-text alternative: the number, dates and totals as the copy words them, and where the invoice is.</summary>
    public static string Text(CustomerCopy copy, InvoiceWords words)
    {
        var text = new System.Text.StringBuilder();
        text.Append(copy.Title).Append(' ').Append(copy.Number).Append("\r\n\r\n");
        foreach (var field in copy.Meta)
            text.Append(field.Label).Append(": ").Append(field.Value).Append("\r\n");
        text.Append("\r\n");
        foreach (var total in copy.Totals)
            text.Append(total.Label).Append(": ").Append(total.Value).Append("\r\n");
        foreach (var note in copy.TaxNotes)
            text.Append("\r\n").Append(note).Append("\r\n");
        if (copy.PaymentInstructions.Count > 0)
            text.Append("\r\n").Append(string.Join("\r\n", copy.PaymentInstructions.SelectMany(p => p.Split('\n')))).Append("\r\n");
        text.Append("\r\n").Append(words.MailAttached).Append("\r\n");
        return text.ToString();
    }
}
