using System.Security.Cryptography;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// New event ids are UUID version 7 (RFC 9562): unique, and ordered by creation time so the
/// store's unique index is appended to rather than written at random places.
/// </summary>
public static class EventIds
{
    public static string New(TimeProvider time)
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        var ms = time.GetUtcNow().ToUnixTimeMilliseconds();
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
