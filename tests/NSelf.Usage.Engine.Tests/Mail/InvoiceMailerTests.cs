using System.Diagnostics;
using System.Security.Cryptography;
using MimeKit;
using NSelf.Usage.Engine.Exports;
using Xunit.Abstractions;

namespace NSelf.Usage.Engine.Tests.Mail;

public sealed class InvoiceMailerTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset IssuedAt = new(2025, 3, 31, 17, 45, 12, TimeSpan.FromHours(2));

    private static InvoiceMail Invoice(byte[]? pdf = null) => new()
    {
        InvoiceNumber = "ACME-000042",
        SellerName = "ACME Hosting",
        SellerAddress = "billing@acme.example",
        To = ["Ann Buyer <ann@buyer.example>", "ap@buyer.example"],
        Cc = ["Carl Controller <carl@buyer.example>"],
        Subject = "Invoice ACME-000042 for March 2025",
        HtmlBody = "<html><body><h1>Invoice ACME-000042</h1><p>Amount due: <b>1,234.50 EUR</b></p></body></html>",
        TextBody = "Invoice ACME-000042\r\nAmount due: 1,234.50 EUR\r\n",
        Pdf = pdf ?? FakePdf(20_000),
        Date = IssuedAt,
    };

    /// <summary>The message as an .eml file's content (CRLF line ends, as mail readers expect).</summary>
    private static void WriteEml(InvoiceMail mail, Stream destination)
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        InvoiceMailer.BuildMessage(mail).WriteTo(format, destination);
    }

    private static byte[] FakePdf(int size)
    {
        var bytes = RandomNumberGenerator.GetBytes(size); // every byte value, so encoding damage shows
        "%PDF-1.7\n"u8.CopyTo(bytes);
        return bytes;
    }

    private static (string Name, string Address)[] Mailboxes(InternetAddressList list) =>
        [.. list.Mailboxes.Select(m => (m.Name ?? "", m.Address))];

    private static SmtpSettings Settings(LocalSmtpServer server) =>
        new(server.Host, server.Port) { UseTls = false, Timeout = TimeSpan.FromSeconds(5) };

    private async Task<InvoiceMailException> Fails(Task send)
    {
        var failure = await Assert.ThrowsAsync<InvoiceMailException>(() => send);
        output.WriteLine($"{failure.Kind}: {failure.Message} [{failure.InnerException?.GetType().FullName}]");
        return failure;
    }

    [Fact]
    public async Task Invoice_arrives_with_its_addresses_text_and_identical_pdf()
    {
        await using var server = await LocalSmtpServer.StartAsync();
        var mail = Invoice();

        var receipt = await new InvoiceMailer(Settings(server)).SendAsync(mail);

        var received = Assert.Single(server.Received);
        var message = received.Message;
        Assert.Equal("billing@acme.example", received.EnvelopeFrom);
        Assert.Equal(["ann@buyer.example", "ap@buyer.example", "carl@buyer.example"], received.EnvelopeTo);
        Assert.Equal(["ann@buyer.example", "ap@buyer.example", "carl@buyer.example"], receipt.AcceptedRecipients);
        Assert.Equal([("ACME Hosting", "billing@acme.example")], Mailboxes(message.From));
        Assert.Equal([("Ann Buyer", "ann@buyer.example"), ("", "ap@buyer.example")], Mailboxes(message.To));
        Assert.Equal([("Carl Controller", "carl@buyer.example")], Mailboxes(message.Cc));
        Assert.Equal(mail.Subject, message.Subject);
        Assert.Equal(IssuedAt, message.Date);
        Assert.Equal(receipt.MessageId, message.MessageId);
        Assert.Equal($"ACME-000042.{IssuedAt.UtcTicks}@acme.example", receipt.MessageId);
        // Text travels with CRLF line ends and is read back with the platform's.
        Assert.Equal(mail.HtmlBody.ReplaceLineEndings(), message.HtmlBody?.ReplaceLineEndings());
        Assert.Equal(mail.TextBody.ReplaceLineEndings(), message.TextBody?.ReplaceLineEndings());
        Assert.Equal($"2.0.0 Ok: queued as {received.QueueId}", receipt.ServerResponse);

        var attachment = Assert.IsType<MimePart>(Assert.Single(message.Attachments));
        Assert.Equal("ACME-000042.pdf", attachment.FileName);
        Assert.Equal("application/pdf", attachment.ContentType.MimeType);
        using var content = new MemoryStream();
        await Assert.IsType<MimeContent>(attachment.Content).DecodeToAsync(content);
        Assert.Equal(mail.Pdf, content.ToArray());
    }

    [Fact]
    public async Task Accented_subject_and_names_survive()
    {
        await using var server = await LocalSmtpServer.StartAsync();
        var mail = Invoice() with
        {
            SellerName = "Société Générale d'Hébergement €",
            To = ["Jürgen Müller <juergen@buyer.example>"],
            Cc = ["Zoë Brontë <zoe@buyer.example>"],
            Subject = "Facture n° ACME-000042 – 1 234,50 € dûe für März",
            HtmlBody = "<p>Montant dû : 1 234,50 € — Grüße</p>",
            TextBody = "Montant dû : 1 234,50 € — Grüße",
        };

        await new InvoiceMailer(Settings(server)).SendAsync(mail);

        var received = Assert.Single(server.Received);
        Assert.True(received.Raw.All(b => b < 128), "the message on the wire is 7-bit clean");
        var message = received.Message;
        Assert.Equal(mail.Subject, message.Subject);
        Assert.Equal(mail.SellerName, Assert.IsType<MailboxAddress>(Assert.Single(message.From)).Name);
        Assert.Equal("Jürgen Müller", Assert.IsType<MailboxAddress>(Assert.Single(message.To)).Name);
        Assert.Equal("Zoë Brontë", Assert.IsType<MailboxAddress>(Assert.Single(message.Cc)).Name);
        // Text travels with CRLF line ends and is read back with the platform's.
        Assert.Equal(mail.HtmlBody.ReplaceLineEndings(), message.HtmlBody?.ReplaceLineEndings());
        Assert.Equal(mail.TextBody.ReplaceLineEndings(), message.TextBody?.ReplaceLineEndings());
    }

    [Fact]
    public async Task A_login_the_server_accepts_sends()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Login = ("billing", "s3cret-€") });
        var settings = Settings(server) with { Credential = new SmtpCredential("billing", "s3cret-€") };

        await new InvoiceMailer(settings).SendAsync(Invoice());

        Assert.Equal("billing", Assert.Single(server.Received).AuthenticatedUser);
    }

    [Fact]
    public async Task A_wrong_password_is_AuthenticationFailed()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Login = ("billing", "s3cret") });
        var settings = Settings(server) with { Credential = new SmtpCredential("billing", "guess") };

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.AuthenticationFailed, failure.Kind);
        Assert.Contains($"127.0.0.1:{server.Port}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("'billing'", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("guess", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task No_login_where_one_is_required_is_AuthenticationFailed()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Login = ("billing", "s3cret") });

        var failure = await Fails(new InvoiceMailer(Settings(server)).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.AuthenticationFailed, failure.Kind);
        Assert.Contains("requires a login", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task A_login_the_server_does_not_offer_is_AuthenticationFailed()
    {
        await using var server = await LocalSmtpServer.StartAsync();
        var settings = Settings(server) with { Credential = new SmtpCredential("billing", "s3cret") };

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.AuthenticationFailed, failure.Kind);
        Assert.Contains("offers no login", failure.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // MailKit sends MAIL and every RCPT at once, then reads the answers
    public async Task A_refused_recipient_is_named_and_nothing_is_sent_to_the_others(bool pipelining)
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { RefusedRecipients = ["ap@buyer.example"], HiddenExtensions = pipelining ? [] : ["PIPELINING"] });

        var failure = await Fails(new InvoiceMailer(Settings(server)).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.RecipientRefused, failure.Kind);
        Assert.Equal("ap@buyer.example", failure.Recipient);
        Assert.Equal(550, failure.StatusCode);
        Assert.Contains("ap@buyer.example", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{server.Port}", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task A_message_the_server_refuses_is_Rejected_with_its_code_and_text()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { RefuseMessages = true });

        var failure = await Fails(new InvoiceMailer(Settings(server)).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.Rejected, failure.Kind);
        Assert.Equal(554, failure.StatusCode);
        Assert.Contains("Invoices are not welcome here", failure.Message, StringComparison.Ordinal);
        Assert.False(failure.DeliveryUncertain);
    }

    [Fact]
    public void A_malformed_address_is_an_argument_error_before_any_connection()
    {
        var mailer = new InvoiceMailer(new SmtpSettings("127.0.0.1", 1));

        var failure = Assert.Throws<ArgumentException>(() => mailer.SendAsync(Invoice() with { Cc = ["carl at buyer"] }).GetAwaiter().GetResult());

        Assert.Contains("carl at buyer", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_port_where_nothing_listens_is_Unreachable_at_once()
    {
        int port;
        await using (var server = await LocalSmtpServer.StartAsync())
            port = server.Port;
        var clock = Stopwatch.StartNew();

        var failure = await Fails(new InvoiceMailer(new SmtpSettings("127.0.0.1", port)).SendAsync(Invoice()));

        output.WriteLine($"refused connection reported after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(InvoiceMailFailure.Unreachable, failure.Kind);
        Assert.Contains($"127.0.0.1:{port}", failure.Message, StringComparison.Ordinal);
        Assert.Contains("refused", failure.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_host_that_never_answers_is_Unreachable_after_the_timeout()
    {
        using var port = new UnansweredPort();
        var settings = new SmtpSettings(port.Host, port.Port) { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        output.WriteLine($"unanswered connect reported after {clock.ElapsedMilliseconds} ms (timeout 1 s)");
        Assert.Equal(InvoiceMailFailure.Unreachable, failure.Kind);
        Assert.Contains("no answer within 1 s", failure.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(1.5));
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_is_Unreachable()
    {
        var settings = new SmtpSettings("no-such-relay.invalid", 587) { Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        output.WriteLine($"unresolvable name reported after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(InvoiceMailFailure.Unreachable, failure.Kind);
        Assert.Contains("no-such-relay.invalid:587", failure.Message, StringComparison.Ordinal);
        Assert.Contains("could not be resolved", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_while_connecting_is_Cancelled_not_Unreachable()
    {
        using var port = new UnansweredPort();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();

        var failure = await Fails(new InvoiceMailer(new SmtpSettings(port.Host, port.Port)).SendAsync(Invoice(), cancel.Token));

        output.WriteLine($"cancel while connecting honoured after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(InvoiceMailFailure.Cancelled, failure.Kind);
        Assert.IsAssignableFrom<OperationCanceledException>(failure.InnerException);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task An_already_cancelled_send_is_Cancelled_and_sends_nothing()
    {
        await using var server = await LocalSmtpServer.StartAsync();

        var failure = await Fails(new InvoiceMailer(Settings(server)).SendAsync(Invoice(), new CancellationToken(canceled: true)));

        Assert.Equal(InvoiceMailFailure.Cancelled, failure.Kind);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task Cancelling_before_the_recipients_are_answered_sends_nothing()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Hold = SmtpHold.RecipientReply });
        using var cancel = new CancellationTokenSource();
        var send = new InvoiceMailer(Settings(server)).SendAsync(Invoice(), cancel.Token);
        await server.Held.WaitAsync(TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();

        await cancel.CancelAsync();
        var failure = await Fails(send);

        output.WriteLine($"cancel at RCPT honoured after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(InvoiceMailFailure.Cancelled, failure.Kind);
        Assert.False(failure.DeliveryUncertain);
        Assert.Contains("nothing was sent", failure.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        server.Release();
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task Cancelling_after_the_message_was_transmitted_says_it_may_have_been_delivered()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Hold = SmtpHold.DataReply });
        using var cancel = new CancellationTokenSource();
        var send = new InvoiceMailer(Settings(server)).SendAsync(Invoice(), cancel.Token);
        await server.Held.WaitAsync(TimeSpan.FromSeconds(5));
        var clock = Stopwatch.StartNew();

        await cancel.CancelAsync();
        var failure = await Fails(send);

        output.WriteLine($"cancel awaiting the DATA reply honoured after {clock.ElapsedMilliseconds} ms");
        Assert.Equal(InvoiceMailFailure.Cancelled, failure.Kind);
        Assert.True(failure.DeliveryUncertain);
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(1));
        Assert.Single(server.Received); // the server had it: this is why the Message-ID is deterministic
    }

    [Fact]
    public async Task A_server_that_stops_answering_after_the_data_is_ConnectionLost_and_uncertain()
    {
        await using var server = await LocalSmtpServer.StartAsync(new() { Hold = SmtpHold.DataReply });
        var settings = Settings(server) with { Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        output.WriteLine($"stalled DATA reply reported after {clock.ElapsedMilliseconds} ms (timeout 1 s)");
        Assert.Equal(InvoiceMailFailure.ConnectionLost, failure.Kind);
        Assert.True(failure.DeliveryUncertain);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task Starttls_with_a_pinned_self_signed_certificate_sends_encrypted()
    {
        using var certificate = TestCertificate.Create(DateTimeOffset.UtcNow);
        await using var server = await LocalSmtpServer.StartAsync(new() { Certificate = certificate });
        var settings = Settings(server) with
        {
            UseTls = true,
            CertificateSha256 = string.Join(':', Convert.ToHexString(certificate.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2).Select(c => new string(c))),
        };

        await new InvoiceMailer(settings).SendAsync(Invoice());

        Assert.True(Assert.Single(server.Received).Secure);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(null, null)]
    [InlineData(true, "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF")]
    public async Task An_untrusted_certificate_is_TlsFailed(bool? useTls, string? otherPin)
    {
        using var certificate = TestCertificate.Create(DateTimeOffset.UtcNow);
        await using var server = await LocalSmtpServer.StartAsync(new() { Certificate = certificate });
        var settings = Settings(server) with { UseTls = useTls, CertificateSha256 = otherPin };

        var failure = await Fails(new InvoiceMailer(settings).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.TlsFailed, failure.Kind);
        Assert.Contains($"127.0.0.1:{server.Port}", failure.Message, StringComparison.Ordinal);
        Assert.Contains(certificate.GetCertHashString(HashAlgorithmName.SHA256), failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task Required_tls_from_a_server_without_starttls_is_TlsFailed()
    {
        await using var server = await LocalSmtpServer.StartAsync();

        var failure = await Fails(new InvoiceMailer(Settings(server) with { UseTls = true }).SendAsync(Invoice()));

        Assert.Equal(InvoiceMailFailure.TlsFailed, failure.Kind);
        Assert.Contains("STARTTLS", failure.Message, StringComparison.Ordinal);
        Assert.Empty(server.Received);
    }

    [Fact]
    public async Task Tls_when_available_falls_back_to_plain_text()
    {
        await using var server = await LocalSmtpServer.StartAsync();

        await new InvoiceMailer(Settings(server) with { UseTls = null }).SendAsync(Invoice());

        Assert.False(Assert.Single(server.Received).Secure);
    }

    [Fact]
    public void The_message_id_is_the_same_for_a_retry_and_new_for_a_new_sending()
    {
        var first = InvoiceMailer.BuildMessage(Invoice());
        var retry = InvoiceMailer.BuildMessage(Invoice());
        var later = InvoiceMailer.BuildMessage(Invoice() with { Date = IssuedAt.AddSeconds(1) });
        var odd = InvoiceMailer.BuildMessage(Invoice() with { InvoiceNumber = "2025/03 #7" });

        Assert.Equal(first.MessageId, retry.MessageId);
        Assert.NotEqual(first.MessageId, later.MessageId);
        Assert.StartsWith("2025_03__7.", odd.MessageId, StringComparison.Ordinal);
        Assert.Equal("2025-03 #7.pdf", Assert.IsType<MimePart>(odd.Attachments.Single()).FileName);
    }

    [Fact]
    public async Task The_eml_reads_back_as_the_same_message()
    {
        var mail = Invoice();
        using var eml = new MemoryStream();

        WriteEml(mail, eml);

        var text = System.Text.Encoding.ASCII.GetString(eml.ToArray());
        Assert.DoesNotContain("\n", text.Replace("\r\n", "", StringComparison.Ordinal), StringComparison.Ordinal);
        eml.Position = 0;
        var message = await MimeMessage.LoadAsync(eml);
        Assert.Equal(InvoiceMailer.BuildMessage(mail).MessageId, message.MessageId);
        Assert.Equal(InvoiceMailer.MessageIdOf(mail), message.MessageId);
        using var content = new MemoryStream();
        await Assert.IsType<MimeContent>(Assert.IsType<MimePart>(message.Attachments.Single()).Content).DecodeToAsync(content);
        Assert.Equal(mail.Pdf, content.ToArray());
    }

    [Fact]
    public async Task Sending_on_loopback_takes_milliseconds()
    {
        await using var server = await LocalSmtpServer.StartAsync();
        var mailer = new InvoiceMailer(Settings(server));
        var mail = Invoice(FakePdf(100_000));
        await mailer.SendAsync(mail); // warm-up: JIT, TLS-free first connection
        const int count = 20;
        var times = new List<TimeSpan>(count);

        for (var i = 0; i < count; i++)
        {
            var clock = Stopwatch.StartNew();
            await mailer.SendAsync(mail);
            times.Add(clock.Elapsed);
        }

        times.Sort();
        var median = times[count / 2];
        output.WriteLine($"{count} messages with a 100 kB PDF (connect, EHLO, MAIL, RCPT x3, DATA, QUIT): median {median.TotalMilliseconds:F1} ms, mean {times.Average(t => t.TotalMilliseconds):F1} ms, max {times[^1].TotalMilliseconds:F1} ms");
        Assert.Equal(count + 1, server.Received.Count);
        // With Nagle on, the final dot waits for a delayed ACK: about 45 ms a message here.
        Assert.InRange(median, TimeSpan.Zero, TimeSpan.FromMilliseconds(25));
    }

    [Fact]
    public async Task Sending_over_tls_with_a_login_loads_no_signing_or_encryption_library()
    {
        // Evidence for shipping without BouncyCastle (5.2 MB of MailKit's 8.5 MB): MimeKit needs
        // it, and the PKCS packages, only for S/MIME, OpenPGP and DKIM/ARC. Holds while no other
        // test in this process loads them.
        using var certificate = TestCertificate.Create(DateTimeOffset.UtcNow);
        await using var server = await LocalSmtpServer.StartAsync(new() { Certificate = certificate, Login = ("billing", "s3cret") });
        var settings = Settings(server) with
        {
            UseTls = true,
            Credential = new SmtpCredential("billing", "s3cret"),
            CertificateSha256 = certificate.GetCertHashString(HashAlgorithmName.SHA256),
        };

        await new InvoiceMailer(settings).SendAsync(Invoice());
        WriteEml(Invoice(), Stream.Null);

        var loaded = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).ToHashSet();
        Assert.Contains("MailKit", loaded);
        Assert.DoesNotContain("BouncyCastle.Cryptography", loaded);
        Assert.DoesNotContain("System.Security.Cryptography.Pkcs", loaded);
        Assert.DoesNotContain("Microsoft.Bcl.Cryptography", loaded);
    }
}
