using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The metered services of the store: the six built-in ones and registered custom ones.</summary>
[Cmdlet(VerbsCommon.Get, "UsageService")]
[OutputType(typeof(UsageService))]
public sealed class GetUsageServiceCommand : UsageCmdlet
{
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Name { get; set; }

    private protected override void Finish()
    {
        var services = Require(() => Store.GetServices(refresh: true).All);
        if (Name is not { Length: > 0 })
        {
            WriteObject(services, enumerateCollection: true);
            return;
        }
        foreach (var pattern in Name)
        {
            var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
            var matches = services.Where(s => wildcard.IsMatch(s.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern))
                WriteUsageError(new UsageException(ErrorIds.InvalidService, UsageErrorKind.ObjectNotFound, $"There is no service named '{pattern}'.", pattern));
            WriteObject(matches, enumerateCollection: true);
        }
    }
}
