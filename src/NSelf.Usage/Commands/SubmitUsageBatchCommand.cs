using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Delivers the spool now (bash: usage_batch_flush): this session's events and any left behind by
/// a crashed process or an outage. Works in or out of batch mode.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "UsageBatch", SupportsShouldProcess = true)]
[OutputType(typeof(UsageBatchResult))]
public sealed class SubmitUsageBatchCommand : BatchCmdlet
{
    private protected override void Finish() => Try(() =>
    {
        var spool = Session.CurrentSpool();
        if (!ShouldProcess(spool.StoreDescription, $"Deliver the spool {spool.Directory}"))
            return;
        WriteObject(Flush());
    });
}
