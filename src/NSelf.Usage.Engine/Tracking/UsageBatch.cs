using System.Buffers;
using System.Text.Json;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>
/// Batch mode of one session: tracking appends to the spool and returns at once; a background
/// flush delivers the spool when <see cref="Size"/> events have gathered, every
/// <see cref="FlushInterval"/>, and on Submit, Stop and disposal. While the store is unreachable
/// events keep going into the spool; delivery resumes by itself when it is back, and the session
/// is warned once per outage. Nothing here touches the store on the caller's thread, so tracking
/// never waits for a network timeout.
/// </summary>
public sealed class UsageBatch : IDisposable
{
    private readonly StoreTarget _target;
    private readonly Func<IUsageStore> _openStore;
    private readonly TimeProvider _time;
    private readonly object _writeGate = new();
    private readonly SemaphoreSlim _flushGate = new(1, 1);
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _background;
    private SpoolWriter? _writer;
    private ArrayBufferWriter<byte> _frames = new(64 * 1024);
    private IUsageStore? _store;
    private UsageEventFactory _factory;
    private long _sinceFlush;
    private long _spooled;
    private long _delivered;
    private DateTimeOffset? _lastFlush;
    private UsageException? _outage;
    private bool _outageWarned;
    private long _lastCatalogRefresh;
    private readonly List<string> _warnings = new();
    // Set under the _warnings lock whenever a warning is due; read without it, so a tracking
    // call that has nothing to report never takes a lock (it is checked once per call).
    private volatile bool _warningDue;
    private bool _disposed;

