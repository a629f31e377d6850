using System.Globalization;

namespace NSelf.Usage.Engine.Configuration;

/// <summary>
/// The environment variables the bash library honoured, read with one set of rules: invariant
/// numbers, documented defaults, and an InvalidArgument error (never a silent default) for a
/// value that cannot be read.
/// </summary>
public sealed class EnvironmentSettings
{
    public const int DefaultBatchSize = 1000;
    public static readonly TimeSpan DefaultBatchTimeout = TimeSpan.FromSeconds(5);

    private readonly Func<string, string?> _variable;

    public EnvironmentSettings(Func<string, string?> variable)
    {
        _variable = variable;
    }

    public static EnvironmentSettings Process { get; } = new(Environment.GetEnvironmentVariable);

    public string? Get(string name)
    {
        var value = _variable(name);
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    public int BatchSize => ReadInt("USAGE_BATCH_SIZE", DefaultBatchSize, 1, 1_000_000);

    public TimeSpan BatchTimeout => TimeSpan.FromTicks(decimal.ToInt64(ReadDecimal("USAGE_BATCH_TIMEOUT", 5m, 0.05m, 86_400m) * TimeSpan.TicksPerSecond));

    public decimal AlertWarning => ReadDecimal("USAGE_ALERT_WARNING", 75m, 0m, 1000m);

    public decimal AlertCritical => ReadDecimal("USAGE_ALERT_CRITICAL", 90m, 0m, 1000m);

    public decimal AlertExceeded => ReadDecimal("USAGE_ALERT_EXCEEDED", 100m, 0m, 1000m);

    public string? TimeZone => Get("NSELF_USAGE_TIMEZONE");

    /// <summary>The user's data folder for this product (the embedded store and, by default, spools and exports).</summary>
    public string DataDirectory =>
        Get("NSELF_USAGE_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify) is { Length: > 0 } local
            ? local
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share"), "NSelf.Usage");

    public string CacheDirectory => Get("BILLING_CACHE_DIR") ?? Path.Combine(DataDirectory, "cache");

    public string ExportDirectory => Get("BILLING_EXPORT_DIR") ?? Path.Combine(DataDirectory, "exports");

    private int ReadInt(string name, int fallback, int minimum, int maximum)
    {
        var text = Get(name);
        if (text is null)
            return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < minimum || value > maximum)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"${name} is '{text}'; it must be a whole number from {minimum} to {maximum}.", name);
        return value;
    }

    private decimal ReadDecimal(string name, decimal fallback, decimal minimum, decimal maximum)
    {
        var text = Get(name);
        if (text is null)
            return fallback;
        if (!decimal.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value) || value < minimum || value > maximum)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"${name} is '{text}'; it must be a number from {minimum} to {maximum} (invariant notation, such as 7.5).", name);
        return value;
    }
}
