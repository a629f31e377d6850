using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Completion;

/// <summary>
/// Completes -Encoding with pwsh's encoding names (PowerShellStandard has no
/// ArgumentCompletionsAttribute, which pwsh's own cmdlets use for this).
/// </summary>
public sealed class EncodingNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => EncodingArgumentAttribute.Known.Select(name => (name, name)), wordToComplete);
}
