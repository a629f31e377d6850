using System.Text;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Alerts;

/// <summary>The rules of Register-UsageAlertAction: what a name, a webhook, a secret, addresses and levels may be.</summary>
public static class AlertActionRules
{
    /// <summary>The levels an action takes when none are named: every level an alert is raised at.</summary>
    public static readonly IReadOnlyList<QuotaLevel> AlertLevels = [QuotaLevel.Warning, QuotaLevel.Critical, QuotaLevel.Exceeded];

    /// <summary>A webhook key shorter than this is refused: HMAC-SHA256 with a guessable key proves nothing.</summary>
    public const int MinimumKeyBytes = 16;

    /// <summary>Standard Webhooks' prefix of a base64 secret (whsec_...).</summary>
    public const string SecretPrefix = "whsec_";

    public static string Name(string? value)
    {
        var name = value?.Trim();
        if (string.IsNullOrEmpty(name))
            throw Invalid(ErrorIds.InvalidArgument, "-Name is empty: give the action a name (for example ops-webhook).", value);
        if (name.Length > 100 || name.Any(char.IsControl))
            throw Invalid(ErrorIds.InvalidArgument, $"-Name '{TextRules.Shorten(name)}' is not a name the module keeps: up to 100 characters, no control characters.", value);
        return name;
    }

    /// <summary>An absolute http or https URL with a host, as given (no redirects are followed, so it must be the receiver's own).</summary>
    public static string Webhook(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || !Uri.TryCreate(text, UriKind.Absolute, out var uri)
            || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host) || text.Any(char.IsControl))
            throw Invalid(ErrorIds.InvalidWebhookUri,
                $"-Webhook '{TextRules.Shorten(value ?? "")}' is not an http or https URL: give the receiver's full address, for example https://hooks.example.com/usage.", value);
        return uri.AbsoluteUri;
    }

    /// <summary>
    /// The signing key of a secret: the bytes a whsec_ secret encodes in base64 (Standard Webhooks),
    /// else the secret's UTF-8 bytes. At least <see cref="MinimumKeyBytes"/> bytes.
    /// </summary>
    public static byte[] Key(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
            throw Invalid(ErrorIds.InvalidSecret, "-Secret is empty: give the secret the receiver verifies signatures with (for example a whsec_ secret).", null);
        byte[] key;
        if (secret.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            var encoded = secret[SecretPrefix.Length..];
            key = new byte[encoded.Length];
            if (!Convert.TryFromBase64String(encoded, key, out var length))
                throw Invalid(ErrorIds.InvalidSecret, "-Secret starts with whsec_ but the rest is not base64: a whsec_ secret is the key's bytes in base64.", null);
            key = key[..length];
        }
        else
            key = Encoding.UTF8.GetBytes(secret);
        if (key.Length < MinimumKeyBytes)
            throw Invalid(ErrorIds.InvalidSecret,
                $"-Secret is too short to sign with: give at least {MinimumKeyBytes} bytes of key ({MinimumKeyBytes} characters, or a whsec_ secret); it has {key.Length}.", null);
        return key;
    }

    /// <summary>Addresses an e-mail action sends to, each checked, joined as stored.</summary>
    public static string Email(IReadOnlyList<string?>? given) =>
        string.Join(", ", InvoiceSending.Addresses(given ?? [], "-Email").Distinct(StringComparer.OrdinalIgnoreCase));

    /// <summary>The levels taken, in order, each once; every alert level when none are named.</summary>
    public static IReadOnlyList<QuotaLevel> Levels(IReadOnlyList<QuotaLevel>? given)
    {
        if (given is null)
            return AlertLevels;
        if (given.Count == 0)
            throw Invalid(ErrorIds.InvalidArgument, "-Level is empty: give Warning, Critical or Exceeded, or leave -Level out for all three.", null);
        foreach (var level in given)
            if (!AlertLevels.Contains(level))
                throw Invalid(ErrorIds.InvalidArgument, $"-Level {level} is not a level alerts are raised at: give Warning, Critical or Exceeded.", level);
        return AlertLevels.Where(given.Contains).ToList();
    }

    private static UsageException Invalid(string id, string message, object? target) => new(id, UsageErrorKind.InvalidArgument, message, target);
}

/// <summary>
/// How deliveries are attempted: each attempt bounded by a timeout, retried with exponential
/// backoff, given up after the last attempt. USAGE_ALERT_TIMEOUT (seconds, default 10),
/// USAGE_ALERT_RETRY_SECONDS (the first wait, default 30; each next wait doubles, up to 6 hours) and
/// USAGE_ALERT_MAX_ATTEMPTS (default 10: about 4 hours and 16 minutes of trying).
/// </summary>
public sealed record AlertDeliverySettings(TimeSpan Timeout, TimeSpan FirstRetry, int MaxAttempts)
{
    public static readonly TimeSpan LongestWait = TimeSpan.FromHours(6);

