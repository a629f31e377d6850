using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The plans customers subscribe to (nself's free, starter, pro and enterprise, and any added).</summary>
[Cmdlet(VerbsCommon.Get, "BillingPlan")]
[OutputType(typeof(BillingPlan))]
public sealed class GetBillingPlanCommand : BillingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("Plan")]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        var plans = Require(() => Store.GetPlans());
        if (Name is not { Length: > 0 })
        {
            WriteObject(plans, enumerateCollection: true);
            return;
        }
        foreach (var name in Name)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            var matches = plans.Where(p => pattern.IsMatch(p.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                WriteUsageError(new UsageException(ErrorIds.PlanNotFound, UsageErrorKind.ObjectNotFound, $"There is no plan '{name}'.", name));
            WriteObject(matches, enumerateCollection: true);
        }
    }
}
