using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CsvHelper;
using CsvHelper.Configuration;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Exports;

public enum UsageFileFormat
{
    Csv,
    Json,
}

/// <summary>A row read back from an export or archive, not yet validated.</summary>
public sealed record UsageFileRow(long Line, string EventId, string CustomerId, string Service, string Quantity, string Timestamp, string RecordedAt, string Metadata);

/// <summary>
/// The export and archive file formats, written and read in one place so every file the module
/// writes can be read back exactly: one header row (CSV) or one array of objects (JSON), the
/// columns EventId, CustomerId, Service, Quantity, Unit, Timestamp, RecordedAt, Metadata;
/// invariant culture; ISO 8601 UTC instants to the microsecond; exact decimals; metadata as JSON
/// text. Streams in both directions, so memory stays flat whatever the number of rows.
/// </summary>
public static class UsageFile
{
    public static readonly string[] Columns = { "EventId", "CustomerId", "Service", "Quantity", "Unit", "Timestamp", "RecordedAt", "Metadata" };

    private const string InstantFormat = "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'";

    public static UsageFileFormat FormatOf(string path)
    {
        var name = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? path[..^3] : path;
        return name.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? UsageFileFormat.Json : UsageFileFormat.Csv;
    }

    public static bool IsCompressed(string path) => path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);

    public static string Instant(DateTimeOffset at) => at.UtcDateTime.ToString(InstantFormat, CultureInfo.InvariantCulture);

    /// <summary>
    /// Spreadsheets execute a cell that starts with = + - @ (or a tab or carriage return): such a
    /// cell gets a leading apostrophe, which spreadsheets hide and the reader here removes. A value
    /// that itself starts with apostrophes before such a character ('=x) gets one more, so the
    /// reader's removal gives it back exactly.
    /// </summary>
    public static string Neutralize(string value) => NeedsGuard(value) ? "'" + value : value;

    public static string Restore(string value) =>
        value.Length > 1 && value[0] == '\'' && NeedsGuard(value.AsSpan(1)) ? value[1..] : value;

    private static bool NeedsGuard(ReadOnlySpan<char> value)
    {
        var i = 0;
        while (i < value.Length && value[i] == '\'')
            i++;
        return i < value.Length && value[i] is '=' or '+' or '-' or '@' or '\t' or '\r';
    }

    /// <summary>Writes records to a stream; returns the number written. <paramref name="progress"/> is told every 10,000 rows.</summary>
    public static long Write(IEnumerable<UsageRecord> records, UsageFileFormat format, Stream stream, Action<long>? progress = null, CancellationToken cancel = default)
    {
        long count = 0;
        if (format == UsageFileFormat.Json)
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            json.WriteStartArray();
            foreach (var r in records)
            {
                cancel.ThrowIfCancellationRequested();
                json.WriteStartObject();
                json.WriteString("EventId", r.EventId);
                json.WriteString("CustomerId", r.CustomerId);
                json.WriteString("Service", r.Service);
                json.WriteNumber("Quantity", r.Quantity);
                json.WriteString("Unit", r.Unit);
                json.WriteString("Timestamp", Instant(r.Timestamp));
                json.WriteString("RecordedAt", Instant(r.RecordedAt));
                json.WriteString("Metadata", r.Metadata);
                json.WriteEndObject();
                if (++count % 10_000 == 0)
                {
                    json.Flush();
                    progress?.Invoke(count);
                }
            }
            json.WriteEndArray();
            json.Flush();
            return count;
        }
        using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
        using var csv = new CsvWriter(writer, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\n", InjectionOptions = InjectionOptions.None });
        foreach (var column in Columns)
            csv.WriteField(column);
        csv.NextRecord();
        foreach (var r in records)
        {
            cancel.ThrowIfCancellationRequested();
            csv.WriteField(Neutralize(r.EventId));
            csv.WriteField(Neutralize(r.CustomerId));
            csv.WriteField(Neutralize(r.Service));
            csv.WriteField(r.Quantity.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(Neutralize(r.Unit));
            csv.WriteField(Instant(r.Timestamp));
            csv.WriteField(Instant(r.RecordedAt));
            csv.WriteField(r.Metadata);
            csv.NextRecord();
            if (++count % 10_000 == 0)
                progress?.Invoke(count);
        }
        csv.Flush();
        return count;
    }

    /// <summary>
    /// Writes records into a file's stream, gzip-compressed when asked; the stream stays open for
    /// the caller to flush. <paramref name="encoding"/> (default UTF-8 without a byte order mark)
    /// is the text's, inside the compression.
    /// </summary>
    public static long WriteFile(IEnumerable<UsageRecord> records, UsageFileFormat format, bool compress, Stream stream, Action<long>? progress = null, CancellationToken cancel = default, Encoding? encoding = null)
    {
        if (!compress)
            return WriteText(records, format, stream, progress, cancel, encoding);
        using var gzip = new GZipStream(stream, CompressionLevel.Optimal, leaveOpen: true);
        return WriteText(records, format, gzip, progress, cancel, encoding);
    }

    private static long WriteText(IEnumerable<UsageRecord> records, UsageFileFormat format, Stream stream, Action<long>? progress, CancellationToken cancel, Encoding? encoding)
    {
        if (encoding is null)
            return Write(records, format, stream, progress, cancel);
        using var text = TextEncoding.Open(stream, encoding);
        return Write(records, format, text, progress, cancel);
    }

    /// <summary>
    /// Streams the rows of an export or archive file, whatever its name says: gzip is recognised
    /// by its magic bytes and JSON by its opening bracket, so a renamed file still reads. Any
    /// damage is InvalidRecord naming the line, never the file's content.
    /// </summary>
    public static IEnumerable<UsageFileRow> ReadFile(string path)
    {
        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            Span<byte> magic = stackalloc byte[2];
            var gzip = stream.Read(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
            stream.Position = 0;
            if (gzip)
                stream = LengthCheckedGzip.Open(stream);
            bool json;
            Stream replayed;
            try
            {
                (json, replayed) = SniffJson(stream);
            }
            catch (InvalidDataException)
            {
                throw Invalid("the file is not valid gzip; nothing was read.", 1, Path.GetFileName(path));
            }
            stream = replayed;
            var source = Path.GetFileName(path);
            return Guarded(json ? ReadJson(stream, source) : ReadCsv(stream, source), stream, source);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads up to the first non-blank byte; the bytes read are put back in front of the rest.</summary>
    private static (bool Json, Stream Replayed) SniffJson(Stream stream)
    {
        var peeked = new List<byte>();
        int b;
        while ((b = stream.ReadByte()) >= 0)
        {
            peeked.Add((byte)b);
            if (b is not (0xEF or 0xBB or 0xBF or ' ' or '\t' or '\r' or '\n') || peeked.Count > 4096)
                break;
        }
        return (b == '[', new PrefixedStream(peeked.ToArray(), stream));
    }

    /// <summary>
    /// Decompresses gzip and, at the end, compares the bytes it gave with the size the file's
    /// trailer records. GZipStream simply stops at the end of a truncated file, which would import
    /// half a file without a word; a cut-off file's last four bytes are not its trailer, so the
    /// sizes disagree. (For a file of several concatenated gzip members the trailer is the last
    /// member's: such files are not what we write, and are reported rather than misread.)
    /// </summary>
    private sealed class LengthCheckedGzip : ForwardOnlyStream
    {
        private readonly uint _recorded;
        private uint _given;

        private LengthCheckedGzip(GZipStream gzip, uint recorded) : base(gzip) => _recorded = recorded;

        public static LengthCheckedGzip Open(Stream file)
        {
            Span<byte> trailer = stackalloc byte[4];
            if (file.Length >= 18)
            {
                file.Position = file.Length - 4;
                file.ReadExactly(trailer);
            }
            var recorded = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            file.Position = 0;
            return new LengthCheckedGzip(new GZipStream(file, CompressionMode.Decompress), recorded);
        }

        public override int Read(Span<byte> buffer)
        {
            var read = Inner.Read(buffer);
            unchecked { _given += (uint)read; }
            if (read == 0 && buffer.Length > 0 && _given != _recorded)
                throw new InvalidDataException("The gzip file is truncated or damaged: it ends before its recorded size.");
            return read;
        }
    }

    /// <summary>A read-only stream: some bytes already read, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : ForwardOnlyStream(rest)
    {
        private int _at;

        public override int Read(Span<byte> buffer)
        {
            if (_at < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _at);
                prefix.AsSpan(_at, n).CopyTo(buffer);
                _at += n;
                return n;
            }
            return Inner.Read(buffer);
        }
    }

    /// <summary>A read-only, forward-only stream over another, which it owns.</summary>
    private abstract class ForwardOnlyStream(Stream inner) : Stream
    {
        protected Stream Inner { get; } = inner;

        public abstract override int Read(Span<byte> buffer);

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                Inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private static IEnumerable<UsageFileRow> Guarded(IEnumerable<UsageFileRow> rows, Stream stream, string source)
    {
        using var owned = stream;
        using var e = rows.GetEnumerator();
        long line = 1;
        while (true)
        {
            try
            {
                if (!e.MoveNext())
                    yield break;
            }
            catch (Exception ex) when (ex is CsvHelperException or JsonException or InvalidDataException or DecoderFallbackException)
            {
                var what = ex is InvalidDataException ? "the file is not valid gzip" : ex is JsonException json ? $"the file is not valid JSON ({json.Message})" : "the file is not valid CSV";
                throw Invalid($"{what}; nothing after this line was read.", line + 1, source);
            }
            line = e.Current.Line;
            yield return e.Current;
        }
    }

    /// <summary>Streams the rows of an export or archive, CSV or JSON.</summary>
    public static IEnumerable<UsageFileRow> Read(Stream stream, UsageFileFormat format)
    {
        return format == UsageFileFormat.Json ? ReadJson(stream, null) : ReadCsv(stream, null);
    }

    private static IEnumerable<UsageFileRow> ReadCsv(Stream stream, string? source)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, 1 << 16, leaveOpen: true);
        using var csv = new CsvReader(reader, new CsvConfiguration(CultureInfo.InvariantCulture) { MissingFieldFound = null, HeaderValidated = null, PrepareHeaderForMatch = a => a.Header.ToLowerInvariant() });
        if (!csv.Read() || !csv.ReadHeader())
            yield break;
        foreach (var required in new[] { "service", "quantity" })
            if (!csv.HeaderRecord!.Any(h => h.Equals(required, StringComparison.OrdinalIgnoreCase)))
                throw Invalid($"The file has no {required} column; expected {string.Join(", ", Columns)}.", 1, source);
        while (csv.Read())
        {
            string Field(string name) => csv.TryGetField<string>(name.ToLowerInvariant(), out var value) && value is not null ? Restore(value) : "";
            yield return new UsageFileRow(csv.Parser.Row, Field("EventId"), Field("CustomerId"), Field("Service"), Field("Quantity"), Field("Timestamp"), Field("RecordedAt"), Field("Metadata"));
        }
    }

    private static IEnumerable<UsageFileRow> ReadJson(Stream stream, string? source)
    {
        // Streams the array element by element: JsonSerializer yields each object as it is read.
        var rows = JsonSerializer.DeserializeAsyncEnumerable<JsonElement>(stream).ToBlockingEnumerable();
        long line = 0;
        foreach (var row in rows)
        {
            line++;
            if (row.ValueKind != JsonValueKind.Object)
                throw Invalid("A JSON export is an array of objects.", line, source);
            string Field(string name)
            {
                foreach (var property in row.EnumerateObject())
                    if (property.NameEquals(name) || property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                        return property.Value.ValueKind switch
                        {
                            JsonValueKind.String => property.Value.GetString()!,
                            JsonValueKind.Null or JsonValueKind.Undefined => "",
                            _ => property.Value.GetRawText(),
                        };
                return "";
            }
            yield return new UsageFileRow(line, Field("EventId"), Field("CustomerId"), Field("Service"), Field("Quantity"), Field("Timestamp"), Field("RecordedAt"), Field("Metadata"));
        }
    }

    /// <summary>SHA-256 of a file's bytes (as stored, compressed or not).</summary>
    public static string Checksum(string path)
    {
        using var file = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant();
    }

    private static UsageException Invalid(string message, long line, string? source) =>
        new(ErrorIds.InvalidRecord, UsageErrorKind.InvalidData, $"{Where(source, line)}: {message}", line);

    /// <summary>How a message names a row: "events.csv line 18" (or "Line 18" when the file has no name).</summary>
    public static string Where(string? source, long line) => source is null ? $"Line {line}" : $"{source} line {line}";

    /// <summary>
    /// An exported row as an event: validated like every other write, keeping its id and time.
    /// A blank cell (empty or white space) of an optional column is a value not given, as an
    /// absent column is: a new id, now, the default customer, no metadata. A spreadsheet or a
    /// hand-edited file leaves such cells, and refusing the row for them helps no one.
    /// </summary>
    /// <param name="source">The file's name, for messages ("events.csv line 18: ...").</param>
    public static UsageEvent ToEvent(UsageFileRow row, UsageEventFactory factory, string? defaultCustomer, string? source = null)
    {
        try
        {
            var customer = !string.IsNullOrWhiteSpace(row.CustomerId) ? row.CustomerId : defaultCustomer
                ?? throw new UsageException(ErrorIds.NoCustomerId, UsageErrorKind.InvalidArgument, "The row has no CustomerId and no default customer was given.", row.Line);
            DateTimeOffset? at = string.IsNullOrWhiteSpace(row.Timestamp) ? null : Time.TimeInput.ToInstant(row.Timestamp, TimeZoneInfo.Utc);
            return factory.Create(customer, row.Service, Quantities.Parse(row.Quantity), at,
                string.IsNullOrWhiteSpace(row.EventId) ? null : row.EventId, row.Metadata);
        }
        catch (UsageException e)
        {
            throw new UsageException(e.ErrorId, e.Kind, $"{Where(source, row.Line)}: {e.Message}", e.Target, e);
        }
    }
}
