using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// The append-only ledger of a customer: each invoice finalized, credit applied, payment, credit
/// note, void, grant and removal, with who wrote it, when, and why. Oldest first.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BillingLedger", DefaultParameterSetName = "Customer")]
[OutputType(typeof(BillingLedgerEntry))]
public sealed class GetBillingLedgerCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    [Parameter]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>Only the entries of this invoice.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.InvoiceIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string? InvoiceId { get; set; }

    /// <summary>Only entries of these kinds.</summary>
    [Parameter]
    public LedgerEntryKind[]? Kind { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                var invoice = MyInvocation.BoundParameters.ContainsKey(nameof(InvoiceId)) ? Engine.Accounts.CustomerAccounts.InvoiceId(InvoiceId) : null;
                var entries = Accounts.Ledger(CustomerOrAll(given, AllCustomers))
                    .Where(e => invoice is null || string.Equals(e.InvoiceId, invoice, StringComparison.Ordinal) || string.Equals(e.InvoiceNumber, invoice, StringComparison.Ordinal))
                    .Where(e => Kind is not { Length: > 0 } || Kind.Contains(e.Kind));
                WriteObject(entries, enumerateCollection: true);
            });
    }
}
