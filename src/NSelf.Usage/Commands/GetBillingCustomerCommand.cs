using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Billing customers of the store (bash: billing_get_customer).</summary>
[Cmdlet(VerbsCommon.Get, "BillingCustomer")]
[OutputType(typeof(BillingCustomer))]
public sealed class GetBillingCustomerCommand : UsageCmdlet
{
    // By value too: plain id strings pipe in ('cus_a', 'cus_b' | Get-BillingCustomer).
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGiven;

    // "Not given" (every customer), told apart from a given $null or empty list by reference; see
    // UsageCmdlet.NotGivenCustomerId for why a sentinel rather than MyInvocation.BoundParameters.
    private static readonly string[] NotGiven = { NotGivenCustomerId };

    /// <summary>Include customers removed with Remove-BillingCustomer.</summary>
    [Parameter]
    public SwitchParameter IncludeRemoved { get; set; }

    protected override void ProcessRecord()
    {
        if (ReferenceEquals(CustomerId, NotGiven))
        {
            WriteObject(Require(() => Store.GetCustomers(IncludeRemoved)), enumerateCollection: true);
            return;
        }
        // Given as $null, @() or '' (an unset variable?): refused, not read as "every customer".
        if (CustomerId is not { Length: > 0 })
        {
            WriteUsageError(Engine.Configuration.CustomerIdResolver.Blank(null));
            return;
        }
        foreach (var id in CustomerId)
        {
            if (string.IsNullOrWhiteSpace(id))
            {
                WriteUsageError(Engine.Configuration.CustomerIdResolver.Blank(id));
                continue;
            }
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
