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
            health = Engine.Storage.StoreHealth.Unreachable(target.Backend, target.Backend == UsageStoreBackend.Sqlite ? target.Address : "(not opened)", 0, TimeSpan.Zero, e.Message);
        }
        if (Detailed)
            WriteObject(health);
        else
        {
            if (health.Error is not null)
                WriteVerbose(health.Error);
            else if (health.PendingMigrations > 0)
                WriteVerbose($"The store at {health.Location} has {health.PendingMigrations} schema migration(s) pending; Initialize-UsageStore applies them (any first use of the store does too).");
            else if (!health.Writable)
                WriteVerbose($"The store at {health.Location} can be read but not written by this user.");
            WriteObject(health.Reachable && health.Writable && health.PendingMigrations == 0);
        }
    }
}
