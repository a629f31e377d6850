// WebhookSink: a real HTTP endpoint (System.Net.HttpListener) on a loopback port, for the Pester tests
// of webhook deliveries. It writes every request it receives to a folder as <n>.json (renamed into
// place, so a reader never sees half of one) before it answers, so a client killed while it waits
// for the answer still leaves its request behind. It can answer every request with one status code
// (--status 503: an endpoint that fails) and leave the first requests unanswered (--stall: one that hangs).
//
//   WebhookSink --dir <folder> [--port <n>] [--status <code>] [--stall <n>]
//
// Once it listens it prints one line, 'PORT <n>', and runs until its standard input closes (or it is
// killed). tests/pester/TestSupport.psm1 starts it (Start-WebhookSink) and reads the folder (Get-WebhookSinkRequest).
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NSelf.Usage.Tests.WebhookSink;

internal static class Program
{
    private const string Usage = "usage: WebhookSink --dir <folder> [--port <n>] [--status <code>] [--stall <n>]";

    public static async Task<int> Main(string[] args)
    {
        SinkOptions options;
        try
        {
            options = SinkOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"WebhookSink: {e.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        Directory.CreateDirectory(options.Directory);
        var store = new RequestStore(options.Directory);

        HttpListener listener;
        try
        {
            listener = await ListenAsync(options.Port).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or SocketException)
        {
            await Console.Error.WriteLineAsync($"WebhookSink: cannot listen on port {options.Port}: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        var port = new Uri(listener.Prefixes.Single()).Port;
        await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"PORT {port}")).ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);

        // Runs until standard input closes (the caller closes it to stop the sink) or the listener fails.
        var serving = new Server(listener, options, store).RunAsync();
        var stdinClosed = Task.Factory.StartNew(DrainStandardInput, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        var ended = await Task.WhenAny(stdinClosed, serving).ConfigureAwait(false);
        // Abort, not Close: held (stalled) connections are dropped, never answered.
        listener.Abort();
        if (ended == serving)
        {
            await Console.Error.WriteLineAsync($"WebhookSink: the listener stopped: {serving.Exception?.GetBaseException().Message}").ConfigureAwait(false);
            return 1;
        }
        return 0;
    }

    // HttpListener cannot listen on port 0, so a free port is found with a socket first. Another
    // process may take it in between: then another one. A port asked for (a sink restarted where
    // the previous one was) may still be held for a moment by the process that just ended: retry.
    private static async Task<HttpListener> ListenAsync(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        for (var attempt = 1; ; attempt++)
        {
            var candidate = port != 0 ? port : FreePort();
            var listener = new HttpListener { IgnoreWriteExceptions = true };
            listener.Prefixes.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{candidate}/"));
            try
            {
                listener.Start();
                return listener;
            }
            catch (Exception e) when (e is HttpListenerException or SocketException && (port == 0 ? attempt < 20 : DateTime.UtcNow < deadline))
            {
                listener.Abort();
                await Task.Delay(port == 0 ? 0 : 100).ConfigureAwait(false);
            }
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
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
internal sealed record SinkOptions(string Directory, int Port, int Status, int Stall)
{
    public static SinkOptions Parse(string[] args)
    {
        string? directory = null;
        var port = 0;
        var status = 200;
        var stall = 0;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int Number(int min, int max)
            {
                var name = args[i];
                var text = Value();
                return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
                    ? n
                    : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} takes a whole number from {min} to {max}, not '{text}'."));
            }
            switch (args[i])
            {
                case "--dir":
                    directory = Path.GetFullPath(Value());
                    break;
                case "--port":
                    port = Number(0, 65535);
                    break;
                case "--status":
                    // A final answer: 1xx are not one.
                    status = Number(200, 599);
                    break;
                case "--stall":
                    stall = Number(0, int.MaxValue);
                    break;
                default:
                    throw new ArgumentException($"Unknown argument '{args[i]}'.");
            }
        }
        if (string.IsNullOrWhiteSpace(directory))
            throw new ArgumentException("--dir is required.");
        return new SinkOptions(directory, port, status, stall);
    }
}

/// <summary>A request, as <c>n.json</c>.</summary>
internal sealed record ReceivedRequest(
    int Number,
    string Method,
    string Path,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    string ReceivedAt);

/// <summary>Numbers the requests and writes them to the folder.</summary>
internal sealed class RequestStore
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly string _folder;
    private int _last;

    public RequestStore(string folder)
    {
        _folder = folder;
        // A folder used before (by a sink restarted on it) keeps its requests: numbering goes on after the last one.
        _last = Directory.EnumerateFiles(folder, "*.json")
            .Select(f => int.TryParse(Path.GetFileNameWithoutExtension(f), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0)
            .DefaultIfEmpty(0)
            .Max();
    }

    public int Next() => Interlocked.Increment(ref _last);

    public async Task WriteAsync(ReceivedRequest request)
    {
        var n = request.Number.ToString(CultureInfo.InvariantCulture);
        // Renamed into place: a reader that sees n.json sees all of it.
        var json = Path.Combine(_folder, $"{n}.json");
        var temporary = Path.Combine(_folder, $".{n}.json.tmp");
        await File.WriteAllTextAsync(temporary, JsonSerializer.Serialize(request, Json)).ConfigureAwait(false);
        File.Move(temporary, json, overwrite: true);
    }
}

/// <summary>Takes the requests one by one (their number is their order of arrival) and handles each apart.</summary>
internal sealed class Server(HttpListener listener, SinkOptions options, RequestStore store)
{
    private static readonly byte[] Ok = "ok"u8.ToArray();
    private static readonly byte[] NotKept = "not kept"u8.ToArray();

    // The stalled requests: kept reachable, so their connections stay open until the process ends.
    private readonly ConcurrentBag<HttpListenerContext> _held = [];
    private int _stalled;

    public async Task RunAsync()
    {
        while (true)
        {
            var context = await listener.GetContextAsync().ConfigureAwait(false);
            var receivedAt = DateTime.UtcNow;
            var number = store.Next();
            var stall = _stalled < options.Stall;
            if (stall)
                _stalled++;
            _ = Task.Run(() => HandleAsync(context, number, receivedAt, stall));
        }
    }

    private async Task HandleAsync(HttpListenerContext context, int number, DateTime receivedAt, bool stall)
    {
        var request = context.Request;
        var status = options.Status;
        var answer = Ok;
        try
        {
            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in request.Headers.AllKeys)
            {
                if (name is not null)
                    headers[name.ToLowerInvariant()] = request.Headers[name] ?? "";
            }
            // Before the answer: what a client sent is on disk even if it never reads the answer.
            await store.WriteAsync(new ReceivedRequest(
                number,
                request.HttpMethod,
                request.RawUrl ?? "/",
                headers,
                Encoding.UTF8.GetString(body.GetBuffer(), 0, (int)body.Length),
                receivedAt.ToString("O", CultureInfo.InvariantCulture))).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpListenerException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"WebhookSink: request {number} could not be kept: {e.Message}").ConfigureAwait(false);
            (status, answer) = (500, NotKept);
        }

        if (stall)
        {
            _held.Add(context);
            return;
        }
        try
        {
            var response = context.Response;
            response.StatusCode = status;
            // 204 and 304 carry no body.
            if (status is not (204 or 304))
            {
                response.ContentType = "text/plain; charset=utf-8";
                response.ContentLength64 = answer.Length;
                await response.OutputStream.WriteAsync(answer).ConfigureAwait(false);
            }
            response.Close();
        }
        catch (Exception e) when (e is IOException or HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
            // The client is gone: nobody to answer.
        }
    }
}
