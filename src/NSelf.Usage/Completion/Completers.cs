using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Completion;

/// <summary>Completes -Service from the services the current store knows.</summary>
public sealed class ServiceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => UsageSession.Current.Store.GetServices().All.Select(s => (s.Name, $"{s.Name} ({s.Unit})")), wordToComplete);
}

/// <summary>Completes -CustomerId from the customers in the current store.</summary>
public sealed class CustomerIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => UsageSession.Current.Store.FindCustomerIds(Completions.Prefix(wordToComplete), 100).Select(id => (id, id)), wordToComplete);
}

/// <summary>Completes -Method with the HTTP methods.</summary>
public sealed class HttpMethodCompleter : IArgumentCompleter
{
    private static readonly string[] Methods = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => Methods.Select(m => (m, m)), wordToComplete);
}

/// <summary>Completes -QueryType with the common statement kinds.</summary>
public sealed class QueryTypeCompleter : IArgumentCompleter
{
    private static readonly string[] Kinds = { "SELECT", "INSERT", "UPDATE", "DELETE", "UPSERT", "DDL" };

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => Kinds.Select(k => (k, k)), wordToComplete);
}

internal static class Completions
{
    public static string Prefix(string word) => word.Trim('\'', '"');

    /// <summary>Completion must never fail or print: any error (no store yet, store down) completes nothing.</summary>
    public static IEnumerable<CompletionResult> From(Func<IEnumerable<(string Value, string Tooltip)>> source, string wordToComplete)
    {
        var prefix = Prefix(wordToComplete);
        List<(string Value, string Tooltip)> values;
        try
        {
            values = source().ToList();
        }
        catch (Exception)
        {
            return Array.Empty<CompletionResult>();
        }
        return values
            .Where(v => v.Value.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(v => new CompletionResult(Quote(v.Value), v.Value, CompletionResultType.ParameterValue, v.Tooltip))
            .ToList();
    }

    private static string Quote(string value) =>
        value.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or ';' or '(' or ')' or '{' or '}' or ',' or '@' or '#')
            ? "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'"
            : value;
}

/// <summary>Completes -Plan from the plans of the current store.</summary>
public sealed class PlanNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => UsageSession.Current.Store.GetPlans().Select(p => (p.Name, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Name} ({p.PriceMonthly} {p.Currency}/month)"))), wordToComplete);
}
