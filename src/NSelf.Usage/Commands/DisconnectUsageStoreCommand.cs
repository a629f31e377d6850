using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Closes the connected store; the session returns to its default store.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "UsageStore")]
[OutputType(typeof(void))]
public sealed class DisconnectUsageStoreCommand : UsageCmdlet
{
    private protected override void Finish()
    {
        Session.Disconnect();
        WriteVerbose("Disconnected. Commands now use the default store (NSELF_USAGE_STORE, BILLING_DB_*, or the embedded file).");
        if (Require(Session.MoveBatchToCurrentStore) is { } batch)
            WriteVerbose($"Batch mode now spools for {batch.StoreLocation}; what was spooled before went to the disconnected store.");
    }
}
