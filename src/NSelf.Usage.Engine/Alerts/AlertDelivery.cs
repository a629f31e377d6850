using System.Globalization;
using System.Net.Http.Headers;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Alerts;

/// <summary>
/// Sends the alerts waiting in the outbox: claims one delivery at a time under a lease (so two
/// hosts never send the same one at once), sends it (a signed webhook, or e-mail), and records the
/// outcome: delivered, another attempt after a backoff, or failed after the last. A sender killed
/// mid-delivery leaves its claim to expire; the next run sends it again under the same webhook-id.
/// </summary>
public sealed class AlertDeliverer
{
    // One client for every webhook: connections are pooled; redirects are not followed (a webhook
    // is the receiver's own address, and a redirect would carry the signed body elsewhere).
    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    private readonly IBillingStore _store;
    private readonly TimeProvider _time;
    private readonly AlertDeliverySettings _settings;
    private readonly EnvironmentSettings _environment;
    private readonly string _owner;

    public AlertDeliverer(IBillingStore store, TimeProvider time, AlertDeliverySettings settings, EnvironmentSettings environment)
    {
        _store = store;
        _time = time;
        _settings = settings;
        _environment = environment;
        var host = Environment.MachineName;
        _owner = string.Create(CultureInfo.InvariantCulture, $"{(host.Length > 200 ? host[..200] : host)}:{Environment.ProcessId}:{Guid.NewGuid():N}");
    }

    /// <summary>Who holds a claim: this host, process and sender.</summary>
    public string Owner => _owner;

    /// <summary>
    /// Sends every delivery due now (or, with <paramref name="deliveryIds"/>, those, due or not),
    /// one at a time, and yields each as it stands after its attempt.
    /// </summary>
    public IEnumerable<UsageAlertDelivery> Deliver(IReadOnlyList<long>? deliveryIds, CancellationToken stop)
    {
        if (deliveryIds is null)
        {
            while (!stop.IsCancellationRequested && Claim(null) is { } work)
                if (Attempt(work, stop) is { } done)
                    yield return done;
        }
        else
            foreach (var id in deliveryIds)
            {
                stop.ThrowIfCancellationRequested();
                if (Claim(id) is { } work && Attempt(work, stop) is { } done)
                    yield return done;
            }
    }

    private AlertDeliveryWork? Claim(long? deliveryId)
    {
        var now = _time.GetUtcNow();
        return _store.ClaimAlertDelivery(now, _owner, now + _settings.Lease, deliveryId);
    }

    private UsageAlertDelivery? Attempt(AlertDeliveryWork work, CancellationToken stop)
    {
        string? error;
        try
        {
            error = work.Kind == AlertActionKind.Webhook ? Post(work, stop) : Mail(work, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped by the user: the attempt is over, the delivery waits for the next run (no
            // backoff). The receiver may have it already; it dedupes by webhook-id.
            _store.CompleteAlertDelivery(work.DeliveryId, _owner,
                new AlertAttemptResult(AlertDeliveryStatus.Pending, _time.GetUtcNow(), _time.GetUtcNow(), "Stopped before the receiver answered."));
            throw;
        }
        catch (UsageException e)
        {
            error = e.Message;
        }
        var at = _time.GetUtcNow();
        var result = error is null
            ? new AlertAttemptResult(AlertDeliveryStatus.Delivered, at, null, null)
            : _settings.AfterFailure(work.Attempt, at) switch
            {
                var (status, next) => new AlertAttemptResult(status, at, next, error),
            };
        return _store.CompleteAlertDelivery(work.DeliveryId, _owner, result);
    }

    /// <summary>POSTs the alert, signed; null when the receiver answered 2xx, else what went wrong.</summary>
    private string? Post(AlertDeliveryWork work, CancellationToken stop)
    {
        var secret = _store.GetAlertActionSecret(work.ActionId)
            ?? throw new UsageException(ErrorIds.AccessDenied, UsageErrorKind.PermissionDenied,
                $"The secret of '{work.ActionName}' is not readable by this connection (on PostgreSQL only the store's owner reads it): deliver as the owner.", work.ActionName);
        var body = AlertMessages.WebhookBody(work.Alert);
        var id = AlertMessages.WebhookId(work.Alert.AlertId);
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, work.Target) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add("webhook-id", id);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", AlertMessages.Signature(AlertActionRules.Key(secret), id, timestamp, body));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("NSelf.Usage", typeof(AlertDeliverer).Assembly.GetName().Version?.ToString(3) ?? "0"));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(_settings.Timeout);
        try
        {
            using var response = Http.Send(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.IsSuccessStatusCode)
                return null;
            var text = ReadSome(response, timeout.Token);
            return string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}{(text.Length == 0 ? "" : ": " + text)}");
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return string.Create(CultureInfo.InvariantCulture, $"No answer from {Origin(work.Target)} within {_settings.Timeout.TotalSeconds} s.");
        }
        catch (HttpRequestException e)
        {
            return $"Could not reach {Origin(work.Target)}: {e.Message}{(e.InnerException is { } inner && !e.Message.Contains(inner.Message, StringComparison.Ordinal) ? " (" + inner.Message + ")" : "")}";
        }
    }

    /// <summary>Mails the alert through the SMTP server invoices go through; null when the server took it.</summary>
    private string? Mail(AlertDeliveryWork work, CancellationToken stop)
    {
        var profile = _store.GetProfile();
        var from = profile?.Email
            ?? throw new UsageException(ErrorIds.NoSender, UsageErrorKind.InvalidOperation,
                "The seller's profile has no e-mail address to send alerts from: set one with Set-BillingProfile -Email.", work.ActionName);
        var smtp = SmtpRules.Resolve(profile, _environment, _store.GetSmtpPassword) with { Timeout = _settings.Timeout };
        var to = work.Target.Split(", ", StringSplitOptions.RemoveEmptyEntries);
        var message = AlertMessages.Mail(work.Alert, work.DeliveryId, from, to, _time.GetUtcNow());
        try
        {
            new InvoiceMailer(smtp).SendMessageAsync(message, "the alert e-mail", stop).GetAwaiter().GetResult();
            return null;
        }
        catch (InvoiceMailException e) when (e.Kind != InvoiceMailFailure.Cancelled)
        {
            return e.Message;
        }
        catch (InvoiceMailException e)
        {
            throw new OperationCanceledException(e.Message, e, stop);
        }
    }

    // The first 200 characters of an error answer: enough to say why, never a whole page.
    private static string ReadSome(HttpResponseMessage response, CancellationToken stop)
    {
        try
        {
            using var stream = response.Content.ReadAsStream(stop);
            var buffer = new char[200];
            using var reader = new StreamReader(stream);
            var read = reader.ReadBlock(buffer, 0, buffer.Length);
            return new string(buffer, 0, read).ReplaceLineEndings(" ").Trim();
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return "";
        }
    }

    private static string Origin(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Authority) : url;
}
