using System.Management.Automation;
using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The effective settings of this session and where each comes from.</summary>
[Cmdlet(VerbsCommon.Get, "UsageConfiguration")]
[OutputType(typeof(UsageConfiguration))]
public sealed class GetUsageConfigurationCommand : UsageCmdlet
{
    private protected override void Finish() => WriteObject(Require(() => Current(this)));

    internal static UsageConfiguration Current(UsageCmdlet cmdlet)
    {
        var session = cmdlet.Session;
        var environment = session.Environment;
        var (customer, source) = CustomerIdResolver.Find(null, session.CustomerId, environment, cmdlet.CurrentDirectory);
        var target = session.CurrentTarget;
        return new UsageConfiguration
        {
            CustomerId = customer,
            CustomerIdSource = source,
            // The store's own Location never includes a password; for an unopened PostgreSQL
            // target only the backend is named.
            Store = target.Backend == UsageStoreBackend.Sqlite ? Path.GetFullPath(target.Address) : DescribeUnopened(session),
            StoreSource = target.Source,
            TimeZone = TimeZones.DisplayId(cmdlet.ResolveZone(null)),
            BatchSize = environment.BatchSize,
            BatchTimeout = environment.BatchTimeout,
            AlertWarning = environment.AlertWarning,
            AlertCritical = environment.AlertCritical,
            AlertExceeded = environment.AlertExceeded,
            CacheDirectory = environment.CacheDirectory,
            ExportDirectory = environment.ExportDirectory,
        };
    }

    private static string DescribeUnopened(UsageSession session)
    {
        try
        {
            return session.Store.Location;
        }
        catch (UsageException)
        {
            return "PostgreSQL (not reachable)";
        }
    }
}
