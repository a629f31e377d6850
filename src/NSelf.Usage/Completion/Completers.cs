using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Completion;

/// <summary>Completes -Service from the services the current store knows.</summary>
public sealed class ServiceNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.FromStore(store => store.GetServices().All.Select(s => (s.Name, $"{s.Name} ({s.Unit})")), wordToComplete);
}

/// <summary>Completes -CustomerId from the customers in the current store.</summary>
public sealed class CustomerIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.FromStore(store => store.FindCustomerIds(Completions.Prefix(wordToComplete), 100).Select(id => (id, id)), wordToComplete);
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

/// <summary>Completes -TimeZone with the IANA zone ids this system knows (Windows ids converted), prefix-matched.</summary>
public sealed class TimeZoneCompleter : IArgumentCompleter
{
    // Read once: the zone list does not change while PowerShell runs, and reading it parses every zone file.
    private static readonly Lazy<IReadOnlyList<string>> Ids = new(() => TimeZoneInfo.GetSystemTimeZones()
        .Select(z => z.HasIanaId ? z.Id : TimeZoneInfo.TryConvertWindowsIdToIanaId(z.Id, out var iana) ? iana : null)
        .OfType<string>()
        .Append("UTC")
        .Distinct(StringComparer.Ordinal)
        .Order(StringComparer.Ordinal)
        .ToList());

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => Ids.Value.Select(id => (id, id)), wordToComplete);
}

/// <summary>Completes -InvoiceId from the invoices of the current store, of the -CustomerId already typed if any.</summary>
public sealed class InvoiceIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var customer = Completions.OneCustomer(fakeBoundParameters, commandAst);
        return Completions.FromStore(store => store.FindInvoiceIds(customer, Completions.Prefix(wordToComplete), 100).Select(id => (id, id)), wordToComplete);
    }
}

/// <summary>Completes -CreditNoteId with the numbers of the credit notes of the current store (of the -CustomerId already typed if any), newest first.</summary>
public sealed class CreditNoteCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var customer = Completions.OneCustomer(fakeBoundParameters, commandAst);
        var prefix = Completions.Prefix(wordToComplete);
        return Completions.FromStore(store => store.GetCreditNotes(customer, null).Reverse()
            .Where(n => n.CreditNoteNumber.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Take(100).Select(n => (n.CreditNoteNumber, $"{n.CreditNoteNumber} ({n.InvoiceNumber}, {n.Total.ToString(System.Globalization.CultureInfo.InvariantCulture)} {n.Currency})")), wordToComplete);
    }
}

/// <summary>Completes alert action names, with where each sends.</summary>
public sealed class AlertActionCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = Completions.Prefix(wordToComplete);
        return Completions.FromStore(store => store.GetAlertActions()
            .Where(a => a.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Take(100).Select(a => (a.Name, $"{a.Name} ({a.Kind}: {a.Target})")), wordToComplete);
    }
}

/// <summary>
/// Completes -GroupBy with the metadata keys of the most recently stored events (of the
/// -CustomerId already typed, if any): a bounded read, so completion stays quick on a large store.
/// </summary>
public sealed class GroupByCompleter : IArgumentCompleter
{
    private const int RecentRecords = 1000;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var customer = Completions.OneCustomer(fakeBoundParameters, commandAst);
        return Completions.FromStore(store => store.FindMetadataKeys(customer, Completions.Prefix(wordToComplete), RecentRecords, 100).Select(key => (key, key)), wordToComplete);
    }
}

internal static class Completions
{
    /// <summary>How long a completer waits for the store: an unreachable server completes nothing rather than hang the prompt.</summary>
    private static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(1.5);

    public static string Prefix(string word) => word.Trim('\'', '"');

    /// <summary>The one customer id already typed for -CustomerId, else null (every customer).</summary>
    /// <remarks>
    /// Read from the command line itself when PowerShell's trial binding leaves it out: on
    /// Get-BillingInvoice, -CustomerId and -InvoiceId are in different parameter sets.
    /// </remarks>
    public static string? OneCustomer(IDictionary fakeBoundParameters, CommandAst commandAst)
    {
        var value = fakeBoundParameters.Contains("CustomerId") ? PowerShellValues.Unwrap(fakeBoundParameters["CustomerId"]) : TypedCustomerId(commandAst);
        if (value is object[] { Length: 1 } one)
            value = PowerShellValues.Unwrap(one[0]);
        if (value is string[] { Length: 1 } text)
            value = text[0];
        if (value is not string id)
            return null;
        try
        {
            return Engine.Ingestion.TextRules.CustomerId(id);
        }
        catch (UsageException)
        {
            return null; // half typed or mistyped: complete across every customer
        }
    }

    private static string? TypedCustomerId(CommandAst commandAst)
    {
        var elements = commandAst.CommandElements;
        for (var i = 0; i < elements.Count; i++)
            if (elements[i] is CommandParameterAst { ParameterName: var name } parameter && name.Equals("CustomerId", StringComparison.OrdinalIgnoreCase))
                return (parameter.Argument ?? (i + 1 < elements.Count ? elements[i + 1] as ExpressionAst : null)) is StringConstantExpressionAst text ? text.Value : null;
        return null;
    }

    /// <summary>
    /// Values read from the session's store. A store that is not there yet (a SQLite file not
    /// created: completion must not create it) or does not answer within a short time completes
    /// nothing; the read goes on in the background and its result is dropped.
    /// </summary>
    public static IEnumerable<CompletionResult> FromStore(Func<Engine.Storage.IUsageStore, IEnumerable<(string Value, string Tooltip)>> read, string wordToComplete) =>
        From(() =>
        {
            // Read on this thread: the session belongs to the runspace (Runspace.DefaultRunspace).
            var session = UsageSession.Current;
            var target = session.CurrentTarget;
            if (target.Backend == UsageStoreBackend.Sqlite && !File.Exists(target.Address))
                return Array.Empty<(string, string)>();
            var work = Task.Run(() => read(session.Store).ToList());
            if (!work.Wait(StoreTimeout))
                return Array.Empty<(string, string)>();
            return work.Result;
        }, wordToComplete);

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
        Completions.FromStore(store => store.GetPlans().Select(p => (p.Name, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{p.Name} ({p.PriceMonthly} {p.Currency}/month)"))), wordToComplete);
}

/// <summary>Completes -Country with the ISO 3166-1 alpha-2 codes.</summary>
public sealed class CountryCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => Engine.Billing.Countries.StartingWith("").Select(c => (c, c)), wordToComplete);
}

/// <summary>Completes -Locale with the specific culture names (de-DE, en-GB, fr-FR...).</summary>
public sealed class LocaleCompleter : IArgumentCompleter
{
    private static readonly Lazy<IReadOnlyList<string>> Names = new(() => System.Globalization.CultureInfo.GetCultures(System.Globalization.CultureTypes.SpecificCultures)
        .Select(c => c.Name).Where(n => n.Length > 0).Order(StringComparer.Ordinal).ToList());

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters) =>
        Completions.From(() => Names.Value.Select(n => (n, n)), wordToComplete);
}
