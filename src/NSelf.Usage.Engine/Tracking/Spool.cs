using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Security.Cryptography;
using System.Text;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>
/// The spool of one store on this machine: a folder of append-only segment files, each written
/// by one session and delivered (then deleted) by whichever flush locks it first. A writer holds
/// an exclusive lock on its open segment for as long as it lives, so no flush delivers a segment
/// still being written; when its process dies the operating system drops the lock and the
/// segment becomes deliverable by any session or process.
/// </summary>
public sealed class Spool
{
    public const string Extension = ".spool";

    /// <summary>The spool of a store: one per store (backend, location and customer scope) on this machine.</summary>
    public static Spool For(Configuration.EnvironmentSettings environment, Configuration.StoreTarget target, string storeLocation) =>
        new(environment.CacheDirectory, $"{target.Backend}|{storeLocation}|{target.CustomerScope}", $"{target.Backend} {storeLocation}");

    /// <param name="cacheDirectory">BILLING_CACHE_DIR, or the user's data folder's cache.</param>
    /// <param name="storeKey">What identifies the store (backend and location, never a password).</param>
    public Spool(string cacheDirectory, string storeKey, string storeDescription)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(storeKey)), 0, 8).ToLowerInvariant();
        Directory = Path.Combine(Path.GetFullPath(cacheDirectory), "spool", hash);
        QuarantineDirectory = Path.Combine(Directory, "quarantine");
        StoreDescription = storeDescription;
    }

    public string Directory { get; }

    public string QuarantineDirectory { get; }

    public string StoreDescription { get; }

    /// <summary>Creates the folder (readable by this user only where the platform allows) and notes which store it is for.</summary>
    public void Prepare()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            if (OperatingSystem.IsWindows())
                System.IO.Directory.CreateDirectory(Directory);
            else
                System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var note = Path.Combine(Directory, "store.txt");
        if (!File.Exists(note))
            File.WriteAllText(note, StoreDescription + Environment.NewLine);
    }

    /// <summary>Segment files, oldest first (names start with their creation time).</summary>
    public IReadOnlyList<string> Segments() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*" + Extension).Order(StringComparer.Ordinal).ToList()
            : Array.Empty<string>();

    /// <summary>Pending events, segment files and the oldest spool time, over the segments no one holds locked.</summary>
    public (long Pending, int Files, DateTimeOffset? Oldest) Summarize()
    {
        long pending = 0;
        DateTimeOffset? oldest = null;
        var files = 0;
        foreach (var segment in Segments())
        {
            files++;
            var (events, first) = Peek(segment);
            pending += events;
            if (first is { } at && (oldest is null || at < oldest))
                oldest = at;
        }
        return (pending, files, oldest);
    }

    public int QuarantinedFiles() =>
        System.IO.Directory.Exists(QuarantineDirectory) ? System.IO.Directory.EnumerateFiles(QuarantineDirectory).Count() : 0;

    internal string NewSegmentPath(DateTimeOffset now) =>
        Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture,
            $"{now.UtcDateTime:yyyyMMddTHHmmssfffffff}-{Environment.ProcessId}-{Guid.NewGuid().ToString("n")[..8]}{Extension}"));

    /// <summary>Opens a segment for delivery with an exclusive lock; null when another session or process holds it, or it is gone.</summary>
    public static FileStream? TryLock(string segment)
    {
        try
        {
            return new FileStream(segment, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.SequentialScan);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (IOException) { return null; } // locked by its writer or by another flush
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Counts the intact events of a segment and finds when its first was spooled, reading only
    /// frame headers. A segment another session is still writing is locked and counts as none
    /// until it is sealed.
    /// </summary>
    public static (long Events, DateTimeOffset? Oldest) Peek(string segment)
    {
        try
        {
            using var stream = new FileStream(segment, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096);
            return Peek(stream);
        }
        catch (IOException) { return (0, null); }
        catch (UnauthorizedAccessException) { return (0, null); }
    }

    public static (long Events, DateTimeOffset? Oldest) Peek(FileStream stream)
    {
        Span<byte> header = stackalloc byte[SpoolFormat.FrameOverhead + 9];
        stream.Position = SpoolFormat.FileHeader.Length;
        long events = 0;
        DateTimeOffset? oldest = null;
        var length = stream.Length;
        while (stream.Position + SpoolFormat.FrameOverhead <= length)
        {
            var start = stream.Position;
            if (stream.Read(header) < SpoolFormat.FrameOverhead + 9 || !header[..4].SequenceEqual(SpoolFormat.Marker))
                break;
            var size = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (size > SpoolFormat.MaximumPayload || start + SpoolFormat.FrameOverhead + size > length)
                break;
            if (events == 0)
                oldest = Time.Micros.ToInstant(BinaryPrimitives.ReadInt64LittleEndian(header[(SpoolFormat.FrameOverhead + 1)..]));
            events++;
            stream.Position = start + SpoolFormat.FrameOverhead + size;
        }
        return (events, oldest);
    }

    /// <summary>
    /// Reads the intact events of a locked segment in order. Damaged bytes (a torn last write, or
    /// corruption) are skipped to the next intact frame and reported through <paramref name="damaged"/>
    /// (offset and bytes) so the caller can set them aside.
    /// </summary>
    public static IEnumerable<SpooledEvent> Read(FileStream stream, Action<long, byte[]> damaged)
    {
        stream.Position = 0;
        var length = checked((int)stream.Length);
        // A segment is read whole into a pooled buffer: a fresh one per flush would be a
        // large-object allocation each time, and garbage collections pause the tracking thread too.
        var data = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            stream.ReadExactly(data, 0, length);
            foreach (var spooled in ReadFrames(data.AsMemory(0, length), damaged))
                yield return spooled;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(data);
        }
    }

    private static IEnumerable<SpooledEvent> ReadFrames(ReadOnlyMemory<byte> data, Action<long, byte[]> damaged)
    {
        var header = SpoolFormat.FileHeader.Length;
        var at = data.Length >= header && data.Span[..header].SequenceEqual(SpoolFormat.FileHeader) ? header : 0;
        long badStart = -1;
        var repeated = new RepeatedStrings();
        while (at < data.Length)
        {
            if (TryFrame(data.Span, at, repeated, out var spooled, out var next))
            {
                if (badStart >= 0)
                {
                    damaged(badStart, data[(int)badStart..at].ToArray());
                    badStart = -1;
                }
                yield return spooled;
                at = next;
                continue;
            }
            // The unwritten rest of a segment whose writer died before sealing it (see SpoolWriter).
            if (data.Span[at..].IndexOfAnyExcept((byte)0) < 0)
                break;
            if (badStart < 0)
                badStart = at;
            // Resynchronise on the next marker.
            var found = data.Span[(at + 1)..].IndexOf(SpoolFormat.Marker);
            at = found < 0 ? data.Length : at + 1 + found;
        }
        if (badStart >= 0)
        {
            // Without the zeros of a mapping the writer never reached.
            var end = (int)badStart + data.Span[(int)badStart..at].LastIndexOfAnyExcept((byte)0) + 1;
            damaged(badStart, data[(int)badStart..end].ToArray());
        }
    }

    private static bool TryFrame(ReadOnlySpan<byte> data, int at, RepeatedStrings repeated, out SpooledEvent spooled, out int next)
    {
        spooled = default;
        next = at;
        if (at + SpoolFormat.FrameOverhead > data.Length || !data.Slice(at, 4).SequenceEqual(SpoolFormat.Marker))
            return false;
        var size = BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 4)..]);
        if (size > SpoolFormat.MaximumPayload || at + SpoolFormat.FrameOverhead + (long)size > data.Length)
            return false;
        var payload = data.Slice(at + SpoolFormat.FrameOverhead, (int)size);
        if (SpoolFormat.Checksum(payload) != BinaryPrimitives.ReadUInt32LittleEndian(data[(at + 8)..]) || !SpoolFormat.TryDecode(payload, repeated, out spooled))
            return false;
        next = at + SpoolFormat.FrameOverhead + (int)size;
        return true;
    }

    /// <summary>
    /// Drops the spool's pending events without delivering them (Clear-UsageBatch -Discard), and
    /// the quarantine folder with them. A segment another session holds locked (it is writing or
    /// delivering it) is kept: it is not ours to drop.
    /// </summary>
    /// <returns>The events dropped, and the segments kept because they were locked.</returns>
    public (long Discarded, int Kept) Discard()
    {
        long discarded = 0;
        var kept = 0;
        foreach (var segment in Segments())
        {
            using var locked = TryLock(segment);
            if (locked is null)
            {
                kept++;
                continue;
            }
            discarded += Peek(locked).Events;
            File.Delete(segment);
        }
        if (System.IO.Directory.Exists(QuarantineDirectory))
            System.IO.Directory.Delete(QuarantineDirectory, recursive: true);
        return (discarded, kept);
    }

    /// <summary>
    /// Removes what is left in the spool's folder (its lock and marker files) once it holds no
    /// segment and nothing quarantined; a spool with either is left as it is.
    /// </summary>
    /// <returns>Whether the folder was emptied.</returns>
    public bool RemoveIfEmpty()
    {
        if (!System.IO.Directory.Exists(Directory) || Segments().Count > 0 || QuarantinedFiles() > 0)
            return false;
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory))
            File.Delete(file);
        return true;
    }

    /// <summary>Sets damaged bytes aside in the quarantine folder; returns the file written.</summary>
    public string Quarantine(string segment, long offset, byte[] bytes, DateTimeOffset now)
    {
        System.IO.Directory.CreateDirectory(QuarantineDirectory);
        var path = Path.Combine(QuarantineDirectory, string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileNameWithoutExtension(segment)}.at-{offset}.{now.UtcDateTime:yyyyMMddTHHmmss}.damaged"));
        File.WriteAllBytes(path, bytes);
        return path;
    }

    /// <summary>Writes events the store refused, one JSON line each with the reason, beside the damaged bytes.</summary>
    public string QuarantineRejected(IReadOnlyList<RejectedEvent> rejected, DateTimeOffset now)
    {
        System.IO.Directory.CreateDirectory(QuarantineDirectory);
        var path = Path.Combine(QuarantineDirectory, string.Create(CultureInfo.InvariantCulture, $"rejected-{now.UtcDateTime:yyyyMMddTHHmmssfffffff}-{Environment.ProcessId}.jsonl"));
        using var writer = new StreamWriter(path, append: true, new UTF8Encoding(false));
        foreach (var r in rejected)
            writer.WriteLine(System.Text.Json.JsonSerializer.Serialize(new
            {
                errorId = r.Reason.ErrorId,
                reason = r.Reason.Message,
                eventId = r.Event.EventId,
                customerId = r.Event.CustomerId,
                service = r.Event.Service,
                quantity = r.Event.Quantity.ToString(CultureInfo.InvariantCulture),
                unit = r.Event.Unit,
                timestamp = r.Event.Timestamp.UtcDateTime.ToString("O", CultureInfo.InvariantCulture),
                metadata = r.Event.Metadata,
            }));
        return path;
    }
}

