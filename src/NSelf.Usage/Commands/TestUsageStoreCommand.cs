using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Checks that the store can be reached and written (bash: billing_test_db_connection).</summary>
[Cmdlet(VerbsDiagnostic.Test, "UsageStore")]
[OutputType(typeof(bool))]
[OutputType(typeof(UsageStoreHealth))]
public sealed class TestUsageStoreCommand : UsageCmdlet
{
    /// <summary>Emit a UsageStoreHealth object instead of $true/$false.</summary>
    [Parameter]
    public SwitchParameter Detailed { get; set; }

    protected override void EndProcessing()
    {
        UsageStoreHealth health;
        try
        {
            health = Store.CheckHealth();
        }
        catch (UsageException e)
        {
            var target = Session.CurrentTarget;
            health = new UsageStoreHealth
            {
                Backend = target.Backend, Location = target.Backend == UsageStoreBackend.Sqlite ? target.Address : "(not opened)",
                Reachable = false, Writable = false, SchemaVersion = 0, PendingMigrations = 0, ServerVersion = "",
                Latency = TimeSpan.Zero, Events = 0, Error = e.Message,
            };
        }
        if (Detailed)
            WriteObject(health);
        else
        {
            if (health.Error is not null)
                WriteVerbose(health.Error);
            WriteObject(health.Reachable && health.Writable && health.PendingMigrations == 0);
        }
    }
}
