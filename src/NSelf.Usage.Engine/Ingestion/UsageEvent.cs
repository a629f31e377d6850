namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// A validated usage event, ready for a store. Only <see cref="UsageEventFactory"/> makes them,
/// so a store can trust every field.
/// </summary>
public sealed record UsageEvent(
    string EventId,
    string CustomerId,
    string Service,
    string Unit,
    decimal Quantity,
    DateTimeOffset Timestamp,
    string Metadata);

/// <summary>What a store did with a batch of events.</summary>
public sealed record IngestResult(int Inserted, int Duplicates, IReadOnlyList<RejectedEvent> Rejected, DateTimeOffset RecordedAt)
{
    public static IngestResult Empty(DateTimeOffset at) => new(0, 0, Array.Empty<RejectedEvent>(), at);
}

/// <summary>An event a store refused (for example, its customer was removed), with the reason.</summary>
public sealed record RejectedEvent(UsageEvent Event, UsageException Reason);
