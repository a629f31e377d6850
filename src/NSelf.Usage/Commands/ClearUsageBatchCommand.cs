using System.Management.Automation;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Ends batch mode and cleans the spool up (bash: usage_cleanup_batch): delivers what is pending,
/// then removes the spool's files. Files that could not be delivered are kept unless -Discard,
/// which drops pending events and set-aside (quarantined) files without delivering them.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "UsageBatch", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UsageBatchResult))]
public sealed class ClearUsageBatchCommand : BatchCmdlet
{
    /// <summary>Drop pending events instead of delivering them, and the quarantine folder with them.</summary>
    [Parameter]
    public SwitchParameter Discard { get; set; }

    /// <summary>Discard without the extra question -Discard asks (for scripts).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private protected override void Finish() => Try(() =>
    {
        var spool = Session.CurrentSpool();
        if (!Discard)
        {
            if (!ShouldProcess(spool.StoreDescription, $"Deliver and remove the spool {spool.Directory}"))
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
        if (!ShouldProcess(spool.StoreDescription, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Discard {pending + own:N0} pending event(s) in {files} spool file(s) and {spool.QuarantinedFiles()} quarantined file(s), without delivering them")))
            return;
        // Delivering is routine, dropping events is not: -Discard asks once more unless -Force,
        // whatever $ConfirmPreference says (the catalog's "High impact" for this switch only).
        if (!Force && !ShouldContinue(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"Drop {pending + own:N0} pending event(s) for {spool.StoreDescription} without storing them? They cannot be recovered."), "Discard the spool"))
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