    public static readonly AlertDeliverySettings Default = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), 10);

    public static AlertDeliverySettings From(EnvironmentSettings environment) => new(
        TimeSpan.FromSeconds(Whole(environment, "USAGE_ALERT_TIMEOUT", 1, 300, (int)Default.Timeout.TotalSeconds)),
        TimeSpan.FromSeconds(Whole(environment, "USAGE_ALERT_RETRY_SECONDS", 1, 86_400, (int)Default.FirstRetry.TotalSeconds)),
        Whole(environment, "USAGE_ALERT_MAX_ATTEMPTS", 1, 100, Default.MaxAttempts));

    /// <summary>
    /// How long a sender holds a delivery it claimed: three timeouts (an e-mail's connect, login and
    /// send are each bounded by one). A sender killed mid-delivery holds it no longer than this;
    /// then another run takes it over and sends it again, under the same webhook-id.
    /// </summary>
    public TimeSpan Lease => Timeout * 3;

    /// <summary>The wait after the given failed attempt (1 = the first): the first wait, doubled each time, at most 6 hours.</summary>
    public TimeSpan WaitAfter(int attempt)
    {
        var wait = FirstRetry;
        for (var i = 1; i < attempt && wait < LongestWait; i++)
            wait += wait;
        return wait < LongestWait ? wait : LongestWait;
    }

    /// <summary>What a failed attempt leaves: another attempt at a later time, or none (Failed).</summary>
    public (AlertDeliveryStatus Status, DateTimeOffset? NextAttemptAt) AfterFailure(int attempt, DateTimeOffset now) =>
        attempt >= MaxAttempts ? (AlertDeliveryStatus.Failed, null) : (AlertDeliveryStatus.Pending, now + WaitAfter(attempt));

    private static int Whole(EnvironmentSettings environment, string name, int min, int max, int fallback)
    {
        if (environment.Get(name) is not { } text)
            return fallback;
        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"${name} is '{text}': it must be a whole number from {min} to {max}.", name);
    }
}

/// <summary>Register-, Get- and Remove-UsageAlertAction over a store: the rules checked, then one write.</summary>
public sealed class AlertActions(Storage.IUsageStore store, TimeProvider time)
{
    /// <summary>Who registered an action: user@host, as the ledger names its writers.</summary>
    public static string Writer => $"{Environment.UserName}@{Environment.MachineName}";

    /// <summary>
    /// Saves a webhook action (<paramref name="webhook"/> and <paramref name="secret"/>) or an
    /// e-mail action (<paramref name="email"/>); the service must be registered.
    /// </summary>
    public UsageAlertAction Register(string? name, string? webhook, string? secret, IReadOnlyList<string?>? email,
        IReadOnlyList<QuotaLevel>? levels, string? service, string? customerId, bool replace)
    {
        var checkedName = AlertActionRules.Name(name);
        var kind = webhook is not null ? AlertActionKind.Webhook : AlertActionKind.Email;
        var target = kind == AlertActionKind.Webhook ? AlertActionRules.Webhook(webhook) : AlertActionRules.Email(email);
        if (kind == AlertActionKind.Webhook)
            AlertActionRules.Key(secret);
        var action = new AlertActionRecord(checkedName, kind, target, AlertActionRules.Levels(levels),
            service is null ? null : store.GetServices().Find(service).Name,
            customerId is null ? null : TextRules.CustomerId(customerId));
        return store.SaveAlertAction(action, kind == AlertActionKind.Webhook ? secret : null, replace, NSelf.Usage.Engine.Time.Micros.Truncate(time.GetUtcNow()), Writer);
    }

    /// <summary>The actions whose names match <paramref name="pattern"/> (wildcards), or all.</summary>
    public IReadOnlyList<UsageAlertAction> Find(Func<string, bool>? matches) =>
        store.GetAlertActions().Where(a => matches is null || matches(a.Name)).ToList();

    /// <summary>Removes an action and cancels what it had not delivered.</summary>
    public void Remove(string? name)
    {
        var checkedName = AlertActionRules.Name(name);
        if (!store.RemoveAlertAction(checkedName))
            throw NotFound(checkedName);
    }

    public static UsageException NotFound(string name) =>
        new(ErrorIds.AlertActionNotFound, UsageErrorKind.ObjectNotFound, $"No alert action is named '{name}' (Get-UsageAlertAction lists them).", name);
}
