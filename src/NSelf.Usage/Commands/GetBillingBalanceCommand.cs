using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// A customer's prepaid credit per currency, with each grant, what is left of it and when it
/// expires; summed from the ledger when asked, never kept as a total.
/// </summary>
[Cmdlet(VerbsCommon.Get, "BillingBalance")]
[OutputType(typeof(BillingBalance))]
public sealed class GetBillingBalanceCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    /// <summary>Only this currency.</summary>
    [Parameter]
    [AllowEmptyString, AllowNull]
    public string? Currency { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                var customer = Customer(given);
                var currency = MyInvocation.BoundParameters.ContainsKey(nameof(Currency)) ? Engine.Billing.Money.Currency(Currency ?? "") : null;
                var balances = Accounts.Balances(customer, DefaultZone)
                    .Where(b => currency is null || string.Equals(b.Currency, currency, StringComparison.OrdinalIgnoreCase));
                WriteObject(balances, enumerateCollection: true);
            });
    }
}
