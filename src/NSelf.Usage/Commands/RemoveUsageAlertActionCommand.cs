using System.Management.Automation;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Removes an alert action; what it had not delivered yet is cancelled (delivered ones stay listed).</summary>
[Cmdlet(VerbsCommon.Remove, "UsageAlertAction", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveUsageAlertActionCommand : BillingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.AlertActionCompleter))]
    [AllowEmptyString, AllowNull]
    public string Name { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            if (!ShouldProcess(Name, "Remove the alert action and cancel its deliveries not yet made (this cannot be undone)"))
                return;
            new AlertActions(Store, Session.Time).Remove(Name);
            WriteVerbose($"Alert action '{Name}' removed from {Store.Location}.");
        });
    }
}