    public UsageBatch(StoreTarget target, string storeLocation, EnvironmentSettings environment, Func<IUsageStore> openStore, TimeProvider time, int size, TimeSpan flushInterval)
    {
        _target = target;
        _openStore = openStore;
        _time = time;
        Size = size;
        FlushInterval = flushInterval;
        StoreLocation = storeLocation;
        Spool = Spool.For(environment, target, storeLocation);
        Spool.Prepare();
        _factory = new UsageEventFactory(CachedServices(), time);
        // A thread of its own, because it lowers its priority for its whole life (see FlushLoop).
        _background = Task.Factory.StartNew(FlushLoop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public Spool Spool { get; }

    /// <summary>The store this batch delivers to.</summary>
    public StoreTarget Target => _target;

    public string StoreLocation { get; }

    public int Size { get; set; }

    public TimeSpan FlushInterval { get; set; }

    /// <summary>Validates an event against the services known to the spool (no store round trip).</summary>
    public UsageEvent Create(string customerId, string service, decimal quantity, DateTimeOffset? timestamp, string? eventId, string? metadata)
    {
        if (!_factory.Services.TryFind(service, out _) && _outage is null && _time.GetElapsedTime(_lastCatalogRefresh) > TimeSpan.FromSeconds(2))
        {
            // Maybe registered since: ask the store once, unless it is known to be unreachable.
            _lastCatalogRefresh = _time.GetTimestamp();
            try { RememberServices(DeliveryStore().GetServices(refresh: true)); }
            catch (UsageException e) { NoteOutage(e); }
        }
        return _factory.Create(customerId, service, quantity, timestamp, eventId, metadata);
    }

    /// <summary>Appends events to this session's segment; they are on disk (in the OS) when this returns.</summary>
    public void Append(IReadOnlyList<UsageEvent> events)
    {
        if (events.Count == 0)
            return;
        bool wake;
        SpoolWriter? full = null;
        try
        {
            lock (_writeGate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var now = _time.GetUtcNow();
                _frames.ResetWrittenCount();
                foreach (var e in events)
                    SpoolFormat.Write(_frames, e, now);
                _writer ??= new SpoolWriter(Spool, now, _frames.WrittenCount);
                if (!_writer.TryAppend(_frames.WrittenSpan, events.Count))
                {
                    // The segment is full: it is sealed (outside the lock) and the events start a new one.
                    full = DetachWriter();
                    _writer = new SpoolWriter(Spool, now, _frames.WrittenCount);
                    _writer.TryAppend(_frames.WrittenSpan, events.Count);
                }
                if (_frames.Capacity > 4 << 20)
                    _frames = new ArrayBufferWriter<byte>(64 * 1024); // a big pipeline chunk's buffer is not kept
                _spooled += events.Count;
                _sinceFlush += events.Count;
                wake = _sinceFlush >= Size;
            }
        }
        finally
        {
            full?.Seal();
        }
        if (wake)
            _wake.Release();
    }

    /// <summary>The warning to show once per outage (on the caller's thread), if one is due.</summary>
    public string? TakeWarning()
    {
        if (!_warningDue)
            return null;
        lock (_warnings)
        {
            // Still due after this one: the queued warnings, less the one this call takes unless it takes the outage warning.
            _warningDue = _warnings.Count > (_outage is not null && !_outageWarned ? 0 : 1);
            if (_outage is { } outage && !_outageWarned)
            {
                _outageWarned = true;
                return $"The usage store {StoreLocation} is unreachable ({outage.Message}). Tracking goes on into the spool {Spool.Directory}; "
                    + "the events are delivered when the store is back (Get-UsageBatch shows what is pending).";
            }
            if (_warnings.Count == 0)
                return null;
            var next = _warnings[0];
            _warnings.RemoveAt(0);
            return next;
        }
    }

    /// <summary>
    /// Seals the open segment and delivers the spool (this session's and any other's left behind).
    /// The caller reports the result's warnings; only the background loop's are queued for the
    /// next tracking command, so none is written twice.
    /// </summary>
    public DeliveryResult Flush(CancellationToken cancel = default) => Flush(cancel, queueWarnings: false);

    private DeliveryResult Flush(CancellationToken cancel, bool queueWarnings)
    {
        _flushGate.Wait(cancel);
        try
        {
            SpoolWriter? sealing;
            lock (_writeGate)
            {
                sealing = DetachWriter();
                _sinceFlush = 0;
            }
            sealing?.Seal(); // the disk flush happens outside the lock: tracking goes on meanwhile
            DeliveryResult result;
            try
            {
                var store = DeliveryStore();
                result = SpoolDelivery.Deliver(Spool, store, _time, cancel);
                if (result.Error is null)
                    RememberServices(store.GetServices());
            }
            catch (UsageException e)
            {
                result = new DeliveryResult(0, 0, 0, 0, Spool.Segments().Count, null, TimeSpan.Zero, e, Array.Empty<string>());
            }
            Interlocked.Add(ref _delivered, result.Submitted + result.Duplicates);
            _lastFlush = _time.GetUtcNow();
            if (queueWarnings && result.Warnings.Count > 0)
                lock (_warnings)
                {
                    _warnings.AddRange(result.Warnings);
                    _warningDue = true;
                }
            if (result.Error is { } error)
                NoteOutage(error);
            else
                lock (_warnings)
                {
                    _outage = null;
                    _outageWarned = false;
                    _warningDue = _warnings.Count > 0;
                }
            return result;
        }
        finally
        {
            _flushGate.Release();
        }
    }

    /// <summary>Events in this session's open segment (not yet sealed for delivery).</summary>
    public long Unsealed
    {
        get
        {
            lock (_writeGate)
                return _writer?.Events ?? 0;
        }
    }

    public UsageBatchStatus Status(bool active)
    {
        long own;
        DateTimeOffset? ownOldest;
        lock (_writeGate)
            (own, ownOldest) = (_writer?.Events ?? 0, _writer?.Started);
        var (pending, files, oldest) = Spool.Summarize();
        if (ownOldest is { } started && (oldest is null || started < oldest))
            oldest = started;
        pending += own;
        return new UsageBatchStatus
        {
            Active = active,
            Store = Spool.StoreDescription,
            SpoolDirectory = Spool.Directory,
            Size = Size,
            FlushInterval = FlushInterval,
            Pending = pending,
            SpoolFiles = files,
            OldestPending = oldest,
            Spooled = Interlocked.Read(ref _spooled),
            Delivered = Interlocked.Read(ref _delivered),
            LastFlush = _lastFlush,
            LastError = _outage?.Message,
            Quarantined = Spool.QuarantinedFiles(),
        };
    }

    /// <summary>Takes the open segment away (under the write lock); the caller seals it.</summary>
    private SpoolWriter? DetachWriter()
    {
        var writer = _writer;
        _writer = null;
        return writer;
    }

    private void NoteOutage(UsageException error)
    {
        lock (_warnings)
        {
            if (_outage is null)
                _outageWarned = false;
            _outage = error;
            _warningDue = true;
        }
        // The next attempt opens the store afresh.
        var store = Interlocked.Exchange(ref _store, null);
        store?.Dispose();
    }

    private IUsageStore DeliveryStore() => _store ??= _openStore();

    // ---------------------------------------------------------------- services known offline

    private string CatalogPath => Path.Combine(Spool.Directory, "services.json");

    private ServiceCatalog CachedServices()
    {
        try
        {
            if (File.Exists(CatalogPath) && JsonSerializer.Deserialize<List<UsageService>>(File.ReadAllText(CatalogPath)) is { Count: > 0 } known)
                return new ServiceCatalog(known);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            // An unreadable cache is rebuilt from the store on the next successful flush.
        }
        return new ServiceCatalog(ServiceCatalog.BuiltIn);
    }

    private string? _catalogJson;
    private ServiceCatalog? _catalogSeen;

    private void RememberServices(ServiceCatalog catalog)
    {
        // The store hands back the same catalog until its services change: most flushes stop here.
        if (ReferenceEquals(catalog, _catalogSeen))
            return;
        _catalogSeen = catalog;
        var json = JsonSerializer.Serialize(catalog.All.OrderBy(s => s.Name, StringComparer.Ordinal).ToList());
        if (json == _catalogJson)
            return;
        _catalogJson = json;
        _factory = new UsageEventFactory(catalog, _time);
        try
        {
            var temporary = CatalogPath + $".{Environment.ProcessId}.tmp";
            File.WriteAllText(temporary, json);
            File.Move(temporary, CatalogPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Only the offline fallback is lost; tracking goes on.
        }
    }

    // ---------------------------------------------------------------- background

    private void FlushLoop()
    {
        // Delivery is catch-up work: where cores are scarce, the script that tracks comes first
        // and the spool holds what is not delivered yet (decision 49). Submit and Stop deliver on
        // the caller's thread, at its priority.
        BackgroundPriority.LowerCurrentThread();
        // Deliver what earlier sessions left behind (a crash, an outage) straight away.
        var first = true;
        while (!_stopping.IsCancellationRequested)
        {
            if (!first)
            {
                try { _wake.Wait(FlushInterval, _stopping.Token); }
                catch (OperationCanceledException) { return; }
                while (_wake.CurrentCount > 0)
                    _wake.Wait(0);
            }
            first = false;
            try { Flush(_stopping.Token, queueWarnings: true); }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                lock (_warnings)
                {
                    _warnings.Add($"Flushing the spool {Spool.Directory} failed: {e.Message}");
                    _warningDue = true;
                }
            }
        }
    }

    /// <summary>
    /// Stops the background flush, then delivers what is left (within <paramref name="deadline"/>).
    /// With <paramref name="skipDuringOutage"/> (process exit) a store already known to be
    /// unreachable is not tried again: the spool waits for the next session.
    /// </summary>
    public DeliveryResult? Close(TimeSpan deadline, bool skipDuringOutage = false, bool deliver = true)
    {
        if (_disposed)
            return null;
        _stopping.Cancel();
        try { _background.Wait(deadline); }
        catch (AggregateException) { /* it was stopping */ }
        DeliveryResult? result = null;
        try
        {
            if (!deliver || (skipDuringOutage && _outage is not null))
                throw new OperationCanceledException();
            using var timeout = new CancellationTokenSource(deadline);
            result = Flush(timeout.Token);
        }
        catch (OperationCanceledException) { /* the spool stays for the next flush */ }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* ditto */ }
        SpoolWriter? last;
        lock (_writeGate)
        {
            last = DetachWriter();
            _disposed = true;
        }
        last?.Seal();
        // A background delivery that outlived the deadline still uses the store: it is disposed
        // when that delivery ends, never under it.
        if (_background.IsCompleted)
            _store?.Dispose();
        else
            _background.ContinueWith(_ => _store?.Dispose(), TaskScheduler.Default);
        return result;
    }

    public void Dispose() => Close(TimeSpan.FromSeconds(15));
}
