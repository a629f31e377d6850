using System.Management.Automation;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Completion;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Internal;

/// <summary>
/// The shared half of the tracking commands: customer, time, event id, -PassThru, and a write
/// path that buffers pipeline input and stores it in bulk (one transaction per chunk, never a
/// round trip per object), flushing at the end of the pipeline or when input slows down.
/// A full chunk is written on a worker thread while PowerShell binds the next objects (at most
/// two chunks in flight, written in order of completion, each in its own transaction), so
/// parameter binding and the store work on separate cores.
/// In batch mode the events go to the session's spool instead, before the command returns, and
/// the batch's background flush delivers them.
/// </summary>
public abstract class TrackingCmdlet : UsageCmdlet
{
    // A writer: it takes registered services only (an unknown name is InvalidService).
    private protected override bool ReadsUnregisteredServices => false;

    // A stop waits for the chunks being written, each committed or rolled back whole (StopProcessing below).
    private protected override bool Stoppable => false;

    private const int ChunkSize = 5000;
    private static readonly TimeSpan MaximumHold = TimeSpan.FromSeconds(1);

    private readonly List<UsageEvent> _pending = new();
    private readonly List<TrackedQuantity> _measured = new(1);
    private long _oldestPending;
    // Two chunks written at once: a PostgreSQL server then works on one while the other's rows
    // cross the network, which brought a pipeline close to a raw COPY's rate (decision 53 and
    // bench/results.md have the figures). A SQLite store takes them one after the other. Each chunk is a transaction
    // of its own, exactly once by event id, so their order of commit does not matter.
    private const int MaximumInFlight = 2;
    // Concurrent: Ctrl+C (StopProcessing) reads it from another thread.
    private readonly System.Collections.Concurrent.ConcurrentQueue<Task<IngestResult>> _inFlight = new();
    // Events of this pipeline in the store (new or already there), for the message of a store failure.
    private long _stored;
    // What this command wrote, for its -Verbose summary.
    private long _inserted, _duplicates, _rejected, _chunks, _spooled;

    /// <summary>The customer the usage belongs to. Defaults to Set-UsageConfiguration, $env:NSELF_CUSTOMER_ID, then ./.env.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(CustomerIdCompleter))]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    /// <summary>When the usage happened. Defaults to now.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? Timestamp { get; set; }

    /// <summary>The idempotency key. The same id for the same customer is stored once, however often it is sent.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("event_id")]
    public string? EventId { get; set; }

    /// <summary>The zone of a -Timestamp string that has no offset (default UTC).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    /// <summary>Emit the stored UsageRecord.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    // Resolved once per command, not per pipeline object: the lookups read environment
    // variables, which costs more than validating an event.
    private UsageTracker? _tracker;
    private TimeZoneInfo? _zone;

    private UsageTracker Tracker
    {
        get
        {
            if (_tracker is null)
            {
                _tracker = Session.Tracker;
                NameStore(_tracker.Store);
            }
            return _tracker;
        }
    }

    private Engine.Tracking.UsageBatch? _batch;

    // The parameters given on the command line (bound before BeginProcessing); every other bound
    // value of a ProcessRecord came from the pipeline object, such as a cell of an Import-Csv row.
    private HashSet<string>? _givenOnCommandLine;
    // The pipeline object being processed (1 for the first), named by every refusal of it.
    private long _row;

    /// <summary>
    /// Whether a piped object's blank or $null CustomerId means "not given" (the default customer)
    /// rather than InvalidCustomerId. An explicit -CustomerId '' or $null is refused either way.
    /// </summary>
    private protected virtual bool BlankPipedCustomerIdIsNotGiven => false;

    protected override void BeginProcessing()
    {
        _givenOnCommandLine = new HashSet<string>(MyInvocation.BoundParameters.Keys, StringComparer.OrdinalIgnoreCase);
        _batch = Session.Batch;
        // A bad zone is refused up front, even when no -Timestamp needs it.
        if (TimeZone is not null)
            _zone = Require(() => ResolveZone(TimeZone));
    }

    protected override void ProcessRecord()
    {
        // Plain try/catch rather than Try(lambda): this runs once per pipeline object, and
        // closures here showed up as garbage-collection time in profiles.
        _measured.Clear();
        long row = 0;
        if (MyInvocation.ExpectingInput)
        {
            row = ++_row;
            ShapePipedRow();
        }
        try
        {
            Measure(_measured);
        }
        catch (UsageException e) when (!IsStoreFailure(e))
        {
            WriteUsageError(AtRow(e, row));
        }
        catch (UsageException e)
        {
            StoreFailed(e);
        }
        // Each event is validated on its own: one bad record is reported, the rest go in.
        foreach (var quantity in _measured)
        {
            try
            {
                Accept(quantity);
            }
            catch (UsageException e) when (!IsStoreFailure(e))
            {
                WriteUsageError(AtRow(e, row));
            }
            catch (UsageException e)
            {
                StoreFailed(e);
            }
        }
        if (_pending.Count > 0 && Session.Time.GetElapsedTime(_oldestPending) > MaximumHold)
            Flush();
    }

