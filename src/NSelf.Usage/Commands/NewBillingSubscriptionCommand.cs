using System.Management.Automation;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Subscribes a customer to a plan. A customer has at most one live subscription.</summary>
[Cmdlet(VerbsCommon.New, "BillingSubscription", SupportsShouldProcess = true)]
[OutputType(typeof(BillingSubscription))]
public sealed class NewBillingSubscriptionCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Plan { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public BillingCycle BillingCycle { get; set; } = BillingCycle.Monthly;

    /// <summary>When the subscription starts: the anchor its periods repeat from (default now).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? Start { get; set; }

    /// <summary>The customer's IANA zone: periods start at the anchor's wall-clock time there.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var customer = Customer(CustomerId);
            var zone = ResolveZone(TimeZone);
            DateTimeOffset? start = Start is null ? null : ToInstant(Start, zone);
            if (!ShouldProcess(customer, $"Subscribe to plan {Plan} ({BillingCycle})"))
                return;
            WriteObject(Book.Subscribe(customer, Plan, BillingCycle, start, TimeZones.DisplayId(zone)));
        });
    }
}
