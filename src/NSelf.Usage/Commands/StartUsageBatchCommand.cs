using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Enters batch mode (bash: usage_init_batch): from now on this session's tracking commands append
/// to a durable local spool and return at once; a background flush delivers it to the store.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "UsageBatch", SupportsShouldProcess = true)]
[OutputType(typeof(UsageBatchStatus))]
public sealed class StartUsageBatchCommand : BatchCmdlet
{
    /// <summary>Events that start a flush (default $env:USAGE_BATCH_SIZE, else 1000).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, 1_000_000)]
    [PlainWholeNumber]
    public int? Size { get; set; }

    /// <summary>The longest an event waits before a flush starts: seconds or a TimeSpan (default $env:USAGE_BATCH_TIMEOUT, else 5 seconds).</summary>
    [Parameter(Position = 1)]
    public object? FlushInterval { get; set; }

    private protected override void Finish() => Try(() =>
    {
        var size = Size ?? Environment.BatchSize;
        var interval = FlushInterval is null ? Environment.BatchTimeout : ToInterval(FlushInterval);
        var location = Session.Batch?.StoreLocation ?? Store.Location;
        if (!ShouldProcess(location, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Spool tracked usage and deliver it every {size} events or {interval.TotalSeconds:0.###} seconds")))
            return;
        var batch = Session.StartBatch(size, interval);
        WriteObject(batch.Status(active: true));
    });
}
