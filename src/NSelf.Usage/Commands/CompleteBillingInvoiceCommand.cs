using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Finalizes a draft invoice (bash: invoice_finalize): its lines are brought up to date, its status
/// becomes Open and its period is locked; usage arriving later for that period is billed on the
/// next invoice as an adjustment.
/// </summary>
[Cmdlet(VerbsLifecycle.Complete, "BillingInvoice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BillingInvoice))]
public sealed class CompleteBillingInvoiceCommand : BillingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    public string InvoiceId { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            if (!ShouldProcess(InvoiceId, "Finalize the invoice and lock its period"))
                return;
            WriteObject(Invoicing.Complete(InvoiceId, DefaultZone));
        });
    }
}
