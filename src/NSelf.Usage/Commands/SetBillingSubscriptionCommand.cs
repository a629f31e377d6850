using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Changes a customer's plan, or cancels the subscription now or at the end of the period.</summary>
[Cmdlet(VerbsCommon.Set, "BillingSubscription", SupportsShouldProcess = true, DefaultParameterSetName = PlanSet)]
[OutputType(typeof(BillingSubscription))]
public sealed class SetBillingSubscriptionCommand : BillingCmdlet
{
    private const string PlanSet = "Plan";
    private const string CancelSet = "Cancel";
    private const string ResumeSet = "Resume";

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    [Parameter(Mandatory = true, ParameterSetName = PlanSet)]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    public string Plan { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CancelSet)]
    public SwitchParameter Cancel { get; set; }

    /// <summary>With -Cancel: end at the end of the current period instead of now.</summary>
    [Parameter(ParameterSetName = CancelSet)]
    public SwitchParameter AtPeriodEnd { get; set; }

    /// <summary>Withdraw a cancellation at period end.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResumeSet)]
    public SwitchParameter Resume { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var customer = Customer(CustomerId);
            BillingSubscription result;
            switch (ParameterSetName)
            {
                case CancelSet:
                    if (!ShouldProcess(customer, AtPeriodEnd ? "Cancel the subscription at the end of its period" : "Cancel the subscription now"))
                        return;
                    result = Book.Cancel(customer, AtPeriodEnd);
                    break;
                case ResumeSet:
                    if (!ShouldProcess(customer, "Keep the subscription beyond its period"))
                        return;
                    result = Book.Cancel(customer, atPeriodEnd: false, resume: true);
                    break;
                default:
                    if (!ShouldProcess(customer, $"Change the plan to {Plan}"))
                        return;
                    result = Book.ChangePlan(customer, Plan);
                    break;
            }
            if (PassThru)
                WriteObject(result);
        });
    }
}
