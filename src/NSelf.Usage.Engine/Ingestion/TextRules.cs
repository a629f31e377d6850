using System.Text.RegularExpressions;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>The rules every identifier and text value must meet before it reaches a store.</summary>
public static partial class TextRules
{
    public const int MaximumIdLength = 255;
    public const int MaximumTextLength = 2048;

    // nself's rule for customer ids: letters, digits, underscore and hyphen, up to 255 characters.
    // \z, not $: in .NET '$' also matches before a final newline, which would let "cus_a\n" through.
    [GeneratedRegex(@"^[A-Za-z0-9_-]{1,255}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CustomerIdPattern();

    [GeneratedRegex(@"^[a-z][a-z0-9_.-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex ServiceNamePattern();

    public static string CustomerId(string? value)
    {
        if (value is null || !CustomerIdPattern().IsMatch(value))
            throw new UsageException(ErrorIds.InvalidCustomerId, UsageErrorKind.InvalidArgument,
                $"'{Shorten(value)}' is not a valid customer id: use 1 to 255 letters, digits, '_' or '-' (for example cus_abc123).", value);
        return value;
    }

    public static string ServiceName(string? value)
    {
        var candidate = value?.Trim().ToLowerInvariant();
        if (candidate is null || !ServiceNamePattern().IsMatch(candidate))
            throw new UsageException(ErrorIds.InvalidService, UsageErrorKind.InvalidArgument,
                $"'{Shorten(value)}' is not a valid service name: start with a letter, then up to 99 lowercase letters, digits, '_', '.' or '-'.", value);
        return candidate;
    }

    /// <summary>Plan names follow the service-name rule (lowercase, from a letter); the error names a plan.</summary>
    public static string PlanName(string? value)
    {
        var candidate = value?.Trim().ToLowerInvariant();
        if (candidate is null || !ServiceNamePattern().IsMatch(candidate))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"'{Shorten(value)}' is not a valid plan name: start with a letter, then up to 99 lowercase letters, digits, '_', '.' or '-' (for example team or pro-2026).", value);
        return candidate;
    }

    public static string EventId(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > MaximumIdLength)
            throw new UsageException(ErrorIds.InvalidEventId, UsageErrorKind.InvalidArgument,
                value is null || value.Length <= MaximumIdLength
                    ? "An event id must have at least one character that is not white space."
                    : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"An event id must be at most {MaximumIdLength} characters; got {value.Length:N0}."), value);
        RequireWellFormed(value, ErrorIds.InvalidEventId, "The event id", value);
        if (value.Any(char.IsControl))
            throw new UsageException(ErrorIds.InvalidEventId, UsageErrorKind.InvalidArgument, "An event id must not contain control characters.", value);
        return value;
    }

    /// <summary>Checks free text (an endpoint, a function name): bounded, well-formed UTF-16, no NUL.</summary>
    public static string Text(string? value, string what, string errorId, int maximumLength = MaximumTextLength)
    {
        if (value is null)
            return string.Empty;
        if (value.Length > maximumLength)
            throw new UsageException(errorId, UsageErrorKind.InvalidArgument,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{what} is {value.Length:N0} characters long; the limit is {maximumLength:N0}."), Shorten(value));
        RequireWellFormed(value, errorId, what, value);
        return value;
    }

    /// <summary>Refuses lone surrogates (text that is not valid Unicode) and NUL, which PostgreSQL cannot store.</summary>
    public static void RequireWellFormed(string value, string errorId, string what, object? target)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\0')
                throw new UsageException(errorId, UsageErrorKind.InvalidArgument, $"{what} contains a NUL character, which cannot be stored.", target);
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                throw new UsageException(errorId, UsageErrorKind.InvalidArgument, $"{what} is not valid Unicode text (it has an unpaired surrogate at position {i}).", target);
        }
    }

    internal static string Shorten(string? value) => value is null ? "" : value.Length <= 80 ? value : string.Concat(value.AsSpan(0, 80), "…");
}
