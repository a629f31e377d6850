using System.Management.Automation;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of every NSelf.Usage cmdlet: the runspace's session, customer and zone defaults,
/// time parsing, and one way of turning engine failures into error records with stable ids.
/// </summary>
public abstract class UsageCmdlet : PSCmdlet
{
    internal UsageSession Session => UsageSession.Current;

    internal IUsageStore Store => Session.Store;

    internal EnvironmentSettings Environment => Session.Environment;

    internal DateTimeOffset Now => Session.Time.GetUtcNow();

    /// <summary>The customer this command acts for (parameter, session, environment, ./.env).</summary>
    internal string ResolveCustomerId(string? parameter) =>
        CustomerIdResolver.Resolve(parameter, Session.CustomerId, Environment, CurrentDirectory);

    internal string CurrentDirectory() => SessionState.Path.CurrentFileSystemLocation.ProviderPath;

    /// <summary>The zone for calendar buckets and offset-less times: -TimeZone, the session's, $env:NSELF_USAGE_TIMEZONE, else UTC.</summary>
    internal TimeZoneInfo ResolveZone(string? parameter) =>
        TimeZones.Find(parameter ?? Session.TimeZone ?? Environment.TimeZone);

    internal static DateTimeOffset ToInstant(object value, TimeZoneInfo zone, TimeBound bound = TimeBound.Start) =>
        TimeInput.ToInstant(PowerShellValues.Unwrap(value)!, zone, bound);

    /// <summary>Whose usage and which services a read covers: one customer (the default one) or all.</summary>
    internal Engine.Storage.UsageFilter Filter(string? customerId, bool allCustomers, IEnumerable<string>? services)
    {
        if (allCustomers && customerId is not null)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "Use either -CustomerId or -AllCustomers, not both.", customerId);
        var customer = allCustomers ? null : Engine.Ingestion.TextRules.CustomerId(ResolveCustomerId(customerId));
        IReadOnlyList<string>? names = null;
        if (services?.ToList() is { Count: > 0 } wanted)
        {
            var catalog = Store.GetServices();
            names = wanted.Select(name => catalog.TryFind(name, out var s) ? s.Name : Store.GetServices(refresh: true).Find(name).Name).Distinct().ToList();
        }
        return new Engine.Storage.UsageFilter(customer, names);
    }

    /// <summary>Reports an engine failure as a non-terminating error record.</summary>
    internal void WriteUsageError(UsageException e) => WriteError(e.ToErrorRecord());

    /// <summary>Runs one step; an engine failure becomes an error record and the pipeline goes on.</summary>
    internal bool Try(Action step)
    {
        try
        {
            step();
            return true;
        }
        catch (UsageException e)
        {
            WriteUsageError(e);
            return false;
        }
    }

    /// <summary>Runs a step the command cannot go on without; a failure ends the command.</summary>
    internal T Require<T>(Func<T> step)
    {
        try
        {
            return step();
        }
        catch (UsageException e)
        {
            ThrowTerminatingError(e.ToErrorRecord());
            throw; // not reached: ThrowTerminatingError always throws
        }
    }
}
