using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Batch mode and the spool of the current store: pending events, the oldest, the last error.</summary>
[Cmdlet(VerbsCommon.Get, "UsageBatch")]
[OutputType(typeof(UsageBatchStatus))]
public sealed class GetUsageBatchCommand : BatchCmdlet
{
    private protected override void Finish() => Try(() =>
    {
        if (Session.Batch is { } batch)
        {
            WriteObject(batch.Status(active: true));
            return;
        }
        // Not in batch mode: what the spool of the current store holds (left by a crash or an outage).
        var spool = Session.CurrentSpool();
        var (pending, files, oldest) = spool.Summarize();
        WriteObject(new UsageBatchStatus
        {
            Active = false,
            Store = spool.StoreDescription,
            SpoolDirectory = spool.Directory,
            Size = Environment.BatchSize,
            FlushInterval = Environment.BatchTimeout,
            Pending = pending,
            SpoolFiles = files,
            OldestPending = oldest,
            Spooled = 0,
            Delivered = 0,
            Quarantined = spool.QuarantinedFiles(),
        });
    });
}
