using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Applies pending schema migrations to the store; running it again does nothing.</summary>
[Cmdlet(VerbsData.Initialize, "UsageStore", SupportsShouldProcess = true)]
[OutputType(typeof(UsageStoreMigration))]
public sealed class InitializeUsageStoreCommand : UsageCmdlet
{
    private protected override void Finish()
    {
        var store = Require(() => Engine.Storage.UsageStores.Open(Session.CurrentTarget, Session.Time));
        try
        {
            var current = Require(() => store.GetSchemaVersion());
            if (current >= store.LatestSchemaVersion)
            {
                WriteVerbose($"The store at {store.Location} is at schema version {current}, the latest. Nothing to do.");
                return;
            }
            if (!ShouldProcess(store.Location, $"Apply schema migrations {current + 1} to {store.LatestSchemaVersion}"))
                return;
            foreach (var migration in Require(() => store.Migrate()))
                WriteObject(migration);
        }
        finally
        {
            store.Dispose();
        }
    }
}
