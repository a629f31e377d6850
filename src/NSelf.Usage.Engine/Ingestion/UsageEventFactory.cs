using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// Builds validated <see cref="UsageEvent"/>s. Every write path (tracking commands, pipelines,
/// record strings, imports, batches) goes through here, so the rules are the same everywhere.
/// </summary>
public sealed class UsageEventFactory
{
    /// <summary>Events before this are refused: older usage is almost always a unit or clock mistake.</summary>
    public static readonly DateTimeOffset EarliestTimestamp = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>How far ahead of the clock an event may be (clock skew between hosts).</summary>
    public static readonly TimeSpan MaximumFutureSkew = TimeSpan.FromDays(1);

    private readonly ServiceCatalog _services;
    private readonly TimeProvider _time;

    public UsageEventFactory(ServiceCatalog services, TimeProvider time)
    {
        _services = services;
        _time = time;
    }

    public ServiceCatalog Services => _services;

    public UsageEvent Create(string customerId, string service, decimal quantity, DateTimeOffset? timestamp = null, string? eventId = null, string? metadataJson = null)
    {
        var known = _services.Find(service);
        var now = _time.GetUtcNow(); // read once: the clock is read per event, and reads are not free
        var when = timestamp is { } t ? CheckTimestamp(t, now) : Micros.Truncate(now);
        return new UsageEvent(
            eventId is null ? EventIds.New(now) : TextRules.EventId(eventId),
            TextRules.CustomerId(customerId),
            known.Name,
            known.Unit,
            Quantities.Validate(quantity),
            when,
            Metadata.Normalize(metadataJson));
    }

    private static DateTimeOffset CheckTimestamp(DateTimeOffset value, DateTimeOffset now)
    {
        var utc = Micros.Truncate(value.ToUniversalTime());
        var latest = now + MaximumFutureSkew;
        if (utc < EarliestTimestamp || utc > latest)
            throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Timestamp {utc:yyyy-MM-ddTHH:mm:ss.FFFFFFFZ} is outside the accepted range {EarliestTimestamp:yyyy-MM-dd} to one day after now."), value);
        return utc;
    }
}
