using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MimeKit;

namespace NSelf.Usage.Engine.Alerts;

/// <summary>
/// What a delivery says: the webhook's JSON body and its Standard Webhooks signature, and the
/// e-mail. Both are made from the alert alone, so every attempt of a delivery sends the same bytes.
/// </summary>
public static class AlertMessages
{
    /// <summary>The webhook-id of an alert: the same for every attempt and every action, so a receiver dedupes by it.</summary>
    public static string WebhookId(long alertId) => string.Create(CultureInfo.InvariantCulture, $"alert_{alertId}");

    /// <summary>usage.alert.warning, usage.alert.critical or usage.alert.exceeded.</summary>
    public static string EventType(QuotaLevel level) => "usage.alert." + level.ToString().ToLowerInvariant();

    /// <summary>
    /// The JSON body (documented in docs/Register-UsageAlertAction.md): type, timestamp (when the alert was raised) and data,
    /// the alert itself. Quantities are JSON numbers written exactly; times are UTC ISO 8601.
    /// </summary>
    public static byte[] WebhookBody(UsageAlert alert)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", EventType(alert.Level));
            json.WriteString("timestamp", Utc(alert.RaisedAt));
            json.WriteStartObject("data");
            json.WriteNumber("alertId", alert.AlertId);
            json.WriteString("customerId", alert.CustomerId);
            json.WriteString("service", alert.Service);
            json.WriteString("level", alert.Level.ToString());
            json.WriteNumber("used", Ingestion.Quantities.Normalize(alert.Used));
            json.WriteNumber("limit", Ingestion.Quantities.Normalize(alert.Limit));
            json.WriteNumber("percent", Ingestion.Quantities.Normalize(alert.Percent));
            json.WriteString("periodStart", Utc(alert.PeriodStart));
            json.WriteString("periodEnd", Utc(alert.PeriodEnd));
            json.WriteString("raisedAt", Utc(alert.RaisedAt));
            json.WriteString("message", alert.Message);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The webhook-signature header: v1, then base64 of HMAC-SHA256 over "id.timestamp.body" with the key.</summary>
    public static string Signature(byte[] key, string webhookId, long timestamp, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{webhookId}.{timestamp}."));
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    /// <summary>The e-mail of an alert: its message as the subject, the details as plain text; the Message-ID is the delivery's, so a retry is a recognisable duplicate.</summary>
    public static MimeMessage Mail(UsageAlert alert, long deliveryId, string from, IReadOnlyList<string> to, DateTimeOffset date)
    {
        var sender = MailboxAddress.Parse(from);
        var message = new MimeMessage { Subject = $"[{alert.CustomerId}] {alert.Message}", Date = date };
        message.From.Add(sender);
        message.To.AddRange(to.Select(MailboxAddress.Parse));
        var domain = sender.Domain.Length == 0 ? "localhost" : new IdnMapping().GetAscii(sender.Domain);
        message.MessageId = string.Create(CultureInfo.InvariantCulture, $"alert-{alert.AlertId}.{deliveryId}@{domain}");
        message.Body = new TextPart("plain") { Text = MailText(alert) };
        message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    public static string MailText(UsageAlert alert)
    {
        var text = new StringBuilder();
        text.Append(alert.Message).Append("\n\n");
        Line(text, "Customer", alert.CustomerId);
        Line(text, "Service", alert.Service);
        Line(text, "Level", alert.Level.ToString());
        Line(text, "Used", Format(alert.Used));
        Line(text, "Limit", Format(alert.Limit));
        Line(text, "Percent", Format(alert.Percent) + " %");
        Line(text, "Period", $"{Utc(alert.PeriodStart)} to {Utc(alert.PeriodEnd)} (UTC)");
        Line(text, "Raised", Utc(alert.RaisedAt));
        Line(text, "Alert id", alert.AlertId.ToString(CultureInfo.InvariantCulture));
        text.Append("\nThis alert is raised once per level and period. Get-UsageQuota and Test-UsageQuota show where the quota stands now.\n");
        return text.ToString();
    }

    private static void Line(StringBuilder text, string label, string value) => text.Append(label).Append(':').Append(' ', 10 - label.Length).Append(value).Append('\n');

    private static string Format(decimal value) => Ingestion.Quantities.Format(value);

    private static string Utc(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFF'Z'", CultureInfo.InvariantCulture);
}
