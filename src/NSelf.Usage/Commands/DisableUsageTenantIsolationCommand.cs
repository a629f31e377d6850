using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Turns tenant isolation off again (PostgreSQL): the role-keyed policies are dropped, so the
/// grants and the settings-based policies decide as before. The role-to-customer mappings stay,
/// so enabling again restores the same access.
/// </summary>
[Cmdlet(VerbsLifecycle.Disable, "UsageTenantIsolation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(UsageTenantIsolation))]
public sealed class DisableUsageTenantIsolationCommand : UsageCmdlet
{
    /// <summary>Emits the isolation state after disabling.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override void Finish()
    {
        var store = Require(() => Store);
        if (!ShouldProcess(store.Location, "Disable tenant isolation (every role gets the access its grants and session settings give it again)"))
            return;
        var state = Require(store.DisableTenantIsolation);
        if (PassThru)
            WriteObject(state);
    }
}
