using System.Management.Automation;
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

    private static string? PlanText(string? value, string what, int maximum) =>
        value is null ? null : Engine.Ingestion.TextRules.Text(value, what, ErrorIds.InvalidArgument, maximum);

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var name = Engine.Ingestion.TextRules.PlanName(Name);
            var existing = Store.GetPlan(name);
            var bound = MyInvocation.BoundParameters;
            decimal Fee(string parameter, object? given, decimal? old)
            {
                if (!bound.ContainsKey(parameter))
                    return old ?? 0m;
                var value = PowerShellValues.Number(given, NumberKind.Money, parameter);
                // nself's billing_plans keeps fees as numeric(10,2): cents, below 100 million.
                // Anything else would be rounded or refused by PostgreSQL alone.
                if (value < 0 || value >= 100_000_000m || decimal.Round(value, 2) != value)
                    throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"-{parameter} {value} must be from 0 to 99,999,999.99, with at most two decimal places.", PowerShellValues.Unwrap(given));
                return value;
            }
            var plan = new BillingPlan
            {
                Name = name,
                // nself's display_name is varchar(255); both are checked like every other text field
                // (no NUL, no unpaired surrogate), so SQLite and PostgreSQL accept the same values.
                DisplayName = bound.ContainsKey(nameof(DisplayName)) ? PlanText(DisplayName, "The display name", 255) : existing?.DisplayName,
                Description = bound.ContainsKey(nameof(Description)) ? PlanText(Description, "The description", Engine.Ingestion.TextRules.MaximumTextLength) : existing?.Description,
                PriceMonthly = Fee(nameof(PriceMonthly), PriceMonthly, existing?.PriceMonthly),
                PriceYearly = Fee(nameof(PriceYearly), PriceYearly, existing?.PriceYearly),
                Currency = bound.ContainsKey(nameof(Currency)) ? Money.Currency(Currency) : existing?.Currency ?? "USD",
                IsActive = bound.ContainsKey(nameof(Active)) ? Active : existing?.IsActive ?? true,
                SortOrder = bound.ContainsKey(nameof(SortOrder)) ? SortOrder : existing?.SortOrder ?? 0,
            };
            if (!ShouldProcess(name, existing is null ? "Create billing plan" : "Change billing plan"))
                return;
            var saved = Store.SavePlan(plan);
            if (PassThru)
                WriteObject(saved);
        });
    }
}
