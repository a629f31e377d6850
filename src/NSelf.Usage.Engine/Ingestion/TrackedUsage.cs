using System.Globalization;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>A service, quantity and metadata worked out by one of the tracking commands.</summary>
public readonly record struct TrackedQuantity(string Service, decimal Quantity, string Metadata);

/// <summary>
/// What each tracking command stores, in the bash library's units. Byte and second counts are
/// converted exactly, then rounded to six decimal places (half away from zero); the raw count is
/// kept in the metadata so nothing is lost to that rounding.
/// </summary>
public static class TrackedUsage
{
    public const decimal BytesPerGigabyte = 1_073_741_824m; // 2^30, as the bash library used

    // The last request measured on this thread: a loop tracking the same endpoint again and again
    // validates it and writes its metadata once (this runs once per call of Add-UsageApiRequest).
    [ThreadStatic] private static (string Endpoint, string Method, int Status, TrackedQuantity Measured)? _lastRequest;

    public static TrackedQuantity ApiRequest(string endpoint, string method, int statusCode)
    {
        if (_lastRequest is { } last && last.Status == statusCode
            && string.Equals(last.Endpoint, endpoint, StringComparison.Ordinal) && string.Equals(last.Method, method, StringComparison.Ordinal))
            return last.Measured;
        var measured = MeasureApiRequest(endpoint, method, statusCode);
        _lastRequest = (endpoint, method, statusCode, measured);
        return measured;
    }

    private static TrackedQuantity MeasureApiRequest(string endpoint, string method, int statusCode)
    {
        endpoint = TextRules.Text(endpoint, "The endpoint", ErrorIds.InvalidArgument);
        if (string.IsNullOrWhiteSpace(endpoint))
            throw Invalid("The endpoint is empty; pass the path that was called, for example /api/users.", endpoint);
        method = TextRules.Text(method, "The method", ErrorIds.InvalidArgument, 32).Trim().ToUpperInvariant();
        if (method.Length == 0 || !method.All(c => c is >= 'A' and <= 'Z' || c == '-'))
            throw Invalid($"'{method}' is not an HTTP method such as GET or POST.", method);
        if (statusCode is < 100 or > 599)
            throw Invalid($"Status code {statusCode} is not an HTTP status (100 to 599).", statusCode);
        return new("api", 1m, Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("endpoint", endpoint), new("method", method), new("status", statusCode),
        }));
    }

    public static TrackedQuantity Storage(long bytes, decimal hours)
    {
        RequireNotNegative(bytes, "Bytes");
        if (hours < 0)
            throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"Hours {hours} is negative.", hours);
        var quantity = Quantities.RoundDerived(bytes / BytesPerGigabyte * hours);
        return new("storage", Quantities.Validate(quantity, bytes), Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("bytes", bytes), new("hours", Quantities.Normalize(hours)),
        }));
    }

    public static TrackedQuantity Bandwidth(long bytes, string direction)
    {
        RequireNotNegative(bytes, "Bytes");
        var quantity = Quantities.RoundDerived(bytes / BytesPerGigabyte);
        return new("bandwidth", Quantities.Validate(quantity, bytes), Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("bytes", bytes), new("direction", direction.ToLowerInvariant()),
        }));
    }

    public static TrackedQuantity Compute(decimal seconds, string metadata)
    {
        if (seconds < 0)
            throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"Seconds {seconds} is negative.", seconds);
        var quantity = Quantities.RoundDerived(seconds / 3600m);
        return new("compute", Quantities.Validate(quantity, seconds), WithExactCount(metadata, "seconds", Quantities.Normalize(seconds)));
    }

    public static TrackedQuantity DatabaseQuery(string queryType, decimal durationMs)
    {
        queryType = TextRules.Text(queryType, "The query type", ErrorIds.InvalidArgument, 64).Trim().ToUpperInvariant();
        if (queryType.Length == 0)
            throw Invalid("The query type is empty; pass SELECT, INSERT, UPDATE, DELETE or another statement kind.", queryType);
        RequireDuration(durationMs);
        return new("database", 1m, Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("type", queryType), new("duration_ms", Quantities.Normalize(durationMs)),
        }));
    }

    public static TrackedQuantity Function(string name, decimal durationMs, int memoryMb)
    {
        name = TextRules.Text(name, "The function name", ErrorIds.InvalidArgument, 255).Trim();
        if (name.Length == 0)
            throw Invalid("The function name is empty.", name);
        RequireDuration(durationMs);
        if (memoryMb is <= 0 or > 1_048_576)
            throw Invalid($"Memory {memoryMb.ToString(CultureInfo.InvariantCulture)} MB is not between 1 MB and 1 TB.", memoryMb);
        return new("functions", 1m, Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("function", name), new("duration_ms", Quantities.Normalize(durationMs)), new("memory_mb", memoryMb),
        }));
    }

    /// <summary>Adds the exact count behind a rounded quantity to the caller's metadata, unless the caller set that key.</summary>
    private static string WithExactCount(string metadata, string key, decimal value)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(metadata)!.AsObject();
        if (!node.ContainsKey(key))
            node[key] = value;
        return Metadata.Normalize(node.ToJsonString());
    }

    private static void RequireNotNegative(long bytes, string what)
    {
        if (bytes < 0)
            throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"{what} {bytes} is negative.", bytes);
    }

    private static void RequireDuration(decimal durationMs)
    {
        if (durationMs < 0 || durationMs > 86_400_000m * 366)
            throw Invalid($"Duration {durationMs} ms is not between 0 and one year.", durationMs);
    }

    private static UsageException Invalid(string message, object target) =>
        new(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, message, target);
}
