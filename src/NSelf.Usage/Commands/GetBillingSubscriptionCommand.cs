using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>A customer's subscription (bash: billing_get_subscription), its period rolled forward to now.</summary>
[Cmdlet(VerbsCommon.Get, "BillingSubscription")]
[OutputType(typeof(BillingSubscription))]
public sealed class GetBillingSubscriptionCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    [Parameter]
    public SwitchParameter AllCustomers { get; set; }

    /// <summary>Include canceled and ended subscriptions.</summary>
    [Parameter]
    public SwitchParameter IncludeEnded { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Try(() =>
            {
                var customer = CustomerOrAll(given, AllCustomers);
                var book = Book;
                foreach (var subscription in Store.GetSubscriptions(customer, IncludeEnded))
                {
                    var rolled = book.RollForward(subscription);
                    if (IncludeEnded || Engine.Billing.SubscriptionRules.IsLive(rolled.Status))
                        WriteObject(rolled);
                }
            });
    }
}
