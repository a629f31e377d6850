using System.Management.Automation;
using NSelf.Usage.Engine;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Creates a plan or changes one: its base fees, currency, names and whether it takes new subscriptions.</summary>
[Cmdlet(VerbsCommon.Set, "BillingPlan", SupportsShouldProcess = true)]
[OutputType(typeof(BillingPlan))]
public sealed class SetBillingPlanCommand : BillingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Plan")]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Name { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? DisplayName { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Description { get; set; }

    /// <summary>The base fee of a monthly period: a number, or plain invariant text such as '29.90'.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? PriceMonthly { get; set; }

    /// <summary>The base fee of a yearly period: a number, or plain invariant text such as '299.00'.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? PriceYearly { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Currency { get; set; }

    /// <summary>Whether new subscriptions to the plan are accepted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("IsActive")]
    public bool Active { get; set; } = true;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [PlainWholeNumber]
    public int SortOrder { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var name = Engine.Ingestion.TextRules.PlanName(Name);
            var existing = Store.GetPlan(name);
            var bound = MyInvocation.BoundParameters;
            Given<decimal>? Fee(string parameter, object? given) =>
                bound.ContainsKey(parameter) ? new Given<decimal>(PowerShellValues.Number(given, NumberKind.Money, parameter), PowerShellValues.Unwrap(given)) : null;
            var plan = PlanDefinition.Apply(name, existing, new PlanEdit
            {
                DisplayName = IfBound(nameof(DisplayName), () => DisplayName),
                Description = IfBound(nameof(Description), () => Description),
                PriceMonthly = Fee(nameof(PriceMonthly), PriceMonthly),
                PriceYearly = Fee(nameof(PriceYearly), PriceYearly),
                Currency = IfBound(nameof(Currency), () => Currency),
                Active = IfBound(nameof(Active), () => Active),
                SortOrder = IfBound(nameof(SortOrder), () => SortOrder),
            });
            if (!ShouldProcess(name, existing is null ? "Create billing plan" : "Change billing plan"))
                return;
            var saved = Store.SavePlan(plan);
            if (PassThru)
                WriteObject(saved);
        });
    }
}
