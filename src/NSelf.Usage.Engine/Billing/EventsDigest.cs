using System.Security.Cryptography;
using System.Text;

namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// What a line says about the events it bills: how many, their exact total, and the SHA-256 of
/// their ids in ordinal order, each followed by a line feed. Invoices write it; Test-BillingInvoice
/// works it out again from the ledger, so both must make it the same way: here.
/// </summary>
public static class EventsDigest
{
    /// <param name="events">In ordinal order of their ids, as the stores read them.</param>
    public static (long Events, decimal Quantity, string Hash) Summarize(IEnumerable<LedgerEntry> events)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long count = 0;
        var quantity = 0m;
        foreach (var entry in events)
        {
            hash.AppendData(Encoding.UTF8.GetBytes(entry.EventId));
            hash.AppendData("\n"u8);
            quantity += entry.Quantity;
            count++;
        }
        return (count, quantity, Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant());
    }
}
