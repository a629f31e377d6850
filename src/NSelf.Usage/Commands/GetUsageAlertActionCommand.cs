using System.Management.Automation;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The alert actions: where alerts go, for which levels, services and customers. Secrets are never shown.</summary>
[Cmdlet(VerbsCommon.Get, "UsageAlertAction")]
[OutputType(typeof(UsageAlertAction))]
public sealed class GetUsageAlertActionCommand : BillingCmdlet
{
    /// <summary>Names, wildcards allowed (default every action).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.AlertActionCompleter))]
    public string[]? Name { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
            var actions = new AlertActions(Store, Session.Time).Find(patterns is null ? null : name => patterns.Any(p => p.IsMatch(name)));
            // A name without wildcards that matches nothing is an error, as Get-Item's is.
            foreach (var name in Name ?? [])
                if (!WildcardPattern.ContainsWildcardCharacters(name) && !actions.Any(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase)))
                    WriteUsageError(AlertActions.NotFound(name));
            WriteVerbose($"{actions.Count:N0} alert action(s) in {Store.Location}.");
            WriteObject(actions, enumerateCollection: true);
        });
    }
}
