using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Credit notes of a customer or of an invoice, or one by id or number, oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "BillingCreditNote", DefaultParameterSetName = CustomerSet)]
[OutputType(typeof(BillingCreditNote))]
public sealed class GetBillingCreditNoteCommand : BillingCmdlet
{
    private const string CustomerSet = "Customer";
    private const string IdSet = "Id";

    /// <summary>The credit note's id or number.</summary>
    [ArgumentCompleter(typeof(Completion.CreditNoteCompleter))]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = IdSet, ValueFromPipelineByPropertyName = true)]
    [Alias("CreditNoteNumber")]
    public string[] CreditNoteId { get; set; } = Array.Empty<string>();

    [Parameter(ParameterSetName = CustomerSet, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    [Parameter(ParameterSetName = CustomerSet)]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>Only the credit notes of this invoice (its id or number).</summary>
    [Parameter(ParameterSetName = CustomerSet)]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string? InvoiceId { get; set; }

    protected override void ProcessRecord()
    {
        if (ParameterSetName == IdSet)
        {
            foreach (var id in CreditNoteId)
                Try(() => WriteObject(Accounts.FindCreditNote(id)));
            return;
        }
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                var invoice = MyInvocation.BoundParameters.ContainsKey(nameof(InvoiceId)) ? Engine.Accounts.CustomerAccounts.InvoiceId(InvoiceId) : null;
                // An invoice names its customer: -InvoiceId alone does not need one.
                var customer = invoice is not null && ReferenceEquals(given, NotGivenCustomerId) && !AllCustomers ? null : CustomerOrAll(given, AllCustomers);
                WriteObject(Store.GetCreditNotes(customer, invoice), enumerateCollection: true);
            });
    }
}
