using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Engine.Tracking;

/// <summary>
/// Validates and writes events for one session. A service unknown to the cached catalog is
/// looked up again once (another session may just have registered it) before it is refused.
/// </summary>
public sealed class UsageTracker
{
    private static readonly TimeSpan RefreshPause = TimeSpan.FromSeconds(2);

    private readonly IUsageStore _store;
    private readonly TimeProvider _time;
    private UsageEventFactory? _factory;
    private long _lastRefresh;

    public UsageTracker(IUsageStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    public IUsageStore Store => _store;

    public UsageEvent Create(string customerId, string service, decimal quantity, DateTimeOffset? timestamp = null, string? eventId = null, string? metadata = null)
    {
        _factory ??= new UsageEventFactory(_store.GetServices(), _time);
        if (!_factory.Services.TryFind(service, out _) && _time.GetElapsedTime(_lastRefresh) > RefreshPause)
        {
            _lastRefresh = _time.GetTimestamp();
            _factory = new UsageEventFactory(_store.GetServices(refresh: true), _time);
        }
        return _factory.Create(customerId, service, quantity, timestamp, eventId, metadata);
    }

    public IngestResult Write(IReadOnlyList<UsageEvent> events) => _store.Ingest(events);

    /// <summary>Forgets the cached catalog, after Register-UsageService.</summary>
    public void ServicesChanged() => _factory = null;
}
