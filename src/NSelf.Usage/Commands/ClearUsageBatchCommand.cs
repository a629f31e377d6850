using System.Management.Automation;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Ends batch mode and cleans the spool up (bash: usage_cleanup_batch): delivers what is pending,
/// then removes the spool's files. Files that could not be delivered are kept unless -Discard,
/// which drops pending events and set-aside (quarantined) files without delivering them.
/// </summary>
/// <remarks>
/// ConfirmImpact is High for -Discard, which loses events for good: it asks under the default
/// $ConfirmPreference unless -Force or -Confirm:$false. Delivering loses nothing, so without
/// -Discard the command asks only as a Medium-impact command would (<see cref="UsageCmdlet.ShouldProcessAt"/>).
/// </remarks>
[Cmdlet(VerbsCommon.Clear, "UsageBatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(UsageBatchResult))]
public sealed class ClearUsageBatchCommand : BatchCmdlet
{
    /// <summary>Drop pending events instead of delivering them, and the quarantine folder with them.</summary>
    [Parameter]
    public SwitchParameter Discard { get; set; }

    /// <summary>Discard without the question -Discard asks (for scripts); -Confirm still asks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private protected override void Finish() => Try(() =>
    {
        var spool = Session.CurrentSpool();
        if (!Discard)
        {
            if (!ShouldProcessAt(ConfirmImpact.Medium, spool.StoreDescription, $"Deliver and remove the spool {spool.Directory}"))
                return;
            var stopped = Session.StopBatch(TimeSpan.FromMinutes(5));
            var result = stopped is null ? Flush() : Report(stopped);
            if (result.Error is null)
                spool.RemoveIfEmpty();
            WriteObject(result);
            return;
        }
        var (pending, files, _) = spool.Summarize();
        var own = Session.Batch?.Unsealed ?? 0;
        var discard = string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"Discard {pending + own:N0} pending event(s) in {files} spool file(s) and {spool.QuarantinedFiles()} quarantined file(s), without delivering them (they cannot be recovered)");
        // High impact: asks unless -Force (the scripts' switch) or -Confirm:$false; -Confirm or -WhatIf always apply.
        if (!(Force ? ShouldProcessAt(ConfirmImpact.None, spool.StoreDescription, discard) : ShouldProcess(spool.StoreDescription, discard)))
            return;
        // Not delivering, but waiting (a while) for a background delivery already under way, so
        // its segment is unlocked and discarded rather than kept.
        Session.StopBatch(TimeSpan.FromSeconds(30), skipDuringOutage: true, deliver: false);
        var (discarded, kept) = spool.Discard();
        if (kept > 0)
            WriteWarning($"{kept} spool file(s) are being written by other sessions and were kept.");
        WriteVerbose(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Discarded {discarded:N0} pending event(s)."));
        WriteObject(new UsageBatchResult { Submitted = 0, Duplicates = 0, Failed = 0, Pending = spool.Summarize().Pending, SpoolFiles = kept, Duration = TimeSpan.Zero });
    });
}
