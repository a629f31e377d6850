using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.Mail;
using SmtpServer.Net;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using ServiceProvider = SmtpServer.ComponentModel.ServiceProvider;

namespace NSelf.Usage.Engine.Tests.Mail;

/// <summary>Where a <see cref="LocalSmtpServer"/> keeps a client waiting until <see cref="LocalSmtpServer.Release"/>.</summary>
public enum SmtpHold
{
    None,
    /// <summary>Before answering RCPT TO: nothing has been transmitted yet.</summary>
    RecipientReply,
    /// <summary>After the whole message arrived (and was captured), before answering it.</summary>
    DataReply,
}

public sealed record LocalSmtpServerOptions
{
    /// <summary>When set, AUTH is required (offered on plain connections too) and only this login succeeds.</summary>
    public (string UserName, string Password)? Login { get; init; }

    /// <summary>Addresses answered with 550 at RCPT TO.</summary>
    public IReadOnlyCollection<string> RefusedRecipients { get; init; } = [];

    /// <summary>When true, every message is answered with 554 after DATA (and not captured).</summary>
    public bool RefuseMessages { get; init; }

    /// <summary>When set, STARTTLS is offered with this certificate (it must carry its private key).</summary>
    public X509Certificate2? Certificate { get; init; }

    public SmtpHold Hold { get; init; }

    /// <summary>False: messages are taken and answered but not kept (a server many runs send to).</summary>
    public bool KeepMessages { get; init; } = true;

    /// <summary>
    /// EHLO keywords not to offer. PIPELINING by default: SmtpServer 11.1.0 writes each pipelined
    /// reply separately with Nagle on, so a pipelining client waits about 45 ms for a delayed ACK
    /// after MAIL FROM on every message. Real servers send those replies together.
    /// </summary>
    public IReadOnlyCollection<string> HiddenExtensions { get; init; } = ["PIPELINING"];
}

/// <summary>A message as the server received it: the envelope, the session, the bytes, the parsed MIME.</summary>
public sealed record ReceivedMail(
    string QueueId,
    string EnvelopeFrom,
    IReadOnlyList<string> EnvelopeTo,
    string? AuthenticatedUser,
    bool Secure,
    byte[] Raw,
    MimeMessage Message);

/// <summary>
/// A real SMTP server (the SmtpServer package) on a free loopback port, for tests: captures what it
/// receives and can require a login, refuse recipients or messages, offer STARTTLS, or hold a reply.
/// </summary>
public sealed class LocalSmtpServer : IAsyncDisposable
{
    private readonly LocalSmtpServerOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ReceivedMail> _received = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _running = Task.CompletedTask;
    private int _queued;

    static LocalSmtpServer()
    {
        // With the thread pool at its minimum (2 on a 2-core CI machine) one of the first
        // SmtpServer 11.1.0 sessions of a run stalls 0.5-1 s until the pool grows: a thread is
        // blocked on the server side (a plain-socket client sees it too). More threads up front.
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), completions);
    }

    private LocalSmtpServer(LocalSmtpServerOptions options) => _options = options;

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    public IReadOnlyList<ReceivedMail> Received => [.. _received];

    /// <summary>Completes when a client reaches the <see cref="LocalSmtpServerOptions.Hold"/> point.</summary>
    public Task Held => _held.Task;

    public void Release() => _released.TrySetResult();

    public static async Task<LocalSmtpServer> StartAsync(LocalSmtpServerOptions? options = null)
    {
        var server = new LocalSmtpServer(options ?? new LocalSmtpServerOptions());
        await server.Start().ConfigureAwait(false);
        return server;
    }

    private async Task Start()
    {
        // Port 0: the OS picks a free port, read back from the listener once it is bound, so
        // parallel tests never race for a port found free a moment earlier.
        var listening = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listeners = new EndpointListenerFactory();
        listeners.EndpointStarted += (_, e) => listening.TrySetResult(((IPEndPoint)e.LocalEndPoint).Port);

        var services = new ServiceProvider();
        services.Add(listeners);
        services.Add(new Store(this));
        services.Add(new Filter(this));
        if (_options.HiddenExtensions.Count > 0)
            services.Add(new HidingExtensions(_options.HiddenExtensions));
        if (_options.Login is { } login)
            services.Add(new DelegatingUserAuthenticator((user, password) => user == login.UserName && password == login.Password));

        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, 0))
                    .AuthenticationRequired(_options.Login is not null)
                    // Off without a login: the default authenticator accepts anyone, and AUTH would be offered.
                    .AllowUnsecureAuthentication(_options.Login is not null);
                if (_options.Certificate is { } certificate)
                    endpoint.Certificate(certificate);
            })
            .Build();

        var server = new SmtpServer.SmtpServer(options, services);
        _running = server.StartAsync(_stop.Token);
        var started = await Task.WhenAny(listening.Task, _running).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        if (started != listening.Task)
            await _running.ConfigureAwait(false); // surfaces why it did not start
        Port = await listening.Task.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
    }

    private async Task HoldAt(SmtpHold point, CancellationToken cancellationToken)
    {
        if (_options.Hold != point)
            return;
        _held.TrySetResult();
        await _released.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class Store(LocalSmtpServer server) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            if (server._options.RefuseMessages)
                return new SmtpResponse(SmtpReplyCode.TransactionFailed, "5.7.1 Invoices are not welcome here");
            if (!server._options.KeepMessages)
                return new SmtpResponse(SmtpReplyCode.Ok, "2.0.0 Ok");
            var raw = buffer.ToArray();
            using var stream = new MemoryStream(raw, writable: false);
            var message = await MimeMessage.LoadAsync(stream, cancellationToken).ConfigureAwait(false);
            var queueId = $"Q{Interlocked.Increment(ref server._queued)}";
            server._received.Enqueue(new ReceivedMail(
                queueId,
                transaction.From.AsAddress(),
                [.. transaction.To.Select(to => to.AsAddress())],
                context.Authentication.IsAuthenticated ? context.Authentication.User : null,
                context.Pipe.IsSecure,
                raw,
                message));
            await server.HoldAt(SmtpHold.DataReply, cancellationToken).ConfigureAwait(false);
            return new SmtpResponse(SmtpReplyCode.Ok, $"2.0.0 Ok: queued as {queueId}"); // as Postfix says it
        }
    }

    private sealed class HidingExtensions(IReadOnlyCollection<string> hidden) : SmtpCommandFactory
    {
        public override SmtpCommand CreateEhlo(string domainOrAddress) => new Ehlo(domainOrAddress, hidden);

        private sealed class Ehlo(string domainOrAddress, IReadOnlyCollection<string> hidden) : EhloCommand(domainOrAddress)
        {
            protected override IEnumerable<string> GetExtensions(ISessionContext context) =>
                base.GetExtensions(context).Where(extension => !hidden.Contains(extension.Split(' ')[0], StringComparer.OrdinalIgnoreCase));
        }
    }

    private sealed class Filter(LocalSmtpServer server) : IMailboxFilter
    {
        public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken) =>
            Task.FromResult(true);

        public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
        {
            await server.HoldAt(SmtpHold.RecipientReply, cancellationToken).ConfigureAwait(false);
            return !server._options.RefusedRecipients.Contains(to.AsAddress(), StringComparer.OrdinalIgnoreCase);
        }
    }
}
