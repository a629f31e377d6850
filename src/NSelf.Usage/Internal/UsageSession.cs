using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Internal;

/// <summary>
/// The state of one runspace: its connected store, its tracker and its Set-UsageConfiguration
/// values. Kept per runspace (never in process-wide statics), so ForEach-Object -Parallel and
/// runspace pools each get their own connection and settings.
/// </summary>
internal sealed class UsageSession : IDisposable
{
    private static readonly ConditionalWeakTable<Runspace, UsageSession> Sessions = new();

    // Hosts without a default runspace (a bare PowerShell API call) share one fallback session.
    private static readonly Lazy<UsageSession> Fallback = new(() => new UsageSession());

    private readonly object _gate = new();
    private IUsageStore? _store;
    private StoreTarget? _storeTarget;
    private UsageTracker? _tracker;

    public static UsageSession Current
    {
        get
        {
            var runspace = Runspace.DefaultRunspace;
            if (runspace is null)
                return Fallback.Value;
            return Sessions.GetValue(runspace, r =>
            {
                var session = new UsageSession();
                r.StateChanged += (_, e) =>
                {
                    if (e.RunspaceStateInfo.State is RunspaceState.Closed or RunspaceState.Broken)
                        session.Dispose();
                };
                return session;
            });
        }
    }

    public static void CloseCurrent()
    {
        if (Runspace.DefaultRunspace is { } runspace && Sessions.TryGetValue(runspace, out var session))
            session.Dispose();
    }

    /// <summary>Whether this runspace has the module's views and extra members yet (ModuleViews).</summary>
    public bool ViewsLoaded { get; set; }

    public TimeProvider Time { get; } = TimeProvider.System;

    public EnvironmentSettings Environment => EnvironmentSettings.Process;

    /// <summary>The store chosen with Connect-UsageStore, if any.</summary>
    public StoreTarget? Connected { get; private set; }

    public string? CustomerId { get; set; }

    public string? TimeZone { get; set; }

    /// <summary>Unregistered services this session has already warned about: one warning each per session.</summary>
    public HashSet<string> WarnedUnregistered { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The store this session uses now: the connected one, else the environment's default.</summary>
    public StoreTarget CurrentTarget => Connected ?? StoreTarget.Default(Environment);

    /// <summary>
    /// The open store. The default store is re-resolved on every call, so a changed
    /// $env:NSELF_USAGE_STORE takes effect on the next command.
    /// </summary>
    public IUsageStore Store
    {
        get
        {
            var target = CurrentTarget;
            lock (_gate)
            {
                if (_store is not null && _storeTarget == target)
                    return _store;
                CloseStore();
                var store = UsageStores.Open(target, Time);
                _store = store;
                _storeTarget = target;
                _tracker = new UsageTracker(store, Time);
                return store;
            }
        }
    }

    public UsageTracker Tracker
    {
        get
        {
            _ = Store;
            return _tracker!;
        }
    }

    /// <summary>
    /// Opens a store for Connect-UsageStore; it becomes current only once it works and passes
    /// <paramref name="check"/> (which throws to refuse it).
    /// </summary>
    public IUsageStore Connect(StoreTarget target, Action<IUsageStore>? check = null)
    {
        var store = UsageStores.Open(target, Time);
        try
        {
            store.GetServices(refresh: true); // proves the store is reachable and migrated
            check?.Invoke(store);
        }
        catch
        {
            store.Dispose();
            throw;
        }
        lock (_gate)
        {
            CloseStore();
            Connected = target;
            _store = store;
            _storeTarget = target;
            _tracker = new UsageTracker(store, Time);
        }
        return store;
    }

    // ---------------------------------------------------------------- batch mode

    // Batches of every runspace, so process exit can deliver (or seal) them all.
    private static readonly HashSet<UsageBatch> OpenBatches = new();
    private static int _exitHooked;

    /// <summary>The batch of this session, when it is in batch mode.</summary>
    public UsageBatch? Batch { get; private set; }

    /// <summary>Enters batch mode for the current store, or changes the size and interval of the batch already running.</summary>
    public UsageBatch StartBatch(int size, TimeSpan interval)
    {
        lock (_gate)
        {
            if (Batch is { } running)
            {
                running.Size = size;
                running.FlushInterval = interval;
                return running;
            }
            var target = CurrentTarget;
            var location = Store.Location;
            var batch = new UsageBatch(target, location, Environment, () => UsageStores.Open(target, Time), Time, size, interval);
            Batch = batch;
            lock (OpenBatches)
                OpenBatches.Add(batch);
            if (Interlocked.Exchange(ref _exitHooked, 1) == 0)
                AppDomain.CurrentDomain.ProcessExit += (_, _) => CloseAllBatches();
            return batch;
        }
    }

    /// <summary>Leaves batch mode: delivers what is left and seals the spool.</summary>
    public DeliveryResult? StopBatch(TimeSpan deadline, bool skipDuringOutage = false, bool deliver = true)
    {
        UsageBatch? batch;
        lock (_gate)
        {
            batch = Batch;
            Batch = null;
        }
        if (batch is null)
            return null;
        lock (OpenBatches)
            OpenBatches.Remove(batch);
        return batch.Close(deadline, skipDuringOutage, deliver);
    }

    /// <summary>
    /// Carries batch mode over to the store that is current now, after Connect-UsageStore or
    /// Disconnect-UsageStore changed it: the old store's batch is closed, delivering its spool
    /// there (or leaving it for a later flush while that store is unreachable), and a batch with
    /// the same size and interval starts on the new store. Returns the new batch, or null when the
    /// session is not in batch mode or its batch is already on the current store.
    /// </summary>
    public UsageBatch? MoveBatchToCurrentStore()
    {
        if (Batch is not { } running || running.Target == CurrentTarget)
            return null;
        StopBatch(TimeSpan.FromSeconds(15), skipDuringOutage: true);
        return StartBatch(running.Size, running.FlushInterval);
    }

    /// <summary>The spool of the current store (whether or not this session is in batch mode).</summary>
    public Spool CurrentSpool() => Batch?.Spool ?? Spool.For(Environment, CurrentTarget, Store.Location);

    private static void CloseAllBatches()
    {
        UsageBatch[] batches;
        lock (OpenBatches)
        {
            batches = OpenBatches.ToArray();
            OpenBatches.Clear();
        }
        // At exit: one try each, without waiting on a store already known to be down.
        foreach (var batch in batches)
            batch.Close(TimeSpan.FromSeconds(10), skipDuringOutage: true);
    }

    public void Disconnect()
    {
        lock (_gate)
        {
            CloseStore();
            Connected = null;
        }
    }

    private void CloseStore()
    {
        _store?.Dispose();
        _store = null;
        _storeTarget = null;
        _tracker = null;
    }

    public void Dispose()
    {
        // A closing runspace delivers what it can, but does not wait on a store known to be down.
        StopBatch(TimeSpan.FromSeconds(15), skipDuringOutage: true);
        lock (_gate)
            CloseStore();
    }
}
