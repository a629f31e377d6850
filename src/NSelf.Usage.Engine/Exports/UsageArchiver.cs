using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Move-UsageRecord: old events to a file, then out of the store, with no moment where an event
/// is in neither. The file is written under a temporary name, flushed to disk and renamed; then
/// read back and verified (every row parses, the count matches, the SHA-256 is recomputed); only
/// then are exactly the events it holds deleted, in one transaction that also leaves their
/// tombstones. A crash or a kill at any point leaves every event in the store, in a verified
/// archive, or (between the rename and the commit) in both.
/// </summary>
public sealed class UsageArchiver
{
    private readonly IUsageStore _store;

    public UsageArchiver(IUsageStore store) => _store = store;

    /// <summary>The events an archive would move (what -WhatIf reports).</summary>
    public long Count(UsageFilter filter, DateTimeOffset cutoff) => _store.CountRecords(new RecordQuery(filter, null, cutoff));

    /// <param name="format">CSV or JSON; by default what the file name says (.gz compresses either).</param>
    public UsageArchiveResult Archive(UsageFilter filter, DateTimeOffset cutoff, string path, Action<string, long>? progress = null, UsageFileFormat? format = null)
    {
        if (File.Exists(path))
            throw new UsageException(ErrorIds.FileExists, UsageErrorKind.ResourceExists, $"{path} already exists; an archive never replaces a file.", path);
        var fileFormat = format ?? UsageFile.FormatOf(path);
        long written = 0;
        var file = OutputFile.Write(path, stream =>
            written = UsageFile.WriteFile(_store.ReadRecords(new RecordQuery(filter, null, cutoff, Bulk: true)), fileFormat, UsageFile.IsCompressed(path), stream, n => progress?.Invoke("Writing", n)),
            force: false);
        var checksum = UsageFile.Checksum(path);

        // Verify what is on disk, not what was meant to be written, and collect exactly its events.
        var keys = new List<(string, string)>((int)Math.Min(written, int.MaxValue));
        foreach (var row in UsageFile.ReadFile(path))
            {
                keys.Add((row.CustomerId, row.EventId));
                if (keys.Count % 10_000 == 0)
                    progress?.Invoke("Verifying", keys.Count);
            }
        if (keys.Count != written || UsageFile.Checksum(path) != checksum)
            throw new UsageException(ErrorIds.ArchiveMismatch, UsageErrorKind.InvalidData,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The archive {path} did not read back as written ({keys.Count:N0} of {written:N0} rows); nothing was deleted."), path);

        progress?.Invoke("Deleting", keys.Count);
        var deleted = keys.Count == 0 ? 0 : _store.ArchiveRecords(keys, path, checksum, cutoff, filter.CustomerId);
        return new UsageArchiveResult
        {
            Path = file.FullName,
            Rows = written,
            Bytes = new FileInfo(path).Length,
            Checksum = checksum,
            Cutoff = cutoff,
            CustomerId = filter.CustomerId,
            Deleted = deleted,
        };
    }
}
