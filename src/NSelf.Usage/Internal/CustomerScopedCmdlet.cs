using System.Management.Automation;
using NSelf.Usage.Completion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of the commands that act for one or more customers or, with -AllCustomers, for every
/// one: -CustomerId and -AllCustomers declared once, with one reading of them (an empty bound value
/// is InvalidCustomerId; a missing one is the default customer; both at once is refused).
/// </summary>
/// <remarks>
/// -CustomerId binds from the pipeline by property name (Get-BillingCustomer | Get-Usage) and
/// starts as <see cref="UsageCmdlet.NotGivenCustomerIds"/>, so a piped object whose CustomerId is
/// $null or empty is an error, never the default customer. (A piped object that binds no
/// parameter at all is refused by PowerShell itself, InputObjectNotBound.) A command reads
/// it per record, in ProcessRecord, through <see cref="ForEachCustomer"/>: each customer named is
/// one step, so one bad id is one error record and the other customers are still read.
/// </remarks>
public abstract class CustomerScopedCmdlet : UsageCmdlet
{
    /// <summary>The customers. Defaults to Set-UsageConfiguration, $env:NSELF_CUSTOMER_ID, then ./.env.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    /// <summary>Every customer instead of one.</summary>
    [Parameter]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>
    /// Runs <paramref name="read"/> once per customer of this record's -CustomerId (the default
    /// customer when not given, every customer with -AllCustomers), each as its own step.
    /// </summary>
    internal void ForEachCustomer(IEnumerable<string>? services, Action<UsageFilter> read)
    {
        foreach (var given in EachCustomerId(CustomerId))
            Try(() => read(Filter(given, AllCustomers, services)));
    }

    /// <summary>
    /// Whether this invocation may name more than one customer (a list, or customers piped in),
    /// so that a default output file name must carry the customer to be one file per customer.
    /// </summary>
    internal bool SeveralCustomers => MyInvocation.ExpectingInput || CustomerId is { Length: > 1 };
}
