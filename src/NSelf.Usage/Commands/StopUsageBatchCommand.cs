using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Delivers what is spooled and leaves batch mode: tracking stores directly again.</summary>
[Cmdlet(VerbsLifecycle.Stop, "UsageBatch", SupportsShouldProcess = true)]
[OutputType(typeof(UsageBatchResult))]
public sealed class StopUsageBatchCommand : BatchCmdlet
{
    protected override void EndProcessing() => Try(() =>
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
        var result = Session.StopBatch(TimeSpan.FromMinutes(5));
        if (result is not null)
            WriteObject(Report(result));
    });
}
