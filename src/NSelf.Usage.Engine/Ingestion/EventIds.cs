namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// New event ids are UUID version 7 (RFC 9562): unique, and ordered by creation time so the
/// store's unique index is appended to rather than written at random places.
/// </summary>
public static class EventIds
{
    public static string New(TimeProvider time) => New(time.GetUtcNow());

    /// <param name="now">The creation time, whose milliseconds lead the id.</param>
    public static string New(DateTimeOffset now)
    {
        // The random bits come from a version 4 GUID, which .NET draws from the operating system's
        // cryptographic generator without OpenSSL: RandomNumberGenerator loads and initialises
        // OpenSSL on Linux, a cost every scheduled script that tracks one event paid (decision 228).
        // A version 4 GUID's only fixed bits (version and variant) are the ones version 7 sets
        // below, so the id keeps all 74 of its random bits.
        Span<byte> bytes = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(bytes, bigEndian: true, out _);
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
