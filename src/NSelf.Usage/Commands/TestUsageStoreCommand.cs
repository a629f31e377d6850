using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Engine.Time;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Checks that the store can be reached and written (bash: billing_test_db_connection); with
/// -Verify, that the rollups equal the stored events plus archive tombstones, and with -Repair
/// rebuilds those that do not.
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "UsageStore", DefaultParameterSetName = HealthSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(bool), ParameterSetName = new[] { HealthSet })]
[OutputType(typeof(UsageStoreHealth), ParameterSetName = new[] { HealthSet })]
[OutputType(typeof(UsageStoreDifference), ParameterSetName = new[] { VerifySet })]
public sealed class TestUsageStoreCommand : UsageCmdlet
{
    private const string HealthSet = "Health";
    private const string VerifySet = "Verify";

    /// <summary>Emit a UsageStoreHealth object instead of $true/$false.</summary>
    [Parameter(ParameterSetName = HealthSet)]
    public SwitchParameter Detailed { get; set; }

    /// <summary>Recompute the rollups from the stored events and tombstones and emit each bucket that differs.</summary>
    [Parameter(Mandatory = true, ParameterSetName = VerifySet)]
    public SwitchParameter Verify { get; set; }

    /// <summary>Customers to check; every customer when left out.</summary>
    [Parameter(ParameterSetName = VerifySet)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; }

    /// <summary>Start of the period to check (inclusive), widened to the start of its UTC day.</summary>
    [Parameter(ParameterSetName = VerifySet)]
    public object? Start { get; set; }

    /// <summary>End of the period to check (exclusive), widened to the end of its UTC day.</summary>
    [Parameter(ParameterSetName = VerifySet)]
    public object? End { get; set; }

    /// <summary>Rebuild each customer's differing UTC days from the stored events, one short transaction per day.</summary>
    [Parameter(ParameterSetName = VerifySet)]
    public SwitchParameter Repair { get; set; }

    private protected override void Finish()
    {
        if (ParameterSetName == VerifySet)
            Try(VerifyRollups);
        else
            CheckHealth();
    }

    private void VerifyRollups()
    {
        var scope = Scope();
        if (!Repair)
        {
            var found = Store.VerifyRollups(scope);
            if (found.Count == 0)
                WriteVerbose($"The rollups of {Describe(scope)} equal the stored events plus archived ones: no difference.");
            WriteNoTimeWarning(found);
            WriteObject(found, enumerateCollection: true);
            return;
        }
        var repaired = RollupCheck.Repair(Store, scope, (customer, day, items) => ShouldProcess(
            $"rollups of customer '{customer}' on {day:yyyy-MM-dd} (UTC): {items.Count} bucket(s) differ",
            "Rebuild from the stored events and archive tombstones"));
        if (repaired.Count == 0)
            WriteVerbose($"Nothing repaired in {Describe(scope)}.");
        foreach (var left in repaired.Where(d => !d.Repaired && d.BucketStart is not null))
            WriteWarning($"The {left.Rollup} bucket {left.BucketStart:yyyy-MM-dd HH:mm} of '{left.CustomerId}' {left.Service} still differs: it holds events archived by a version whose tombstones kept no quantity, so its quantity is not known from the stored rows and is never invented.");
        WriteNoTimeWarning(repaired);
        WriteObject(repaired, enumerateCollection: true);
    }

    private void WriteNoTimeWarning(IEnumerable<UsageStoreDifference> found)
    {
        var count = found.Count(d => d.Kind == "NoTime");
        if (count > 0)
            WriteWarning($"{count} customer and service pair(s) have stored events without a time (recorded_at NULL, written before the upgrade): they are in no period and no rollup, and -Repair cannot place them. Set their recorded_at with SQL to the time they happened, then run -Repair.");
    }

    private static string Describe(RollupScope scope) =>
        (scope.CustomerIds is null ? "every customer" : string.Join(", ", scope.CustomerIds))
        + (scope.HasPeriod ? $" from {(scope.DayStart is { } s ? s.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "the first event")} to {(scope.DayEnd is { } e ? e.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "the last")} (UTC days)" : "");

    /// <summary>The scope as given; a bound but empty -CustomerId or a bad time is refused before anything is read.</summary>
    private RollupScope Scope()
    {
        List<string>? customers = null;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(CustomerId)))
        {
            if (CustomerId is not { Length: > 0 })
                throw Blank(null);
            foreach (var id in CustomerId)
                if (string.IsNullOrWhiteSpace(id))
                    throw Blank(id);
            customers = CustomerId.Select(Engine.Ingestion.TextRules.CustomerId).Distinct(StringComparer.Ordinal).ToList();
        }
        var zone = ResolveZone(null);
        DateTimeOffset? start = MyInvocation.BoundParameters.ContainsKey(nameof(Start)) ? ToInstant(Start ?? "", zone, TimeBound.Start) : null;
        DateTimeOffset? end = MyInvocation.BoundParameters.ContainsKey(nameof(End)) ? ToInstant(End ?? "", zone, TimeBound.End) : null;
        if (start is { } from && end is { } to)
            Engine.Reporting.ReportingPeriods.RequireOrdered(from, to, End);
        return new RollupScope(customers, start, end);
    }

    private static UsageException Blank(string? given) =>
        new(ErrorIds.InvalidCustomerId, UsageErrorKind.InvalidArgument,
            (given is null ? "-CustomerId was given as $null or an empty list" : "-CustomerId was given an empty or blank string")
            + " (an unset variable?). Name the customers to check, such as cus_abc123, or leave -CustomerId out to check every customer.", given);

    private void CheckHealth()
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
