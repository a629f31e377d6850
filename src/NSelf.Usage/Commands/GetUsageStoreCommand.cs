using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The store this session uses: backend, location (no secrets) and schema version.</summary>
[Cmdlet(VerbsCommon.Get, "UsageStore")]
[OutputType(typeof(UsageStore))]
public sealed class GetUsageStoreCommand : UsageCmdlet
{
    private protected override void Finish()
    {
        var source = Session.CurrentTarget.Source;
        WriteObject(Require(() => StoreInfo.Describe(Store, source)));
    }
}
