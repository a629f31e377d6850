using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>One spooled event and when it was spooled.</summary>
public readonly record struct SpooledEvent(UsageEvent Event, DateTimeOffset SpooledAt);

/// <summary>
/// The spool file format: an 8-byte file header, then one frame per event. A frame is a 4-byte
/// marker, the payload length and its CRC-32 (both little-endian 32-bit), then the payload. A
/// torn write leaves a frame whose length runs past the end or whose CRC does not match; the
/// marker lets a reader find the next intact frame after damaged bytes.
/// </summary>
public static class SpoolFormat
{
    public static ReadOnlySpan<byte> FileHeader => "NSUSPL01"u8;

    public static ReadOnlySpan<byte> Marker => [0xB5, (byte)'E', (byte)'V', (byte)'1'];

    public const int FrameOverhead = 12;

    /// <summary>No event comes near this (metadata is at most 64 KB); a larger length is damage.</summary>
    public const int MaximumPayload = 1 << 20;

    private const byte PayloadVersion = 1;

    /// <summary>
    /// A frame's checksum: CRC-32 as zlib computes it (IEEE 802.3, reflected, all-ones start and
    /// end). System.IO.Hashing's is vectorised, where a byte-at-a-time table cost half a
    /// microsecond per delivered event. Part of the file format: spools written by earlier
    /// versions must still read.
    /// </summary>
    public static uint Checksum(ReadOnlySpan<byte> payload) => System.IO.Hashing.Crc32.HashToUInt32(payload);

    /// <summary>Appends the frame of one event to a buffer.</summary>
    public static void Write(ArrayBufferWriter<byte> buffer, in UsageEvent e, DateTimeOffset spooledAt)
    {
        var length = 1 + 8 + 8 + Size(e.EventId) + Size(e.CustomerId) + Size(e.Service) + Size(e.Unit) + 40 + Size(e.Metadata);
        var frame = buffer.GetSpan(FrameOverhead + length);
        var payload = frame[FrameOverhead..];
        var at = 0;
        payload[at++] = PayloadVersion;
        BinaryPrimitives.WriteInt64LittleEndian(payload[at..], Micros.From(spooledAt));
        at += 8;
        BinaryPrimitives.WriteInt64LittleEndian(payload[at..], Micros.From(e.Timestamp));
        at += 8;
        at += WriteString(payload[at..], e.EventId);
        at += WriteString(payload[at..], e.CustomerId);
        at += WriteString(payload[at..], e.Service);
        at += WriteString(payload[at..], e.Unit);
        at += WriteQuantity(payload[at..], e.Quantity);
        at += WriteString(payload[at..], e.Metadata);
        Marker.CopyTo(frame);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], (uint)at);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[8..], Checksum(payload[..at]));
        buffer.Advance(FrameOverhead + at);
    }

    private static int Size(string text) => 4 + Encoding.UTF8.GetMaxByteCount(text.Length);

    // A decimal has at most 29 digits, a sign and a point: 40 bytes are reserved for it above.
    private static int WriteQuantity(Span<byte> target, decimal quantity)
    {
        if (!quantity.TryFormat(target[4..], out var written, default, CultureInfo.InvariantCulture))
            throw new InvalidOperationException("A quantity did not fit its frame.");
        BinaryPrimitives.WriteInt32LittleEndian(target, written);
        return 4 + written;
    }

    private static int WriteString(Span<byte> target, string text)
    {
        var written = Encoding.UTF8.GetBytes(text, target[4..]);
        BinaryPrimitives.WriteInt32LittleEndian(target, written);
        return 4 + written;
    }

    /// <summary>Decodes a payload whose CRC matched; false when its fields do not parse.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> payload, out SpooledEvent spooled) => TryDecode(payload, null, out spooled);

    /// <param name="repeated">Reuses the strings of the previous events read with it: a spool
    /// mostly repeats its customer, service, unit and metadata, and a delivery then allocates
    /// (and keeps alive while it stores the chunk) little more than the event ids.</param>
    internal static bool TryDecode(ReadOnlySpan<byte> payload, RepeatedStrings? repeated, out SpooledEvent spooled)
    {
        spooled = default;
        try
        {
            if (payload.Length < 17 || payload[0] != PayloadVersion)
                return false;
            var spooledAt = Micros.ToInstant(BinaryPrimitives.ReadInt64LittleEndian(payload[1..]));
            var timestamp = Micros.ToInstant(BinaryPrimitives.ReadInt64LittleEndian(payload[9..]));
            var rest = payload[17..];
            if (!TryReadString(ref rest, null, out var eventId) || !TryReadString(ref rest, repeated?.Customer, out var customer)
                || !TryReadString(ref rest, repeated?.Service, out var service) || !TryReadString(ref rest, repeated?.Unit, out var unit)
                || !TryReadField(ref rest, out var quantityText) || !TryReadString(ref rest, repeated?.Metadata, out var metadata)
                || rest.Length != 0
                || !decimal.TryParse(quantityText, NumberStyles.Number, CultureInfo.InvariantCulture, out var quantity))
                return false;
            spooled = new SpooledEvent(new UsageEvent(eventId, customer, service, unit, quantity, timestamp, metadata), spooledAt);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false; // a timestamp outside DateTimeOffset's range: damage the CRC missed
        }
    }

    private static bool TryReadString(ref ReadOnlySpan<byte> rest, RepeatedStrings.Slot? slot, out string text)
    {
        text = "";
        if (!TryReadField(ref rest, out var bytes))
            return false;
        text = slot is null ? Encoding.UTF8.GetString(bytes) : slot.Get(bytes);
        return true;
    }

    private static bool TryReadField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        field = default;
        if (rest.Length < 4)
            return false;
        var length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (length < 0 || length > rest.Length - 4)
            return false;
        field = rest.Slice(4, length);
        rest = rest[(4 + length)..];
        return true;
    }
}

/// <summary>The last value of each repetitive field of the events being read, with its bytes.</summary>
internal sealed class RepeatedStrings
{
    public Slot Customer { get; } = new();

    public Slot Service { get; } = new();

    public Slot Unit { get; } = new();

    public Slot Metadata { get; } = new();

    public sealed class Slot
    {
        private byte[] _bytes = [];
        private string _text = "";

        public string Get(ReadOnlySpan<byte> bytes)
        {
            if (!bytes.SequenceEqual(_bytes))
            {
                _text = Encoding.UTF8.GetString(bytes);
                _bytes = bytes.ToArray();
            }
            return _text;
        }
    }
}
