using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// Event metadata: always a JSON object, stored as compact JSON text. The limits keep one odd
/// event from bloating the store or a report; they are documented in about_NSelf.Usage.
/// </summary>
public static partial class Metadata
{
    public const int MaximumBytes = 64 * 1024;
    public const int MaximumDepth = 32;
    public const string Empty = "{}";

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = false,
    };

    // The last text checked on this thread and its result: a loop tracking the same endpoint
    // again and again parses it once, and text already in canonical form is not parsed twice.
    [ThreadStatic] private static string? _lastInput;
    [ThreadStatic] private static string? _lastOutput;

    /// <summary>Checks that text is one JSON object within the limits and returns it compacted.</summary>
    public static string Normalize(string? json, object? target = null)
    {
        if (string.IsNullOrWhiteSpace(json) || json == Empty)
            return Empty;
        if (_lastInput is { } last && string.Equals(last, json, StringComparison.Ordinal))
            return _lastOutput!;
        if (_lastOutput is { } lastOutput && string.Equals(lastOutput, json, StringComparison.Ordinal))
            return lastOutput;
        var normalized = NormalizeCore(json, target);
        (_lastInput, _lastOutput) = (json, normalized);
        return normalized;
    }

    private static string NormalizeCore(string json, object? target)
    {
        if (Encoding.UTF8.GetMaxByteCount(json.Length) > MaximumBytes)
            RequireWithinLimit(Encoding.UTF8.GetByteCount(json), json, target);
        TextRules.RequireWellFormed(json, ErrorIds.InvalidMetadata, "Metadata", target ?? Abbreviate(json));
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = MaximumDepth });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Invalid($"Metadata must be a JSON object such as {{\"endpoint\":\"/users\"}}, not a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}.", target ?? Abbreviate(json));
            RejectNulCharacters(document.RootElement, target ?? Abbreviate(json));
            var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                document.RootElement.WriteTo(writer);
            return UnescapeSurrogatePairs(Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
        catch (JsonException e)
        {
            var reason = e.Message.Contains("depth", StringComparison.OrdinalIgnoreCase)
                ? $"it nests deeper than {MaximumDepth} levels"
                : "it is not valid JSON";
            throw Invalid($"Metadata is not usable: {reason}. Pass a hashtable, an object or a JSON object string.", target ?? Abbreviate(json), e);
        }
        catch (InvalidOperationException e)
        {
            // An escaped unpaired surrogate ("\ud800") is valid JSON syntax but not text: reading the
            // string fails, and PostgreSQL's jsonb refuses it.
            throw Invalid("Metadata is not valid Unicode text: it has an escaped unpaired surrogate such as \\ud800.", target ?? Abbreviate(json), e);
        }
    }

    /// <summary>
    /// Metadata read back from a store, as compact JSON text. The write limits are not applied:
    /// a store's own rendering can be longer than the text that was accepted (PostgreSQL's jsonb
    /// prints {"a": 1} with spaces, and 1e3 as 1000), and other tools writing to a shared nself
    /// database never had the limits. Reading must not fail on a row the store holds.
    /// </summary>
    public static string FromStore(string? json)
    {
        if (string.IsNullOrWhiteSpace(json) || json == Empty)
            return Empty;
        // Rows read in a run often share their metadata (the same endpoint): parse it once.
        if (_lastStored is { } last && string.Equals(last, json, StringComparison.Ordinal))
            return _lastStoredOutput!;
        var compact = CompactStored(json);
        (_lastStored, _lastStoredOutput) = (json, compact);
        return compact;
    }

    [ThreadStatic] private static string? _lastStored;
    [ThreadStatic] private static string? _lastStoredOutput;

    private static string CompactStored(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 1024 });
            var buffer = new ArrayBufferWriter<byte>(json.Length + 16);
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                document.RootElement.WriteTo(writer);
            return UnescapeSurrogatePairs(Encoding.UTF8.GetString(buffer.WrittenSpan));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return json; // as the store holds it
        }
    }

    /// <summary>Serialises plain values (strings, numbers, booleans, lists, dictionaries) as a JSON object.</summary>
    public static string FromValues(IEnumerable<KeyValuePair<string, object?>> values, object? target = null)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        try
        {
            using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                WriteObject(writer, values, 1, target);
        }
        catch (InvalidOperationException e)
        {
            throw Invalid($"Metadata could not be written as JSON: {e.Message}", target, e);
        }
        // Our own writer wrote it from checked values (well-formed text without NUL, the depth
        // limit), so it is compact JSON already: of Normalize's checks only the size limit and the
        // unescaped emoji apply. Parsing and writing it again cost every tracking call's first
        // event about 3 ms of a scheduled script's start-up (issue 17, item 10).
        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        RequireWithinLimit(buffer.WrittenCount, json, target);
        return UnescapeSurrogatePairs(json);
    }

    private static void RequireWithinLimit(int bytes, string json, object? target)
    {
        if (bytes > MaximumBytes)
            throw Invalid(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Metadata is {bytes:N0} bytes; the limit is {MaximumBytes:N0} bytes of JSON."), target ?? Abbreviate(json));
    }

    private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> values, int depth, object? target)
    {
        if (depth > MaximumDepth)
            throw Invalid($"Metadata nests deeper than {MaximumDepth} levels.", target);
        writer.WriteStartObject();
        foreach (var (key, value) in values)
        {
            writer.WritePropertyName(WellFormed(key, target));
            WriteValue(writer, value, depth, target);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, int depth, object? target)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(WellFormed(s, target)); break;
            case char c: writer.WriteStringValue(WellFormed(c.ToString(), target)); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case double or float: throw Invalid($"Metadata value {value} is not a finite number and cannot be written as JSON.", target);
            case long or int or short or sbyte or byte or ushort or uint or ulong:
                writer.WriteRawValue(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!); break;
            case System.Numerics.BigInteger big: writer.WriteRawValue(big.ToString(System.Globalization.CultureInfo.InvariantCulture)); break;
            case DateTimeOffset dto: writer.WriteStringValue(dto.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture)); break;
            case DateTime dt: writer.WriteStringValue(dt.ToString("O", System.Globalization.CultureInfo.InvariantCulture)); break;
            case Guid g: writer.WriteStringValue(g.ToString()); break;
            case Enum e: writer.WriteStringValue(e.ToString()); break;
            case IEnumerable<KeyValuePair<string, object?>> map: WriteObject(writer, map, depth + 1, target); break;
            case System.Collections.IEnumerable list:
                if (depth + 1 > MaximumDepth)
                    throw Invalid($"Metadata nests deeper than {MaximumDepth} levels.", target);
                writer.WriteStartArray();
                foreach (var item in list)
                    WriteValue(writer, item, depth + 1, target);
                writer.WriteEndArray();
                break;
            default: writer.WriteStringValue(WellFormed(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture), target)); break;
        }
    }

    // The JSON writer silently replaces an unpaired surrogate with U+FFFD: refuse it as the
    // JSON-text path does, rather than store something other than what was given.
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    private static string? WellFormed(string? text, object? target)
    {
        if (text is not null)
            TextRules.RequireWellFormed(text, ErrorIds.InvalidMetadata, "Metadata", target);
        return text;
    }

    // System.Text.Json always escapes characters outside the basic plane (emoji) as \uD83C\uDF89;
    // turn such pairs back into the characters so stored metadata reads as written. A pair is
    // only an escape when the backslash before it is not itself escaped.
    [System.Text.RegularExpressions.GeneratedRegex(@"(?<!\\)((?:\\\\)*)\\u(D[89AB][0-9A-F]{2})\\u(D[C-F][0-9A-F]{2})", System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex EscapedSurrogatePair();

    private static string UnescapeSurrogatePairs(string json) =>
        json.Contains("\\u", StringComparison.Ordinal)
            ? EscapedSurrogatePair().Replace(json, m => m.Groups[1].Value
                + (char)Convert.ToInt32(m.Groups[2].Value, 16) + (char)Convert.ToInt32(m.Groups[3].Value, 16))
            : json;

    // PostgreSQL cannot store U+0000 in jsonb or text; refuse it on both stores alike.
    private static void RejectNulCharacters(JsonElement element, object target)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name.Contains('\0'))
                        throw Invalid("Metadata contains a NUL character (\\u0000), which cannot be stored.", target);
                    RejectNulCharacters(property.Value, target);
                }
                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                    RejectNulCharacters(item, target);
                break;
            case JsonValueKind.String:
                if (element.GetString()!.Contains('\0'))
                    throw Invalid("Metadata contains a NUL character (\\u0000), which cannot be stored.", target);
                break;
        }
    }

    internal static string Abbreviate(string text) => text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");

    private static UsageException Invalid(string message, object? target, Exception? inner = null) =>
        new(ErrorIds.InvalidMetadata, UsageErrorKind.InvalidArgument, message, target, inner);
}