/// <summary>
/// The segment one session appends to. The file is mapped into memory and each append is a copy
/// into the mapping before the tracking command returns: the bytes are then in the operating
/// system's page cache, so a killed process loses nothing it reported as tracked, at the cost of
/// a memory copy rather than a system call per event (decision 44). The file's whole capacity is
/// allocated on disk when it is created, so a full disk is an error there and never a fault on a
/// later write through the mapping; the unwritten rest reads as zeros, which readers take as the
/// end. Sealing cuts the file to its data and flushes it to disk. The file is exclusively locked
/// while open.
/// </summary>
public sealed unsafe partial class SpoolWriter : IDisposable
{
    /// <summary>A segment's space: when an append does not fit, the segment is sealed and a new one started, so a long outage leaves many moderate files.</summary>
    public const int Capacity = 4 << 20;

    private readonly FileStream _stream;
    private readonly long _capacity;
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private byte* _base;

    /// <param name="minimumBytes">The frames the segment must hold at least (one append may exceed <see cref="Capacity"/>).</param>
    public SpoolWriter(Spool spool, DateTimeOffset now, int minimumBytes = 0)
    {
        spool.Prepare();
        Path = spool.NewSegmentPath(now);
        Started = now;
        _capacity = Math.Max(Capacity, (long)SpoolFormat.FileHeader.Length + minimumBytes);
        // FileShare.None takes an exclusive lock (flock on Unix) that flushes in other processes respect.
        // Read access as well as write: a read-write mapping needs both.
        _stream = new FileStream(Path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 0, PreallocationSize = _capacity,
        });
        try
        {
            _stream.Write(SpoolFormat.FileHeader);
            Bytes = SpoolFormat.FileHeader.Length;
            _stream.SetLength(_capacity);
            _map = MemoryMappedFile.CreateFromFile(_stream, mapName: null, _capacity, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, _capacity, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }
        catch
        {
            Unmap();
            _stream.Dispose();
            File.Delete(Path);
            throw;
        }
    }

