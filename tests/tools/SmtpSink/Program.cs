// SmtpSink: a real SMTP server (the SmtpServer package) on a free loopback port, for the Pester tests
// of Send-BillingInvoice. It writes every message it accepts to a folder, as the raw bytes (<n>.eml),
// its attachments (<n>-<file name>) and a summary (<n>.json, written last and renamed into place, so
// a reader never sees half of one). It can require one login, refuse recipients or refuse messages.
//
//   SmtpSink --dir <folder> [--login user:password] [--refuse-recipient <address>]... [--refuse-messages]
//
// Once it listens it prints one line, 'PORT <n>', and runs until its standard input closes (or it is
// killed). tests/pester/TestSupport.psm1 starts it (Start-SmtpSink) and reads the folder (Get-SmtpSinkMessage).
using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Encodings.Web;
using System.Text.Json;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using ServiceProvider = SmtpServer.ComponentModel.ServiceProvider;

namespace NSelf.Usage.Tests.SmtpSink;

internal static class Program
{
    private const string Usage = "usage: SmtpSink --dir <folder> [--login user:password] [--refuse-recipient <address>]... [--refuse-messages]";

    public static async Task<int> Main(string[] args)
    {
        SinkOptions options;
        try
        {
            options = SinkOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"SmtpSink: {e.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        // With the thread pool at its minimum (2 on a 2-core CI machine) one of the first SmtpServer
        // 11.1.0 sessions of a run stalls 0.5-1 s until the pool grows. More threads up front.
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), completions);

        Directory.CreateDirectory(options.Directory);

        // Port 0: the OS picks a free port, read back once the listener is bound, so parallel runs
        // never race for a port found free a moment earlier.
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => listening.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);

        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new FolderStore(options));
        services.Add(new RecipientFilter(options.RefusedRecipients));
        services.Add(new WithoutPipelining());
        if (options.Login is { } login)
            services.Add(new DelegatingUserAuthenticator((user, password) =>
                string.Equals(user, login.UserName, StringComparison.Ordinal) && string.Equals(password, login.Password, StringComparison.Ordinal)));

        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint
                .Endpoint(new IPEndPoint(IPAddress.Loopback, 0))
                .AuthenticationRequired(options.Login is not null)
                // Only with a login: the default authenticator accepts anyone, and AUTH would be offered.
                .AllowUnsecureAuthentication(options.Login is not null))
            .Build();

        var server = new SmtpServer.SmtpServer(serverOptions, services);
        server.SessionFaulted += (_, e) => Console.Error.WriteLine($"SmtpSink: session faulted: {e.Exception.GetType().Name}: {e.Exception.Message}");

        using var stop = new CancellationTokenSource();
        var running = server.StartAsync(stop.Token);
        var started = await Task.WhenAny(listening.Task, running).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (started != listening.Task)
        {
            await running.ConfigureAwait(false); // surfaces why it did not start
            await Console.Error.WriteLineAsync("SmtpSink: the server stopped before it listened.").ConfigureAwait(false);
            return 1;
        }

        var port = await listening.Task.ConfigureAwait(false);
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"PORT {port}")).ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);

        // Runs until standard input closes (the caller closes it to stop the sink) or the server fails.
        var stdinClosed = Task.Factory.StartNew(DrainStandardInput, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        await Task.WhenAny(stdinClosed, running).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await running.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (TimeoutException)
        {
        }
        return 0;
    }

    private static void DrainStandardInput()
    {
        using var input = Console.OpenStandardInput();
        var buffer = new byte[256];
        while (input.Read(buffer, 0, buffer.Length) > 0)
        {
        }
    }
}

/// <summary>What the command line asked for.</summary>
internal sealed record SinkOptions(string Directory, (string UserName, string Password)? Login, IReadOnlySet<string> RefusedRecipients, bool RefuseMessages)
{
    public static SinkOptions Parse(string[] args)
    {
        string? directory = null;
        (string, string)? login = null;
        var refused = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var refuseMessages = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--dir":
                    directory = Path.GetFullPath(Value());
                    break;
                case "--login":
                    var text = Value();
                    var colon = text.IndexOf(':', StringComparison.Ordinal);
                    if (colon <= 0)
                        throw new ArgumentException("--login takes user:password.");
                    login = (text[..colon], text[(colon + 1)..]);
                    break;
                case "--refuse-recipient":
                    refused.Add(Value());
                    break;
                case "--refuse-messages":
                    refuseMessages = true;
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if (string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException("--dir is required.");
        return new SinkOptions(directory, login, refused, refuseMessages);
    }
}

/// <summary>A message's summary, as <c>n.json</c>.</summary>
internal sealed record ReceivedMessage(
    int Number,
    string EnvelopeFrom,
    IReadOnlyList<string> EnvelopeTo,
    string? AuthenticatedUser,
    string? Subject,
    string? From,
    string? FromName,
    IReadOnlyList<string> To,
    IReadOnlyList<string> Cc,
    string? MessageId,
    string? Date,
    bool HasHtml,
    string? HtmlBody,
    string? TextBody,
    IReadOnlyList<ReceivedAttachment> Attachments,
    string Eml);

internal sealed record ReceivedAttachment(string FileName, string ContentType, string Path);

/// <summary>Writes each accepted message to the folder; with --refuse-messages answers 554 after DATA instead.</summary>
internal sealed class FolderStore : MessageStore
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly SinkOptions _options;
    private int _last;