    /// <summary>
    /// A blank value (empty or white space) of an optional property of a piped object means "not
    /// given", as a missing property does: Import-Csv gives "" for an empty cell, and a file whose
    /// EventId or Timestamp column is filled in only for some rows is ordinary. So a blank
    /// CustomerId is the default customer, a blank EventId a new id, a blank Timestamp now (and a
    /// blank Metadata, which the metadata rules already read so, no metadata). Only piped values:
    /// an empty value typed on the command line is the caller's mistake, and is refused.
    /// </summary>
    private void ShapePipedRow()
    {
        if (PipedBlank(CustomerId, nameof(CustomerId)))
            CustomerId = null;
        if (PipedBlank(EventId, nameof(EventId)))
            EventId = null;
        if (PipedBlank(Timestamp, nameof(Timestamp)))
            Timestamp = null;
    }

    private bool PipedBlank(object? value, string parameter) =>
        value is not null && PowerShellValues.Unwrap(value) is string text && string.IsNullOrWhiteSpace(text) && !_givenOnCommandLine!.Contains(parameter);

    /// <summary>A refusal of a piped object names its place in the pipeline ("Row 17 of the pipeline: ...").</summary>
    private UsageException AtRow(UsageException e, long row)
    {
        if (row == 0)
            return e;
        var message = $"Row {row.ToString(System.Globalization.CultureInfo.InvariantCulture)} of the pipeline: {e.Message}";
        if (e.ErrorId is ErrorIds.InvalidTimestamp or ErrorIds.InvalidQuantity && WrittenByExportCsv(Timestamp))
            message += " The row looks like 'Get-UsageRecord | Export-Csv' output, which writes times and numbers in the session's culture and"
                + " drops microseconds, so it cannot be read back exactly: write usage files with Export-Usage and load them with Import-UsageRecord.";
        return new UsageException(e.ErrorId, e.Kind, message, e.Target, e);
    }

    // Export-Csv writes a DateTimeOffset with its ToString(): the culture's date and time, a space
    // and the offset ("15.01.2026 10:00:00 +00:00"), a form ISO 8601 never has.
    private static bool WrittenByExportCsv(object? timestamp) =>
        PowerShellValues.Unwrap(timestamp) is string text && System.Text.RegularExpressions.Regex.IsMatch(text, @"\s[+-][0-9]{2}:[0-9]{2}\z");

    private void Accept(TrackedQuantity measured)
    {
        var given = CustomerId;
        if (BlankPipedCustomerIdIsNotGiven && !_givenOnCommandLine!.Contains(nameof(CustomerId)) && string.IsNullOrWhiteSpace(given))
            given = NotGivenCustomerId;
        var customer = ResolveCustomerId(given);
        DateTimeOffset? when = Timestamp is null ? null : ToInstant(Timestamp, _zone ??= ResolveZone(TimeZone));
        UsageEvent usageEvent;
        try
        {
            usageEvent = _batch is { } batch
                ? batch.Create(customer, measured.Service, measured.Quantity, when, EventId, measured.Metadata)
                : Tracker.Create(customer, measured.Service, measured.Quantity, when, EventId, measured.Metadata);
        }
        catch (UsageException e) when (e.ErrorId == ErrorIds.InvalidTimestamp && Timestamp is not null)
        {
            // Name the value the caller gave, not its conversion to UTC.
            throw new UsageException(e.ErrorId, e.Kind, e.Message, PowerShellValues.Unwrap(Timestamp), e);
        }
        if (!ShouldProcess(usageEvent.CustomerId, $"Record {Quantities.Format(usageEvent.Quantity)} {usageEvent.Unit} of {usageEvent.Service}"))
            return;
        if (_pending.Count == 0)
            _oldestPending = Session.Time.GetTimestamp();
        _pending.Add(usageEvent);
        if (_pending.Count >= ChunkSize)
            Flush();
    }

    private protected override void Finish()
    {
        Flush(last: true);
        while (_inFlight.Count > 0)
            CompleteInFlight();
        if (_batch is { } batch)
            WriteVerbose($"Spooled {_spooled:N0} event(s) for {batch.StoreLocation}; the batch delivers them.");
        else
            WriteVerbose($"Stored {_inserted:N0} new event(s) in {_chunks:N0} write(s); {_duplicates:N0} were already stored, {_rejected:N0} refused.");
    }

    protected override void StopProcessing()
    {
        base.StopProcessing();
        // Ctrl+C: let the chunks being written commit or roll back, each as a whole.
        try { Task.WaitAll(_inFlight.ToArray()); }
        catch (AggregateException) { /* reported nowhere: the pipeline is stopping; a failed chunk was rolled back */ }
    }

