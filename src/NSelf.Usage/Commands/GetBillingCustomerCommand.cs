using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Billing customers of the store (bash: billing_get_customer).</summary>
[Cmdlet(VerbsCommon.Get, "BillingCustomer")]
[OutputType(typeof(BillingCustomer))]
public sealed class GetBillingCustomerCommand : UsageCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; }

    /// <summary>Include customers removed with Remove-BillingCustomer.</summary>
    [Parameter]
    public SwitchParameter IncludeRemoved { get; set; }

    protected override void ProcessRecord()
    {
        if (CustomerId is not { Length: > 0 })
        {
            WriteObject(Require(() => Store.GetCustomers(IncludeRemoved)), enumerateCollection: true);
            return;
        }
        foreach (var id in CustomerId)
        {
            if (WildcardPattern.ContainsWildcardCharacters(id))
            {
                var pattern = new WildcardPattern(id, WildcardOptions.IgnoreCase);
                WriteObject(Require(() => Store.GetCustomers(IncludeRemoved)).Where(c => pattern.IsMatch(c.CustomerId)), enumerateCollection: true);
                continue;
            }
            Try(() =>
            {
                var customer = Store.GetCustomer(id, IncludeRemoved)
                    ?? throw new UsageException(ErrorIds.CustomerNotFound, UsageErrorKind.ObjectNotFound, $"Customer '{id}' does not exist{(IncludeRemoved ? "" : " (or was removed; add -IncludeRemoved to see removed customers)")}.", id);
                WriteObject(customer);
            });
        }
    }
}
