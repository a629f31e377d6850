using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Invoices of a customer, or one by id.</summary>
[Cmdlet(VerbsCommon.Get, "BillingInvoice", DefaultParameterSetName = CustomerSet)]
[OutputType(typeof(BillingInvoice))]
public sealed class GetBillingInvoiceCommand : BillingCmdlet
{
    private const string CustomerSet = "Customer";
    private const string IdSet = "Id";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    public string[] InvoiceId { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = CustomerSet, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    [Parameter(ParameterSetName = CustomerSet)]
    public SwitchParameter AllCustomers { get; set; }

    [Parameter(ParameterSetName = CustomerSet)]
    public InvoiceStatus[]? Status { get; set; }

    /// <summary>Only open invoices past their due date that still owe something (for collections).</summary>
    [Parameter(ParameterSetName = CustomerSet)]
    public SwitchParameter Overdue { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            foreach (var id in InvoiceId)
                Try(() => WriteObject(Store.GetInvoice(id)
                    ?? throw new UsageException(ErrorIds.InvoiceNotFound, UsageErrorKind.ObjectNotFound, $"Invoice '{id}' does not exist.", id)));
            return;
        }
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                var invoices = Store.GetInvoices(CustomerOrAll(given, AllCustomers));
                var accounts = Accounts;
                WriteObject(invoices.Where(i => (Status is not { Length: > 0 } || Status.Contains(i.Status)) && (!Overdue || accounts.IsOverdue(i))), enumerateCollection: true);
            });
    }
}
