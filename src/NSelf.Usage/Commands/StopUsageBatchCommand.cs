using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Delivers what is spooled and leaves batch mode: tracking stores directly again.</summary>
[Cmdlet(VerbsLifecycle.Stop, "UsageBatch", SupportsShouldProcess = true)]
[OutputType(typeof(UsageBatchResult))]
public sealed class StopUsageBatchCommand : BatchCmdlet
{
    private protected override void Finish() => Try(() =>
    {
        if (Session.Batch is not { } batch)
        {
            WriteVerbose("This session is not in batch mode; delivering any spool left for the current store.");
            if (ShouldProcess(Session.CurrentSpool().StoreDescription, "Deliver the spool"))
                WriteObject(Flush());
            return;
        }
        if (!ShouldProcess(batch.StoreLocation, "Deliver the spool and leave batch mode"))
            return;
        // No result when the last delivery ran out of time or hit a file error: try once more
        // directly, so the output says what is still pending.
        var result = Session.StopBatch(TimeSpan.FromMinutes(5));
        WriteObject(result is null ? Flush() : Report(result));
    });
}
