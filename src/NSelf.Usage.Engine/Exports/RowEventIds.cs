using System.Security.Cryptography;
using System.Text;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Event ids for imported rows that carry none, derived from the row so that importing the same
/// file again (after an interruption, or by mistake) finds the events already stored instead of
/// counting them twice. The id is a UUID version 8 (RFC 9562) made from the SHA-256 of the row's
/// normalized fields (customer, service, quantity, timestamp, metadata: the event as stored, so
/// "1.50" and "1.5", or "2026-01-15 10:00" and "2026-01-15T10:00:00Z", are the same row) and the
/// row's ordinal among identical rows of the file: two identical rows are still two events.
/// A row without a timestamp is stamped with the time of the import, so its own fields say
/// nothing about when it happened: for such rows the SHA-256 of the whole file stands in for the
/// time, so the same file gives the same ids, and another file with the same untimed rows (the
/// next day's export of a system that writes no times) is new usage, not a duplicate.
/// </summary>
internal sealed class RowEventIds
{
    private readonly Func<string> _fileChecksum;
    private string? _checksum;
    private readonly Dictionary<UInt128, int> _seen = new();

    /// <param name="fileChecksum">The checksum of the file being imported, computed only if an untimed row needs it.</param>
    public RowEventIds(Func<string> fileChecksum) => _fileChecksum = fileChecksum;

    /// <summary>The event with its id derived from the row; <paramref name="timed"/> says whether the row gave its time.</summary>
    public UsageEvent Assign(UsageEvent derived, bool timed)
    {
        var when = timed ? UsageFile.Instant(derived.Timestamp) : "file:" + (_checksum ??= _fileChecksum());
        // U+001F (unit separator) cannot occur in a customer id, a service name or a quantity, so fields never run together.
        var key = string.Join('\u001f', derived.CustomerId, derived.Service, Quantities.Format(derived.Quantity), when, derived.Metadata);
        var rowHash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        var identity = new UInt128(BitConverter.ToUInt64(rowHash, 0), BitConverter.ToUInt64(rowHash, 8));
        _seen.TryGetValue(identity, out var before);
        var ordinal = before + 1;
        _seen[identity] = ordinal;
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(key + "\u001f" + ordinal.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        bytes[6] = (byte)(0x80 | (bytes[6] & 0x0F)); // version 8: a custom, here name-based, UUID
        bytes[8] = (byte)(0x80 | (bytes[8] & 0x3F)); // the RFC 9562 variant
        return derived with { EventId = new Guid(bytes.AsSpan(0, 16), bigEndian: true).ToString() };
    }
}
