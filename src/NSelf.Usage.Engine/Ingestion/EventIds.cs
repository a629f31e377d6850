using System.Security.Cryptography;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// New event ids are UUID version 7 (RFC 9562): unique, and ordered by creation time so the
/// store's unique index is appended to rather than written at random places.
/// </summary>
public static class EventIds
{
    // Random bytes are drawn from the cryptographic generator 4 KB at a time (one call per 256
    // ids instead of one each), per thread, so no lock is shared.
    [ThreadStatic] private static byte[]? _random;
    [ThreadStatic] private static int _used;

    public static string New(TimeProvider time) => New(time.GetUtcNow());

    /// <param name="now">The creation time, whose milliseconds lead the id.</param>
    public static string New(DateTimeOffset now)
    {
        var random = _random ??= new byte[4096];
        if (_used == 0 || _used + 16 > random.Length)
        {
            RandomNumberGenerator.Fill(random);
            _used = 0;
        }
        Span<byte> bytes = stackalloc byte[16];
        random.AsSpan(_used, 16).CopyTo(bytes);
        random.AsSpan(_used, 16).Clear(); // never hand the same bytes out twice
        _used += 16;
        var ms = now.ToUnixTimeMilliseconds();
        unchecked // taking the low bytes of the timestamp is the intent
        {
        bytes[0] = (byte)(ms >> 40);
        bytes[1] = (byte)(ms >> 32);
        bytes[2] = (byte)(ms >> 24);
        bytes[3] = (byte)(ms >> 16);
        bytes[4] = (byte)(ms >> 8);
        bytes[5] = (byte)ms;
        bytes[6] = (byte)(0x70 | (bytes[6] & 0x0F));
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F));
        }
        return new Guid(bytes, bigEndian: true).ToString();
    }
}
