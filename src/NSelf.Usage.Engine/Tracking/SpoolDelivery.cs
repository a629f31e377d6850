using System.Diagnostics;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>What one delivery did.</summary>
public sealed record DeliveryResult(long Submitted, long Duplicates, long Failed, long Pending, int Files, DateTimeOffset? OldestPending,
    TimeSpan Duration, UsageException? Error, IReadOnlyList<string> Warnings);

/// <summary>
/// Delivers a spool to its store: every segment it can lock, oldest first, in bulk chunks, then
/// deletes it. Exactly once: the store keeps each (customer, event id) once, so a segment delivered
/// again after a crash between its last chunk and its deletion adds nothing; and a segment is
/// locked while it is delivered, so two flushes never deliver it at the same time.
/// </summary>
public static class SpoolDelivery
{
    public const int ChunkSize = 5000;

    /// <param name="delivered">Told the events stored so far after each chunk (a progress bar).</param>
    public static DeliveryResult Deliver(Spool spool, IUsageStore store, TimeProvider time, CancellationToken cancel = default, Action<long>? delivered = null)
    {
        var started = time.GetTimestamp();
        long submitted = 0, duplicates = 0, failed = 0;
        var warnings = new List<string>();
        UsageException? error = null;
        foreach (var segment in spool.Segments())
        {
            if (cancel.IsCancellationRequested)
                break;
            using var stream = Spool.TryLock(segment);
            if (stream is null)
                continue; // being written, or delivered by another flush
            var damage = new List<(long Offset, byte[] Bytes)>();
            long intact = 0;
            try
            {
                var chunk = new List<UsageEvent>(ChunkSize);
                foreach (var spooled in Spool.Read(stream, (offset, bytes) => damage.Add((offset, bytes))))
                {
                    chunk.Add(spooled.Event);
                    intact++;
                    if (chunk.Count == ChunkSize)
                        Store(chunk);
                }
                Store(chunk);
            }
            catch (UsageException e)
            {
                // The store is unreachable (or refused the write): this segment and the rest stay
                // for the next flush; what was stored of it is not stored twice then.
                error = e;
                break;
            }
            foreach (var (offset, bytes) in damage)
            {
                var path = spool.Quarantine(segment, offset, bytes, time.GetUtcNow());
                warnings.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Spool file {Path.GetFileName(segment)} had {bytes.Length:N0} damaged byte(s) at offset {offset:N0} (a torn or corrupted write); ")
                    + string.Create(System.Globalization.CultureInfo.InvariantCulture, $"they were set aside in {path}, and the {intact:N0} intact event(s) of the file were delivered."));
            }
            File.Delete(segment); // still locked: no other flush can open it in between
        }

        var (pending, files, oldest) = spool.Summarize();
        return new DeliveryResult(submitted, duplicates, failed, pending, files, oldest, time.GetElapsedTime(started), error, warnings);

        void Store(List<UsageEvent> chunk)
        {
            if (chunk.Count == 0)
                return;
            var result = store.Ingest(chunk);
            submitted += result.Inserted;
            duplicates += result.Duplicates;
            delivered?.Invoke(submitted + duplicates);
            if (result.Rejected.Count > 0)
            {
                failed += result.Rejected.Count;
                var path = spool.QuarantineRejected(result.Rejected, time.GetUtcNow());
                warnings.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The store refused {result.Rejected.Count:N0} spooled event(s) ({result.Rejected[0].Reason.Message}); they were set aside with the reasons in {path}."));
            }
            chunk.Clear();
        }
    }
}
