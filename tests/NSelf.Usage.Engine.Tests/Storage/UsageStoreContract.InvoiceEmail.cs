using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Tests.Mail;

namespace NSelf.Usage.Engine.Tests.Storage;

/// <summary>
/// Issue 18, item 6: a finalized invoice goes to its customer by e-mail through a real SMTP server
/// (LocalSmtpServer), once; the sending is recorded, and a failure leaves the invoice unsent.
/// </summary>
public abstract partial class UsageStoreContract
{
    private static EnvironmentSettings Smtp(LocalSmtpServer server, params (string Name, string Value)[] more)
    {
        var values = new Dictionary<string, string>(more.Select(m => KeyValuePair.Create(m.Name, m.Value)))
        {
            ["BILLING_SMTP_SERVER"] = server.Host,
            ["BILLING_SMTP_PORT"] = server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new EnvironmentSettings(name => values.GetValueOrDefault(name));
    }

    private static readonly EnvironmentSettings NoEnvironment = new(_ => null);

    /// <summary>The German seller's reverse-charged invoice to Exemple SARL, finalized: BSP-000001.</summary>
    private BillingInvoice FrenchInvoice(string customer = "cus_fr")
    {
        GermanSeller();
        Store.SaveProfile(new ProfileChange(Logo: OnePixelPng, LogoType: "image/png"));
        var invoicing = HundredNet(customer, new CustomerChange(Company: "Exemple SARL", Name: "Marie Dupont", Country: "FR", TaxId: "FR40303265045",
            Locale: "fr-FR", Email: "marie@exemple.example", InvoiceEmail: "factures@exemple.example"));
        return Finalize(invoicing, customer);
    }

    private InvoiceSending Sending(EnvironmentSettings environment) => new(new Subscriptions(Store, Time), Time, environment);

    private BillingInvoiceDelivery Send(InvoiceSending sending, string invoiceId, bool force = false, IReadOnlyList<string>? to = null) =>
        sending.Send(sending.Plan(invoiceId, to, null, force), force, TimeZoneInfo.Utc, null);

    [SkippableFact]
    public async Task Send_FinalizedInvoice_ArrivesWithItsPdf_InTheBuyersLanguage_AndIsRecorded()
    {
        var invoice = FrenchInvoice();
        await using var server = await LocalSmtpServer.StartAsync();

        var delivery = Send(Sending(Smtp(server)), invoice.InvoiceId);

        var mail = Assert.Single(server.Received);
        Assert.Equal("rechnung@beispiel.example", mail.EnvelopeFrom);
        Assert.Equal(["factures@exemple.example"], mail.EnvelopeTo);
        Assert.Equal("Facture BSP-000001 de Beispiel GmbH", mail.Message.Subject);
        Assert.Equal("Beispiel GmbH", mail.Message.From.Mailboxes.Single().Name);
        var pdf = Assert.Single(mail.Message.Attachments.OfType<MimeKit.MimePart>());
        Assert.Equal("BSP-000001.pdf", pdf.FileName);
        using (var bytes = new MemoryStream())
        {
            pdf.Content!.DecodeTo(bytes);
            Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString(bytes.ToArray(), 0, 5), StringComparison.Ordinal);
        }
        // The logo is attached and named by the page, not inlined: mail readers block data: images.
        Assert.Contains("src=\"cid:logo@invoice\"", mail.Message.HtmlBody!, StringComparison.Ordinal);
        Assert.DoesNotContain("data:image", mail.Message.HtmlBody!, StringComparison.Ordinal);
        Assert.Contains(mail.Message.BodyParts, part => part.ContentId == "logo@invoice");
        Assert.Contains("Total TTC: 100,00", mail.Message.TextBody, StringComparison.Ordinal);
        Assert.Contains("La facture est jointe au format PDF.", mail.Message.TextBody, StringComparison.Ordinal);

        Assert.Equal((invoice.InvoiceId, "BSP-000001", "cus_fr", Time.GetUtcNow()), (delivery.InvoiceId, delivery.InvoiceNumber, delivery.CustomerId, delivery.SentAt));
        Assert.Equal(mail.Message.MessageId, delivery.MessageId);
        Assert.Equal($"127.0.0.1:{server.Port}", delivery.Server);
        var stored = Open("main").GetInvoice(invoice.InvoiceId)!; // another host sees it sent
        Assert.Equal(Time.GetUtcNow(), stored.SentAt);
        Assert.Equal(["factures@exemple.example"], stored.SentTo);
        Assert.Equal(1L, CountSql("SELECT count(*) FROM billing_invoice_deliveries WHERE status = 'sent'"));
    }

    [SkippableFact]
    public async Task Send_ADraft_IsRefused_AndNothingIsSent()
    {
        GermanSeller();
        var invoicing = HundredNet("cus_de", new CustomerChange(Name: "Max", Country: "DE", Email: "max@example.de"));
        var draft = invoicing.Create("cus_de", null, null, TimeZoneInfo.Utc, false).Invoice;
        await using var server = await LocalSmtpServer.StartAsync();

        var refused = Assert.Throws<UsageException>(() => Send(Sending(Smtp(server)), draft.InvoiceId));

        Assert.Equal(ErrorIds.InvoiceNotSendable, refused.ErrorId);
        Assert.Empty(server.Received);
        Assert.Equal(0L, CountSql("SELECT count(*) FROM billing_invoice_deliveries"));
    }

