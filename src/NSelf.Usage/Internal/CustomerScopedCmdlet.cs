using System.Management.Automation;
using NSelf.Usage.Completion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of the commands that act for one customer or, with -AllCustomers, for every one:
/// -CustomerId and -AllCustomers declared once, with one reading of them (an empty bound value
/// is InvalidCustomerId; a missing one is the default customer; both at once is refused).
/// </summary>
/// <remarks>
/// -CustomerId starts as <see cref="UsageCmdlet.NotGivenCustomerId"/>, so a command that later
/// takes it from the pipeline by property name (issue 17) tells a piped object without a
/// CustomerId (the default customer) from one whose CustomerId is $null (an error): call
/// <see cref="Customer"/> or <see cref="CustomerFilter"/> per record, as they read the property.
/// </remarks>
public abstract class CustomerScopedCmdlet : UsageCmdlet
{
    /// <summary>The customer. Defaults to Set-UsageConfiguration, $env:NSELF_CUSTOMER_ID, then ./.env.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(CustomerIdCompleter))]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    /// <summary>Every customer instead of one.</summary>
    [Parameter]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>Whose usage and which services: one customer (the default one) or all.</summary>
    internal UsageFilter CustomerFilter(IEnumerable<string>? services = null) => Filter(CustomerId, AllCustomers, services);

    /// <summary>The one customer, or null for -AllCustomers.</summary>
    internal string? Customer() => CustomerFilter().CustomerId;
}
