using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NSelf.Usage.Engine.Tests.Alerts;

/// <summary>A webhook request as the receiver got it: headers by lower-case name, and the body.</summary>
public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// A real HTTP receiver (HttpListener) on a loopback port, for tests: records each request before it
/// answers, with a settable status code; it can be stopped and started again on the same port, to
/// stand for an endpoint that is down and comes back.
/// </summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly ConcurrentQueue<ReceivedWebhook> _received = new();
    private HttpListener? _listener;

    public WebhookReceiver(bool start = true)
    {
        // A free port, found by binding port 0: HttpListener takes only a fixed prefix.
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        if (start)
            Start();
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hook";

    /// <summary>The status every answer gets (200 unless set).</summary>
    public HttpStatusCode Status { get; set; } = HttpStatusCode.OK;

    public IReadOnlyList<ReceivedWebhook> Received => [.. _received];

    public void Start()
    {
        var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _listener = listener;
        _ = Task.Run(() => Serve(listener));
    }

    /// <summary>Stops listening: connections are refused until <see cref="Start"/>.</summary>
    public void Stop()
    {
        _listener?.Close();
        _listener = null;
    }

    private async Task Serve(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!, StringComparer.Ordinal);
            _received.Enqueue(new ReceivedWebhook(context.Request.RawUrl ?? "", headers, body.ToArray()));
            context.Response.StatusCode = (int)Status;
            var answer = Encoding.UTF8.GetBytes(Status == HttpStatusCode.OK ? "ok" : "down for maintenance");
            await context.Response.OutputStream.WriteAsync(answer).ConfigureAwait(false);
            context.Response.Close();
        }
    }

    public void Dispose() => Stop();
}
