using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Changes a customer's plan, or cancels the subscription now or at the end of the period.</summary>
/// <remarks>
/// ConfirmImpact is High for -Cancel, which ends what the customer pays for: it asks under the
/// default $ConfirmPreference, per customer piped in ("Yes to All" answers for the rest). Changing
/// the plan and resuming can be undone, so they ask only as a Medium-impact command would
/// (<see cref="UsageCmdlet.ShouldProcessAt"/>).
/// </remarks>
[Cmdlet(VerbsCommon.Set, "BillingSubscription", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = PlanSet)]
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
                    if (!ShouldProcessAt(ConfirmImpact.Medium, customer, "Keep the subscription beyond its period"))
                        return;
                    result = Book.Cancel(customer, atPeriodEnd: false, resume: true);
                    break;
                default:
                    if (!ShouldProcessAt(ConfirmImpact.Medium, customer, $"Change the plan to {Plan}"))
                        return;
                    result = Book.ChangePlan(customer, Plan);
                    break;
            }
            if (PassThru)
                WriteObject(result);
        });
    }
}