    public FolderStore(SinkOptions options)
    {
        _options = options;
        // A folder used before keeps its messages: numbering goes on after the last one.
        _last = Directory.EnumerateFiles(options.Directory, "*.json")
            .Select(f => int.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
        CancellationToken cancellationToken)
    {
        if (_options.RefuseMessages)
            return new SmtpResponse(SmtpReplyCode.TransactionFailed, "5.7.1 Messages are refused here (SmtpSink --refuse-messages)");
        var number = Interlocked.Increment(ref _last);
        try
        {
            await WriteAsync(number, context, transaction, buffer.ToArray(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or ParseException)
        {
            await Console.Error.WriteLineAsync($"SmtpSink: message {number} could not be kept: {e.Message}").ConfigureAwait(false);
            return new SmtpResponse(SmtpReplyCode.Aborted, "4.3.0 The sink could not keep the message");
        }
        return new SmtpResponse(SmtpReplyCode.Ok, string.Create(CultureInfo.InvariantCulture, $"2.0.0 Ok: queued as {number}"));
    }

    private async Task WriteAsync(int number, ISessionContext context, IMessageTransaction transaction, byte[] raw, CancellationToken cancellationToken)
    {
        var folder = _options.Directory;
        var n = number.ToString(CultureInfo.InvariantCulture);
        var eml = Path.Combine(folder, $"{n}.eml");
        await File.WriteAllBytesAsync(eml, raw, cancellationToken).ConfigureAwait(false);

        using var stream = new MemoryStream(raw, writable: false);
        using var message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);

        var attachments = new List<ReceivedAttachment>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entity in message.Attachments)
        {
            var name = SafeFileName(entity switch
            {
                MimePart part => part.FileName,
                MessagePart attached => attached.ContentDisposition?.FileName ?? attached.ContentType.Name,
                _ => null,
            }, attachments.Count + 1);
            // Two attachments of one name are kept apart.
            var unique = name;
            for (var i = 2; !names.Add(unique); i++)
                unique = $"{Path.GetFileNameWithoutExtension(name)}-{i.ToString(CultureInfo.InvariantCulture)}{Path.GetExtension(name)}";
            var path = Path.Combine(folder, $"{n}-{unique}");
            var file = File.Create(path);
            await using (file.ConfigureAwait(false))
            {
                switch (entity)
                {
                    case MimePart part when part.Content is not null:
                        await part.Content.DecodeToAsync(file, cancellationToken).ConfigureAwait(false);
                        break;
                    case MessagePart attached when attached.Message is not null:
                        await attached.Message.WriteToAsync(file, cancellationToken).ConfigureAwait(false);
                        break;
                }
            }
            attachments.Add(new ReceivedAttachment(unique, entity.ContentType.MimeType, path));
        }

        var from = message.From.Mailboxes.FirstOrDefault();
        var summary = new ReceivedMessage(
            number,
            Address(transaction.From),
            [.. transaction.To.Select(Address)],
            context.Authentication.IsAuthenticated ? context.Authentication.User : null,
            message.Subject,
            from?.Address,
            from?.Name,
            [.. message.To.Mailboxes.Select(m => m.Address)],
            [.. message.Cc.Mailboxes.Select(m => m.Address)],
            message.MessageId,
            message.Headers.Contains(HeaderId.Date) ? message.Date.ToString("o", CultureInfo.InvariantCulture) : null,
            message.HtmlBody is not null,
            message.HtmlBody,
            message.TextBody,
            attachments,
            eml);

        // Last, and renamed into place: a reader that sees n.json sees all of it, and every file before it.
        var json = Path.Combine(folder, $"{n}.json");
        var temporary = Path.Combine(folder, $".{n}.json.tmp");
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(summary, Json), cancellationToken).ConfigureAwait(false);
        File.Move(temporary, json, overwrite: true);
    }

    // MAIL FROM:<> (the null sender) has no address.
    private static string Address(IMailbox? mailbox) =>
        mailbox is null || string.IsNullOrEmpty(mailbox.User) ? "" : mailbox.AsAddress();

    private static string SafeFileName(string? name, int index)
    {
        var file = Path.GetFileName((name ?? "").Replace('\\', '/'));
        foreach (var invalid in Path.GetInvalidFileNameChars())
            file = file.Replace(invalid, '_');
        file = file.Trim().TrimStart('.');
        return file.Length > 0 ? file : string.Create(CultureInfo.InvariantCulture, $"attachment-{index}");
    }
}

/// <summary>Answers 550 at RCPT TO for the --refuse-recipient addresses.</summary>
internal sealed class RecipientFilter(IReadOnlySet<string> refused) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
        Task.FromResult(true);

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken) =>
        Task.FromResult(!refused.Contains(to.AsAddress()));
}

/// <summary>
/// EHLO without PIPELINING: SmtpServer 11.1.0 writes each pipelined reply separately with Nagle on, so
/// a pipelining client waits about 45 ms for a delayed ACK after MAIL FROM on every message.
/// </summary>
internal sealed class WithoutPipelining : SmtpCommandFactory
{
    public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress);

    private sealed class Ehlo(string domainOrAddress) : EhloCommand(domainOrAddress)
    {
        protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
            base.GetExtensions(context).Where(extension => !extension.Split(' ')[0].Equals("PIPELINING", StringComparison.OrdinalIgnoreCase));
    }
}
