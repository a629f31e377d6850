using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Removes a billing customer (bash: billing_delete_customer). nself's soft delete: the customer
/// is marked removed, its usage stays for billing history, and new usage for it is refused.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "BillingCustomer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BillingCustomer))]
public sealed class RemoveBillingCustomerCommand : UsageCmdlet
{
    // By value too: plain id strings pipe in ('cus_a', 'cus_b' | Remove-BillingCustomer).
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string CustomerId { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = TextRules.CustomerId(CustomerId);
            if (!ShouldProcess(id, "Remove billing customer (its usage history is kept)"))
                return;
            var removed = Store.RemoveCustomer(id);
            if (PassThru)
                WriteObject(removed);
        });
    }
}
