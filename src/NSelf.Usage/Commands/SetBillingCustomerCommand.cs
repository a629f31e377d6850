using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Changes a billing customer's details (bash: billing_update_customer).</summary>
[Cmdlet(VerbsCommon.Set, "BillingCustomer", SupportsShouldProcess = true)]
[OutputType(typeof(BillingCustomer))]
public sealed class SetBillingCustomerCommand : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string CustomerId { get; set; } = "";

    [Parameter]
    public string? Name { get; set; }

    [Parameter]
    public string? Email { get; set; }

    [Parameter]
    public string? Company { get; set; }

    [Parameter]
    public string? ProjectName { get; set; }

    [Parameter]
    public string? StripeCustomerId { get; set; }

    /// <summary>Replaces the customer's metadata (a hashtable, an object or a JSON object string).</summary>
    [Parameter]
    public object? Metadata { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = TextRules.CustomerId(CustomerId);
            var fields = CustomerFields.From(this, Name, Email, Company, ProjectName, StripeCustomerId, Metadata);
            if (!ShouldProcess(id, "Update billing customer"))
                return;
            var updated = Store.UpdateCustomer(id, fields);
            if (PassThru)
                WriteObject(updated);
        });
    }
}