    [SkippableFact]
    public async Task Send_Twice_IsRefusedTheSecondTime_UnlessForced()
    {
        var invoice = FrenchInvoice();
        await using var server = await LocalSmtpServer.StartAsync();
        var sending = Sending(Smtp(server));
        Send(sending, invoice.InvoiceId);

        var again = Assert.Throws<UsageException>(() => Send(sending, invoice.InvoiceId));
        Assert.Equal(ErrorIds.InvoiceAlreadySent, again.ErrorId);
        Assert.Contains("was sent to factures@exemple.example", again.Message, StringComparison.Ordinal);
        Assert.Single(server.Received);

        Time.SetUtcNow(Time.GetUtcNow().AddMinutes(5));
        var resent = Send(sending, invoice.InvoiceId, force: true, to: ["Compta <compta@exemple.example>"]);
        Assert.Equal(2, server.Received.Count);
        Assert.Equal(["compta@exemple.example"], server.Received[1].EnvelopeTo);
        var stored = Store.GetInvoice(invoice.InvoiceId)!;
        Assert.Equal(resent.SentAt, stored.SentAt);
        Assert.Equal(["Compta <compta@exemple.example>"], stored.SentTo);
    }

    [SkippableFact]
    public async Task Send_ToAnUnreachableServer_FailsWithItsId_LeavesTheInvoiceUnsent_AndALaterSendWorks()
    {
        var invoice = FrenchInvoice();
        int closed;
        await using (var gone = await LocalSmtpServer.StartAsync())
            closed = gone.Port; // nothing listens there any more
        var unreachable = new EnvironmentSettings(name => name switch
        {
            "BILLING_SMTP_SERVER" => "127.0.0.1",
            "BILLING_SMTP_PORT" => closed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => null,
        });

        var failed = Assert.Throws<UsageException>(() => Send(Sending(unreachable), invoice.InvoiceId));

        Assert.Equal(ErrorIds.SmtpUnreachable, failed.ErrorId);
        Assert.Contains("Invoice BSP-000001 stays unsent.", failed.Message, StringComparison.Ordinal);
        Assert.Null(Store.GetInvoice(invoice.InvoiceId)!.SentAt);
        Assert.Equal(0L, CountSql("SELECT count(*) FROM billing_invoice_deliveries"));
        await using var server = await LocalSmtpServer.StartAsync();
        var sent = Send(Sending(Smtp(server)), invoice.InvoiceId);
        Assert.Single(server.Received);

        // A forced resend that fails says the earlier sending stands, and leaves it recorded.
        var again = Assert.Throws<UsageException>(() => Send(Sending(unreachable), invoice.InvoiceId, force: true));
        Assert.Equal(ErrorIds.SmtpUnreachable, again.ErrorId);
        Assert.EndsWith("Invoice BSP-000001 was not sent again; its earlier sending stands.", again.Message, StringComparison.Ordinal);
        Assert.Equal(sent.SentAt, Store.GetInvoice(invoice.InvoiceId)!.SentAt);
        Assert.Equal(1L, CountSql("SELECT count(*) FROM billing_invoice_deliveries"));
    }

    [SkippableFact]
    public async Task Send_ToARefusedRecipient_FailsWithItsId_AndSendsNothing()
    {
        var invoice = FrenchInvoice();
        await using var server = await LocalSmtpServer.StartAsync(new LocalSmtpServerOptions { RefusedRecipients = ["factures@exemple.example"] });

        var failed = Assert.Throws<UsageException>(() => Send(Sending(Smtp(server)), invoice.InvoiceId));

        Assert.Equal(ErrorIds.SmtpRecipientRefused, failed.ErrorId);
        Assert.Empty(server.Received);
        Assert.Null(Store.GetInvoice(invoice.InvoiceId)!.SentAt);
        Assert.Equal(0L, CountSql("SELECT count(*) FROM billing_invoice_deliveries"));
    }

    [SkippableFact]
    public async Task Send_StoppedBeforeTheMailWasTransmitted_LeavesTheInvoiceUnsent()
    {
        var invoice = FrenchInvoice();
        await using var server = await LocalSmtpServer.StartAsync(new LocalSmtpServerOptions { Hold = SmtpHold.RecipientReply });
        using var stopping = new CancellationTokenSource();
        var sending = Sending(Smtp(server));
        var task = Task.Run(() =>
        {
            using var scope = StoreCancellation.Enter(stopping.Token);
            Send(sending, invoice.InvoiceId);
        });
        await server.Held.WaitAsync(TimeSpan.FromSeconds(30));
        // While it is held, the sending is claimed: a second host is refused.
        var second = Assert.Throws<UsageException>(() => Send(sending, invoice.InvoiceId));
        Assert.Equal(ErrorIds.InvoiceAlreadySent, second.ErrorId);
        Assert.Contains("is being sent", second.Message, StringComparison.Ordinal);

        await stopping.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Null(Store.GetInvoice(invoice.InvoiceId)!.SentAt);
        Assert.Equal(0L, CountSql("SELECT count(*) FROM billing_invoice_deliveries"));
    }

