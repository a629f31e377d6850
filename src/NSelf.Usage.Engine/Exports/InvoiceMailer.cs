using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Sends one invoice e-mail through an SMTP server and says what was sent, or fails with an
/// <see cref="InvoiceMailException"/> whose kind tells the caller which error id to report.
/// </summary>
public sealed class InvoiceMailer(SmtpSettings settings)
{
    public SmtpSettings Settings { get; } = settings;

    /// <summary>The message that <see cref="SendAsync"/> would send, without sending it.</summary>
    public static MimeMessage BuildMessage(InvoiceMail mail)
    {
        ArgumentNullException.ThrowIfNull(mail);
        if (mail.To.Count == 0)
            throw new ArgumentException("An invoice e-mail needs at least one recipient.", nameof(mail));

        var from = Mailbox(mail.SellerAddress, nameof(InvoiceMail.SellerAddress));
        from.Name = mail.SellerName;
        var message = new MimeMessage { Subject = mail.Subject, Date = mail.Date };
        message.From.Add(from);
        message.To.AddRange(mail.To.Select(a => Mailbox(a, nameof(InvoiceMail.To))));
        message.Cc.AddRange(mail.Cc.Select(a => Mailbox(a, nameof(InvoiceMail.Cc))));
        message.MessageId = MessageId(mail.InvoiceNumber, mail.Date, from);

        var body = new BodyBuilder { HtmlBody = mail.HtmlBody, TextBody = mail.TextBody };
        if (mail.Logo is { } logo)
        {
            var image = body.LinkedResources.Add("logo", logo.Image, ContentType.Parse(logo.MediaType));
            image.ContentId = InvoiceMail.LogoContentId;
        }
        body.Attachments.Add(FileName(mail.InvoiceNumber, ".pdf"), mail.Pdf, new ContentType("application", "pdf"));
        message.Body = body.ToMessageBody();

        // Fix the transfer encodings now (7-bit safe, the strictest a server may ask for), so the
        // message written anywhere (a saved .eml too) carries the same body bytes as the one sent.
        message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    /// <summary>The Message-ID <see cref="BuildMessage"/> gives the mail, without building its body.</summary>
    public static string MessageIdOf(InvoiceMail mail) =>
        MessageId(mail.InvoiceNumber, mail.Date, Mailbox(mail.SellerAddress, nameof(InvoiceMail.SellerAddress)));

    public Task<InvoiceMailReceipt> SendAsync(InvoiceMail mail, CancellationToken cancellationToken = default) =>
        SendMessageAsync(BuildMessage(mail), "the invoice e-mail", cancellationToken);

    /// <summary>Hands a built message to the server; <paramref name="what"/> names it in failures ("the alert e-mail").</summary>
    public async Task<InvoiceMailReceipt> SendMessageAsync(MimeMessage message, string what, CancellationToken cancellationToken = default)
    {
        var stage = Stage.Connecting;
        var progress = new TransmissionProgress();
        using var client = new RecordingSmtpClient { Timeout = TimeoutMilliseconds(Settings.Timeout) };
        if (Settings.CertificateSha256 is { } pin)
            client.ServerCertificateValidationCallback = AcceptPinned(pin);
        try
        {
            // MailKit's Timeout bounds each read; this bounds the whole connect (lookup, TCP,
            // greeting, EHLO, STARTTLS), which would otherwise add up to several timeouts.
            using (var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connectTimeout.CancelAfter(Settings.Timeout);
                var socket = await ConnectSocket(connectTimeout.Token).ConfigureAwait(false);
                await client.ConnectAsync(socket, Settings.Host, Settings.Port, SocketOptions(), connectTimeout.Token).ConfigureAwait(false);
            }
            if (Settings.Credential is { } credential)
            {
                stage = Stage.Authenticating;
                await client.AuthenticateAsync(credential.UserName, credential.Password, cancellationToken).ConfigureAwait(false);
            }
            stage = Stage.Sending;
            var response = await client.SendAsync(message, cancellationToken, progress).ConfigureAwait(false);
            stage = Stage.Quitting;
            await Quit(client, cancellationToken).ConfigureAwait(false);
            return new InvoiceMailReceipt(message.MessageId!, client.Accepted, response); // set by BuildMessage
        }
        catch (Exception e) when (e is not InvoiceMailException && Classify(e, stage, progress.Complete, what, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// <c>invoiceNumber.dateTicks@sellerDomain</c>: the same invoice sent with the same date gets
    /// the same id, so a retry is recognisable as a duplicate; a new sending (new date) is not.
    /// </summary>
    internal static string MessageId(string invoiceNumber, DateTimeOffset date, MailboxAddress from)
    {
        var local = new StringBuilder(invoiceNumber.Length);
        foreach (var c in invoiceNumber)
            local.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' ? c : '_');
        var domain = from.Domain.Length == 0 ? "localhost" : new IdnMapping().GetAscii(from.Domain);
        return string.Create(CultureInfo.InvariantCulture, $"{local}.{date.UtcTicks}@{domain}");
    }

    /// <summary>A name every mail reader saves as given: readers strip what looks like a folder.</summary>
    private static string FileName(string stem, string extension)
    {
        var name = new StringBuilder(stem.Length + extension.Length);
        foreach (var c in stem)
            name.Append(c is '/' or '\\' or ':' or '*' or '?' or '"' or '<' or '>' or '|' || char.IsControl(c) ? '-' : c);
        return name.Append(extension).ToString();
    }

    private static MailboxAddress Mailbox(string address, string field) =>
        MailboxAddress.TryParse(address, out var mailbox) && mailbox.Address.Contains('@', StringComparison.Ordinal)
            ? mailbox
            : throw new ArgumentException($"{field}: '{address}' is not an e-mail address.", field);

    /// <summary>
    /// The TCP connection, made here rather than by MailKit to turn Nagle off: MailKit leaves it
    /// on, and then the message's last small write (the final dot) can wait for the server's
    /// delayed ACK (about 45 ms, on one loopback send in five here). The client owns the socket.
    /// </summary>
    private async Task<Socket> ConnectSocket(CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(Settings.Host, Settings.Port, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private SecureSocketOptions SocketOptions() => Settings.UseTls switch
    {
        true when Settings.Port == 465 => SecureSocketOptions.SslOnConnect,
        true => SecureSocketOptions.StartTls,
        false => SecureSocketOptions.None,
        null => SecureSocketOptions.StartTlsWhenAvailable,
    };

    private static int TimeoutMilliseconds(TimeSpan timeout) =>
        timeout > TimeSpan.Zero && timeout.TotalMilliseconds < int.MaxValue
            ? (int)timeout.TotalMilliseconds
            : throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "The SMTP timeout must be positive.");

    private static RemoteCertificateValidationCallback AcceptPinned(string pin)
    {
        var expected = pin.Replace(":", "", StringComparison.Ordinal).Replace(" ", "", StringComparison.Ordinal);
        return (_, certificate, _, errors) =>
            errors == SslPolicyErrors.None
            || (certificate is not null
                && string.Equals(certificate.GetCertHashString(HashAlgorithmName.SHA256), expected, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>QUIT after the server took the message: a failure here changes nothing that was sent.</summary>
    private static async Task Quit(SmtpClient client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DisconnectAsync(quit: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SmtpProtocolException or SmtpCommandException or TimeoutException)
        {
        }
    }

    private InvoiceMailException? Classify(Exception e, Stage stage, bool transmitted, string what, CancellationToken cancellationToken)
    {
        var endpoint = Settings.Endpoint;
        var uncertain = stage == Stage.Sending && transmitted;

        // A stop wins over whatever the interrupted I/O threw on the way out.
        if (cancellationToken.IsCancellationRequested)
            return new(InvoiceMailFailure.Cancelled, endpoint, uncertain
                ? $"Sending {what} to {endpoint} was cancelled after the message had been transmitted; the server may have delivered it."
                : $"Sending {what} to {endpoint} was cancelled; nothing was sent.", e)
            { DeliveryUncertain = uncertain };

        switch (e)
        {
            case SslHandshakeException handshake:
                return new(InvoiceMailFailure.TlsFailed, endpoint, $"The TLS handshake with the SMTP server {endpoint} failed. {Handshake(handshake)}", e);
            case AuthenticationException:
                return new(InvoiceMailFailure.AuthenticationFailed, endpoint,
                    $"The SMTP server {endpoint} refused the login of '{Settings.Credential?.UserName}': {e.Message}", e);
            case NotSupportedException when stage == Stage.Connecting && Settings.UseTls == true:
                // ConnectAsync's word for StartTls without STARTTLS in the server's EHLO.
                return new(InvoiceMailFailure.TlsFailed, endpoint, $"The SMTP server {endpoint} does not offer STARTTLS, and TLS was required.", e);
            case NotSupportedException when stage == Stage.Authenticating:
                return new(InvoiceMailFailure.AuthenticationFailed, endpoint,
                    Settings.UseTls == false
                        ? $"The SMTP server {endpoint} offers no login over a plain connection; servers often offer it only over TLS."
                        : $"The SMTP server {endpoint} offers no login; send without a credential.", e);
            case SmtpCommandException { ErrorCode: SmtpErrorCode.RecipientNotAccepted } refused:
                return new(InvoiceMailFailure.RecipientRefused, endpoint,
                    $"The SMTP server {endpoint} refused the recipient {refused.Mailbox?.Address}: {(int)refused.StatusCode} {refused.Message.TrimEnd('.', ' ')}. Nothing was sent.", e)
                { Recipient = refused.Mailbox?.Address, StatusCode = (int)refused.StatusCode };
            case ServiceNotAuthenticatedException:
                // MailKit's answer to 530 at MAIL FROM.
                return new(InvoiceMailFailure.AuthenticationFailed, endpoint,
                    $"The SMTP server {endpoint} requires a login, and no credential was given: {e.Message}", e);
            case SmtpCommandException command:
                return new(InvoiceMailFailure.Rejected, endpoint,
                    $"The SMTP server {endpoint} {(stage == Stage.Connecting ? "refused the session" : "rejected " + what)}: {(int)command.StatusCode} {command.Message}", e)
                { StatusCode = (int)command.StatusCode };
        }

        if (stage == Stage.Connecting && e is SocketException or OperationCanceledException or TimeoutException or IOException or SmtpProtocolException)
            return new(InvoiceMailFailure.Unreachable, endpoint, $"Could not reach the SMTP server {endpoint}: {Unreachable(e)}", e);

        if (e is IOException or SmtpProtocolException or TimeoutException or OperationCanceledException or SocketException)
            return new(InvoiceMailFailure.ConnectionLost, endpoint, uncertain
                ? $"The connection to the SMTP server {endpoint} was lost after the message had been transmitted ({Lost(e)}); the server may have delivered it."
                : $"The connection to the SMTP server {endpoint} was lost ({Lost(e)}); nothing was sent.", e)
            { DeliveryUncertain = uncertain };

        return null; // a bug, not a mail failure: let it surface as it is
    }

    private string Unreachable(Exception e) => e switch
    {
        SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData } =>
            $"the name {Settings.Host} could not be resolved.",
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "the connection was refused (nothing listens on that port).",
        SocketException { SocketErrorCode: SocketError.NetworkUnreachable or SocketError.HostUnreachable } => "no route to the host.",
        OperationCanceledException or TimeoutException or SocketException { SocketErrorCode: SocketError.TimedOut } =>
            $"no answer within {Seconds(Settings.Timeout)} s.",
        SmtpProtocolException or IOException => $"it did not answer as an SMTP server ({Detail(e)}).",
        _ => Detail(e),
    };

    private string Lost(Exception e) => e is TimeoutException or OperationCanceledException
        ? $"no answer within {Seconds(Settings.Timeout)} s"
        : Detail(e);

    /// <summary>MailKit's explanation on one line, and the fingerprint that would pin this certificate.</summary>
    private static string Handshake(SslHandshakeException e)
    {
        var text = string.Join(' ', e.Message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.TrimStart('•', ' ')).Select(line => line.EndsWith('.') || line.EndsWith(':') ? line : line + "."));
        return e.ServerCertificate is { } certificate
            ? $"{text} Its SHA-256 fingerprint is {certificate.GetCertHashString(HashAlgorithmName.SHA256)}; if it is your server's own certificate, give that as CertificateSha256 to accept it."
            : text;
    }

    private static string Seconds(TimeSpan timeout) => timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);

    private static string Detail(Exception e) =>
        e.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && inner.Message != e.Message
            ? $"{e.Message.TrimEnd()} ({inner.Message.TrimEnd()})"
            : e.Message.TrimEnd();

    private enum Stage { Connecting, Authenticating, Sending, Quitting }

    /// <summary>Remembers the recipients the server accepted (a refused one throws, the default).</summary>
    private sealed class RecordingSmtpClient : SmtpClient
    {
        private readonly List<string> _accepted = [];

        public IReadOnlyList<string> Accepted => _accepted;

        protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            _accepted.Add(mailbox.Address);
            base.OnRecipientAccepted(message, mailbox, response);
        }
    }

    /// <summary>Notes when the whole message has been written: from then on the server may deliver it.</summary>
    private sealed class TransmissionProgress : ITransferProgress
    {
        public bool Complete { get; private set; }

        public void Report(long bytesTransferred, long totalSize) => Complete = bytesTransferred >= totalSize;

        public void Report(long bytesTransferred) { }
    }
}