    public string Path { get; }

    /// <summary>When the segment was started: its first event was spooled then or later.</summary>
    public DateTimeOffset Started { get; }

    public long Events { get; private set; }

    /// <summary>The bytes of data written (the file is longer while the segment is open).</summary>
    public long Bytes { get; private set; }

    /// <summary>Appends the frames of <paramref name="events"/> events; false, with nothing written, when they do not fit.</summary>
    public bool TryAppend(ReadOnlySpan<byte> frames, int events)
    {
        ObjectDisposedException.ThrowIf(_base is null, this);
        if (Bytes + frames.Length > _capacity)
            return false;
        if (Bytes + frames.Length > _populated)
            PopulateAhead(Bytes + frames.Length);
        frames.CopyTo(new Span<byte>(_base + Bytes, frames.Length));
        Bytes += frames.Length;
        Events += events;
        return true;
    }

    /// <summary>Bytes from the start of the mapping whose pages are known to be writable without a fault.</summary>
    private long _populated;

    // What one populate call makes writable ahead of the writer: 64 pages.
    private const int PopulateWindow = 256 << 10;

    /// <summary>
    /// Makes the pages up to a window past <paramref name="end"/> writable in one system call
    /// (Linux's MADV_POPULATE_WRITE), instead of one page fault per 4 KB page at the first copy into
    /// it: in a virtual machine each fault is a trip through the hypervisor, and they were a
    /// third of the time a tracking call spent spooling. The pages are the file's own (zeros
    /// until written), so this changes nothing on disk a reader could see. Where the call is
    /// missing (other systems, kernels before 5.14) the pages fault in as before.
    /// </summary>
    private void PopulateAhead(long end)
    {
        var from = _populated;
        _populated = Math.Min(_capacity, (end + PopulateWindow) & ~(long)(Environment.SystemPageSize - 1));
        if (!_populateSupported)
            return;
        try
        {
            if (Madvise((nint)(_base + from), (nuint)(_populated - from), 23 /* MADV_POPULATE_WRITE */) != 0)
                _populateSupported = false;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            _populateSupported = false;
        }
    }

    private static bool _populateSupported = OperatingSystem.IsLinux();

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);

    private void Unmap()
    {
        if (_view is { } view)
        {
            // On Linux the fsync in Seal writes the pages dirtied through the mapping, so the
            // mapping itself is not synced first: the accessor's own Dispose would msync all of
            // its 4 MB synchronously, a second disk flush per segment. Unmapping through the
            // handle first makes that Dispose skip it. Elsewhere the view is flushed, as Windows
            // asks before FlushFileBuffers.
            if (!OperatingSystem.IsLinux())
                view.Flush();
            if (_base is not null)
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            view.SafeMemoryMappedViewHandle.Dispose();
            view.Dispose();
        }
        _map?.Dispose();
        _view = null;
        _map = null;
        _base = null;
    }

    /// <summary>Cuts the segment to its data, flushes it to disk and releases it for delivery.</summary>
    public void Seal()
    {
        if (_map is null)
            return;
        try
        {
            Unmap();
            _stream.SetLength(Bytes);
            _stream.Flush(flushToDisk: true);
        }
        finally { _stream.Dispose(); }
    }

    public void Dispose() => Seal();
}
