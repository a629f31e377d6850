using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Move-UsageRecord: old events to a file, then out of the store, with no moment where an event
/// is in neither, and no archive left behind for events that were not moved. The file is written
/// under a temporary name and flushed to disk, then read back and verified under that name (every
/// row parses, the count matches, the SHA-256 is recomputed); only then is it moved into place
/// and exactly the events it holds deleted, in one transaction that also leaves their tombstones.
/// If anything fails or the move is stopped before that transaction commits, the file (temporary
/// or in place) is deleted and the store is unchanged.
/// A process killed outright (SIGKILL, a power cut) cannot clean up: killed while writing or
/// verifying, it leaves only a hidden temporary file (.name.pid.host.xxxxxxxx.partial), which
/// the next archive into that folder deletes; killed between the move into place and the commit
/// (the length of the delete transaction), it leaves an archive whose events are all still in the
/// store: importing it adds nothing, and the file can be deleted. No moment loses an event.
/// </summary>
public sealed class UsageArchiver
{
    private readonly IUsageStore _store;

    public UsageArchiver(IUsageStore store) => _store = store;

    /// <summary>The events an archive would move (what -WhatIf reports).</summary>
    public long Count(UsageFilter filter, DateTimeOffset cutoff) => _store.CountRecords(new RecordQuery(filter, null, cutoff));

    /// <param name="format">CSV or JSON; by default what the file name says (.gz compresses either).</param>
    /// <param name="cancel">Stops the move (Ctrl+C) at the next row written or verified, or before the delete.</param>
    public UsageArchiveResult Archive(UsageFilter filter, DateTimeOffset cutoff, string path, Action<string, long>? progress = null, UsageFileFormat? format = null,
        CancellationToken cancel = default)
    {
        if (File.Exists(path))
            throw new UsageException(ErrorIds.FileExists, UsageErrorKind.ResourceExists, $"{path} already exists; an archive never replaces a file.", path);
        var fileFormat = format ?? UsageFile.FormatOf(path);
        OutputFile.SweepAbandoned(Path.GetDirectoryName(Path.GetFullPath(path))!);
        long written = 0;
        var temporary = OutputFile.WriteTemporary(path, stream =>
            written = UsageFile.WriteFile(_store.ReadRecords(new RecordQuery(filter, null, cutoff, Bulk: true)), fileFormat, UsageFile.IsCompressed(path), stream,
                n => progress?.Invoke("Writing", n), cancel));
        var published = false;
        var settled = false; // the store committed (or had nothing to delete): the file is the archive
        try
        {
            var checksum = UsageFile.Checksum(temporary);

            // Verify what is on disk, not what was meant to be written, and collect exactly its events.
            var keys = new List<(string, string)>((int)Math.Min(written, int.MaxValue));
            foreach (var row in UsageFile.ReadFile(temporary))
            {
                keys.Add((row.CustomerId, row.EventId));
                if (keys.Count % 10_000 == 0)
                {
                    cancel.ThrowIfCancellationRequested();
                    progress?.Invoke("Verifying", keys.Count);
                }
            }
            if (keys.Count != written || UsageFile.Checksum(temporary) != checksum)
                throw new UsageException(ErrorIds.ArchiveMismatch, UsageErrorKind.InvalidData,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The archive {path} did not read back as written ({keys.Count:N0} of {written:N0} rows); nothing was deleted."), path);

            progress?.Invoke("Deleting", keys.Count);
            cancel.ThrowIfCancellationRequested();
            var file = OutputFile.Publish(temporary, path);
            published = true;
            long deleted = 0;
            if (keys.Count > 0)
            {
                try
                {
                    deleted = _store.ArchiveRecords(keys, path, checksum, cutoff, filter.CustomerId);
                }
                catch (Exception e) when (e is not OperationCanceledException && !StillStored(keys[0]))
                {
                    // The delete is one transaction: with its first event gone it committed (the
                    // connection failed after the commit), and the file is the only copy of its events.
                    settled = true;
                    throw;
                }
            }
            settled = true;
            return new UsageArchiveResult
            {
                Path = file.FullName,
                Rows = written,
                Bytes = file.Length,
                Checksum = checksum,
                Cutoff = cutoff,
                CustomerId = filter.CustomerId,
                Deleted = deleted,
            };
        }
        finally
        {
            // Not settled: the store still holds every event (a failure, a stop), so the file would
            // be an archive of events that were never moved.
            if (!settled)
                OutputFile.TryDelete(published ? path : temporary);
        }
    }

    /// <summary>Whether an event is still in the store; when that cannot be read, assume it is gone, so the archive is kept.</summary>
    private bool StillStored((string CustomerId, string EventId) key)
    {
        try
        {
            return _store.FindRecords(key.CustomerId, new[] { key.EventId }).Any();
        }
        catch (UsageException)
        {
            return false;
        }
    }
}
