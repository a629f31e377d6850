using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Import-UsageRecord: an export or archive read back into the store, in chunks through the
/// bulk write path. Idempotent by event id; an archived event comes back with its original
/// ingest time and is not counted twice. Rows without an event id get one derived from the row
/// (<see cref="RowEventIds"/>), so a file imported again, whole or after an interruption, is
/// stored exactly once too.
/// </summary>
public sealed class UsageImporter
{
    private const int Chunk = 5000;

    private readonly UsageTracker _tracker;
    private readonly TimeProvider _time;

    public UsageImporter(UsageTracker tracker, TimeProvider time)
    {
        _tracker = tracker;
        _time = time;
    }

    /// <param name="rejected">Told about each row that cannot be stored (the import goes on).</param>
    public UsageImportResult Import(string path, string? defaultCustomer, Action<UsageException> rejected, Action<long>? progress = null)
    {
        if (!File.Exists(path))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.ObjectNotFound, $"{path} does not exist.", path);
        var factory = new UsageEventFactory(_tracker.Store.GetServices(refresh: true), _time);
        long rows = 0, inserted = 0, duplicates = 0, refused = 0;
        var batch = new List<UsageEvent>(Chunk);
        var source = Path.GetFileName(path);
        var derivedIds = new RowEventIds(() => UsageFile.Checksum(path));
        void Flush()
        {
            if (batch.Count == 0)
                return;
            var result = _tracker.Write(batch);
            inserted += result.Inserted;
            duplicates += result.Duplicates;
            refused += result.Rejected.Count;
            foreach (var r in result.Rejected)
                rejected(r.Reason);
            batch.Clear();
            progress?.Invoke(rows);
        }
        // A stop is heard at the next row, not when the chunk being read is full: the rows read
        // since the last chunk was written are dropped, and importing again adds them.
        using var reader = UsageFile.ReadFile(path).UntilStopped().GetEnumerator();
        while (true)
        {
            try
            {
                if (!reader.MoveNext())
                    break;
            }
            catch (UsageException)
            {
                Flush(); // everything before the damaged line is stored; importing again adds only the rest
                throw;
            }
            rows++;
            try
            {
                var row = reader.Current;
                var usageEvent = UsageFile.ToEvent(row, factory, defaultCustomer, source);
                batch.Add(string.IsNullOrWhiteSpace(row.EventId) ? derivedIds.Assign(usageEvent, timed: !string.IsNullOrWhiteSpace(row.Timestamp)) : usageEvent);
            }
            catch (UsageException e)
            {
                refused++;
                rejected(e);
            }
            if (batch.Count == Chunk)
                Flush();
        }
        Flush();
        return new UsageImportResult { Path = Path.GetFullPath(path), Rows = rows, Inserted = inserted, Duplicates = duplicates, Rejected = refused };
    }
}
