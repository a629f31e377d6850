using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>A customer's billing at a glance (bash: billing_get_summary).</summary>
[Cmdlet(VerbsCommon.Get, "BillingSummary")]
[OutputType(typeof(BillingSummary))]
public sealed class GetBillingSummaryCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; }

    protected override void ProcessRecord() =>
        Try(() => WriteObject(Invoicing.Summary(Customer(CustomerId), DefaultZone, Thresholds)));
}
