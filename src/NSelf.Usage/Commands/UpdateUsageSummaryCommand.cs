using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Refreshes the summaries other tools read (bash: usage_refresh_summary): nself's
/// billing_usage_daily_summary view on PostgreSQL. This module's own reports never wait for it:
/// they read rollups that are current on every write.
/// </summary>
[Cmdlet(VerbsData.Update, "UsageSummary", SupportsShouldProcess = true)]
[OutputType(typeof(UsageSummaryRefresh))]
public sealed class UpdateUsageSummaryCommand : UsageCmdlet
{
    private protected override void Finish()
    {
        var store = Require(() => Store);
        if (!ShouldProcess(store.Location, "Refresh usage summaries"))
            return;
        WriteObject(Require(() => store.RefreshSummaries()));
    }
}