    [SkippableFact]
    public async Task Send_StoppedAfterTheMailWasTransmitted_IsRecordedAsPossiblyDelivered_AndNeedsForce()
    {
        var invoice = FrenchInvoice();
        await using (var server = await LocalSmtpServer.StartAsync(new LocalSmtpServerOptions { Hold = SmtpHold.DataReply }))
        {
            using var stopping = new CancellationTokenSource();
            var task = Task.Run(() =>
            {
                using var scope = StoreCancellation.Enter(stopping.Token);
                Send(Sending(Smtp(server)), invoice.InvoiceId);
            });
            await server.Held.WaitAsync(TimeSpan.FromSeconds(30));
            await stopping.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(30)));
        }
        Assert.Equal(1L, CountSql("SELECT count(*) FROM billing_invoice_deliveries WHERE status = 'uncertain'"));
        Assert.Null(Store.GetInvoice(invoice.InvoiceId)!.SentAt);

        await using var next = await LocalSmtpServer.StartAsync();
        var refused = Assert.Throws<UsageException>(() => Send(Sending(Smtp(next)), invoice.InvoiceId));
        Assert.Equal(ErrorIds.InvoiceAlreadySent, refused.ErrorId);
        Assert.Contains("may have arrived", refused.Message, StringComparison.Ordinal);
        Send(Sending(Smtp(next)), invoice.InvoiceId, force: true);
        Assert.Single(next.Received);
    }

    [SkippableFact]
    public void SmtpSettings_OfTheProfile_KeepThePasswordApart_AndAreClearedOneByOne()
    {
        var saved = Store.SaveProfile(new ProfileChange(LegalName: "Beispiel GmbH")
        {
            SmtpServer = "smtp.beispiel.example", SmtpPort = 465, SmtpUseTls = true,
            SmtpCredential = new SmtpCredential("rechnung", "s3cret!"), SmtpCertificateSha256 = new string('A', 64),
        });
        Assert.Equal(("smtp.beispiel.example", (int?)465, (bool?)true, "rechnung", true, new string('A', 64)),
            (saved.SmtpServer, saved.SmtpPort, saved.SmtpUseTls, saved.SmtpUserName, saved.SmtpPasswordSet, saved.SmtpCertificateSha256));
        Assert.Equal("s3cret!", Store.GetSmtpPassword());
        Assert.Equal(0L, CountSql("SELECT count(*) FROM billing_profile WHERE smtp_user = 's3cret!' OR smtp_server = 's3cret!'"));

        // A later change that names none of them keeps them.
        Assert.Equal("smtp.beispiel.example", Store.SaveProfile(new ProfileChange(TaxId: "DE123456789")).SmtpServer);
        var cleared = Store.SaveProfile(new ProfileChange { Cleared = new HashSet<string> { "SmtpCredential", "SmtpUseTls" } });
        Assert.Equal(("smtp.beispiel.example", (int?)465, (bool?)null, (string?)null, false), (cleared.SmtpServer, cleared.SmtpPort, cleared.SmtpUseTls, cleared.SmtpUserName, cleared.SmtpPasswordSet));
        Assert.Null(Store.GetSmtpPassword());

        var settings = SmtpRules.Resolve(cleared, NoEnvironment, Store.GetSmtpPassword);
        Assert.Equal(("smtp.beispiel.example", 465, (bool?)null, (SmtpCredential?)null), (settings.Host, settings.Port, settings.UseTls, settings.Credential));
    }

    [SkippableFact]
    public void Deliveries_RecordedByAnotherTool_CountAsSent()
    {
        var invoice = FrenchInvoice();
        // An operator's plain SQL, as nself's tools would record a mail they sent themselves.
        ExecuteSql($"""
            INSERT INTO billing_invoice_deliveries (invoice_id, customer_id, status, recipients, server, message_id, started_at, sent_at)
            VALUES ('{invoice.InvoiceId}', 'cus_fr', 'sent', 'ops@exemple.example', 'relay:25', 'x@y', {StoredTime(Clock.Utc(2026, 12, 3))}, {StoredTime(Clock.Utc(2026, 12, 3))})
            """);
        var stored = Store.GetInvoice(invoice.InvoiceId)!;
        Assert.Equal(Clock.Utc(2026, 12, 3), stored.SentAt);
        Assert.Equal(["ops@exemple.example"], stored.SentTo);
        var refused = Assert.Throws<UsageException>(() => Store.ClaimDelivery(new DeliveryClaim(invoice.InvoiceId, ["a@b.example"], [], "h:25", "m@h", Time.GetUtcNow()), force: false));
        Assert.Equal(ErrorIds.InvoiceAlreadySent, refused.ErrorId);
    }
}
