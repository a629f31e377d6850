using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>A customer's billing at a glance (bash: billing_get_summary).</summary>
[Cmdlet(VerbsCommon.Get, "BillingSummary")]
[OutputType(typeof(BillingSummary))]
public sealed class GetBillingSummaryCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Summarize(given);
    }

    private void Summarize(string? given) =>
        Try(() =>
        {
            var summary = Invoicing.Summary(Customer(given), DefaultZone, Thresholds);
            if (summary.UnpricedServices.Count > 0)
                WriteWarning($"UsageCost leaves out {string.Join(", ", summary.UnpricedServices)}: plan '{summary.Plan}' bills in {summary.Currency} and "
                    + "has no quota pricing them, and their display prices are in another currency. An invoice would fail with CurrencyMismatch until Set-UsageQuota prices them.");
            WriteObject(summary);
        });
}