    /// <summary>Waits for the oldest chunk being written and reports its outcome on the pipeline thread.</summary>
    private void CompleteInFlight()
    {
        if (!_inFlight.TryDequeue(out var task))
            return;
        try
        {
            Report(task.GetAwaiter().GetResult());
        }
        catch (UsageException e) when (!IsStoreFailure(e))
        {
            WriteUsageError(e);
        }
        catch (UsageException e)
        {
            StoreFailed(e);
        }
    }

    /// <summary>
    /// A failure of the store itself, not of one event, while objects are piped in: every later
    /// chunk would fail the same way. A direct call (no pipeline input) writes one chunk and keeps
    /// its one non-terminating error, so `Add-UsageApiRequest ... -ErrorAction SilentlyContinue`
    /// in an application still never stops it.
    /// </summary>
    private bool IsStoreFailure(UsageException e) =>
        _batch is null && MyInvocation.ExpectingInput && e.ErrorId is ErrorIds.StoreUnavailable or ErrorIds.StoreWriteFailed
            or ErrorIds.StoreReadFailed or ErrorIds.StoreSchemaMismatch or ErrorIds.AccessDenied;

    /// <summary>
    /// Ends the command at the first store failure with one terminating error, instead of one
    /// error per piped object (7,000 events into an unreachable store gave 7,000 errors). The
    /// chunks still being written finish first, committed or rolled back each as a whole, so the
    /// count of events stored is exact. In batch mode there is no store failure here: events go
    /// to the spool and the batch delivers them when the store is back.
    /// </summary>
    private void StoreFailed(UsageException e)
    {
        _pending.Clear();
        while (_inFlight.TryDequeue(out var task))
        {
            try
            {
                Report(task.GetAwaiter().GetResult());
            }
            catch (UsageException)
            {
                // Rolled back as a whole; the first failure is the one reported.
            }
        }
        var stored = _stored.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
        ThrowTerminatingError(new UsageException(e.ErrorId, e.Kind,
            $"{e.Message.TrimEnd()} The command stopped at this failure: {stored} of the piped events were stored before it; the rest were not.",
            e.Target, e).ToErrorRecord());
    }

    private void Report(IngestResult result)
    {
        _stored += result.Inserted + result.Duplicates;
        _inserted += result.Inserted;
        _duplicates += result.Duplicates;
        _rejected += result.Rejected.Count;
        _chunks++;
        foreach (var rejected in result.Rejected)
            WriteUsageError(rejected.Reason);
        if (result.Duplicates > 0)
            WriteVerbose($"{result.Duplicates} event(s) were already stored (same customer and event id) and were not counted again.");
    }

    private void Spool(Engine.Tracking.UsageBatch batch, UsageEvent[] events)
    {
        try
        {
            batch.Append(events);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            WriteUsageError(new UsageException(ErrorIds.StoreWriteFailed, UsageErrorKind.WriteError,
                $"Appending {events.Length} event(s) to the spool {batch.Spool.Directory} failed: {e.Message}", batch.Spool.Directory, e));
            return;
        }
        _spooled += events.Length;
        while (batch.TakeWarning() is { } warning)
            WriteWarning(warning);
        if (PassThru)
        {
            // Not stored yet: RecordedAt is when the event was spooled.
            var spooledAt = Now;
            foreach (var e in events)
                WriteObject(new UsageRecord
                {
                    EventId = e.EventId, CustomerId = e.CustomerId, Service = e.Service, Quantity = e.Quantity, Unit = e.Unit,
                    Timestamp = e.Timestamp, RecordedAt = spooledAt, Metadata = e.Metadata,
                });
        }
    }

    /// <summary>Adds the quantities this pipeline object records (usually one).</summary>
    internal abstract void Measure(ICollection<TrackedQuantity> measured);

    /// <param name="last">The end of the pipeline: nothing more to bind, so the chunk is written on
    /// this thread (a worker thread only pays off while PowerShell binds the next objects; for a
    /// single call the hand-off cost more than the write).</param>
    private void Flush(bool last = false)
    {
        if (_pending.Count == 0)
            return;
        var events = _pending.ToArray();
        _pending.Clear();
        if (_batch is { } batch)
        {
            Spool(batch, events);
            return;
        }
        // The last chunk, and every chunk with -PassThru, is written here after those in flight.
        while (_inFlight.Count >= (last || PassThru ? 1 : MaximumInFlight))
            CompleteInFlight();
        var tracker = Tracker;
        if (!PassThru && !last)
        {
            _inFlight.Enqueue(Task.Run(() => tracker.Write(events)));
            return;
        }
        try
        {
            Report(tracker.Write(events));
            if (PassThru)
                foreach (var group in events.GroupBy(e => e.CustomerId))
                {
                    var stored = Tracker.Store.FindRecords(group.Key, group.Select(e => e.EventId).ToList()).ToDictionary(r => r.EventId);
                    foreach (var e in group)
                        if (stored.TryGetValue(e.EventId, out var record))
                            WriteObject(record);
                }
        }
        catch (UsageException e) when (!IsStoreFailure(e))
        {
            WriteUsageError(e);
        }
        catch (UsageException e)
        {
            StoreFailed(e);
        }
    }
}
