using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Turns on tenant isolation keyed on the database role (PostgreSQL): from then on a role that is
/// not the tables' owner, a superuser or a member of usage_admin reads and writes only the rows of
/// the customers it is mapped to with Grant-UsageCustomerAccess, whatever settings its sessions send.
/// </summary>
[Cmdlet(VerbsLifecycle.Enable, "UsageTenantIsolation", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(UsageTenantIsolation))]
public sealed class EnableUsageTenantIsolationCommand : UsageCmdlet
{
    /// <summary>Emits the isolation state after enabling.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    private protected override void Finish()
    {
        var store = Require(() => Store);
        // The preview first: -WhatIf shows it, and the confirmation prompt names the same roles.
        var losing = Require(() => store.EnableTenantIsolation(apply: false));
        var state = Require(store.GetTenantIsolation);
        var enabled = state.Enabled;
        var action = "Enable tenant isolation (roles see only the customers they are mapped to)";
        var warning = losing.Count == 0
            ? $"Enable tenant isolation on {store.Location}? No role with grants on the customer tables loses access."
            : $"Enable tenant isolation on {store.Location}? These roles lose access:{System.Environment.NewLine}"
              + string.Join(System.Environment.NewLine, losing.Select(Describe));
        if (!ShouldProcess(OperationText(store.Location, enabled, losing.Count), warning, "Enable tenant isolation", out var reason))
        {
            // Under -WhatIf: one line per role that would lose access, each a ShouldProcess of its own
            // (it only prints), so a script's transcript shows who would be cut off.
            if (reason == ShouldProcessReason.WhatIf)
            {
                foreach (var change in losing)
                    ShouldProcess(Describe(change), action);
                foreach (var role in state.SummaryReaders)
                    ShouldProcess(SummaryReader(role), action);
            }
            return;
        }
        // Like the roles that lose access: said when enabling changes something; -WhatIf always says it.
        foreach (var role in enabled ? Array.Empty<string>() : state.SummaryReaders)
            WriteWarning($"Tenant isolation: {SummaryReader(role)}.");
        var lost = Require(() => store.EnableTenantIsolation(apply: true));
        // Enabling again changes nothing, so there is nothing new to warn about.
        foreach (var change in enabled ? Array.Empty<UsageTenantIsolationChange>() : lost)
            WriteWarning($"Tenant isolation: {Describe(change)}. Map it with Grant-UsageCustomerAccess -Role {change.Role} -CustomerId <customer>, or make it a member of usage_admin.");
        if (PassThru)
            WriteObject(Require(store.GetTenantIsolation));
    }

    // Whether it is on already is said too: there is no separate status command, and -WhatIf is
    // the way to look without changing anything.
    private static string OperationText(string location, bool enabled, int losing) =>
        string.Create(CultureInfo.InvariantCulture,
            $"Performing the operation \"Enable tenant isolation\" on target \"{location}\" (now {(enabled ? "enabled already" : "not enabled")}): {losing} role(s) {(enabled ? "have no access beyond their mappings" : "lose access")}.");

    /// <summary>
    /// A role that still reads every customer's daily totals: nself's materialized view cannot carry
    /// row-level security, so isolation cannot cover it; revoking is the operator's decision.
    /// </summary>
    internal static string SummaryReader(string role) =>
        $"role {role} can still SELECT every customer's daily totals from nself's materialized view billing_usage_daily_summary (a materialized view has no row-level security): REVOKE SELECT ON billing_usage_daily_summary FROM {role}; if it is a tenant role";

    /// <summary>The role and what it loses, as the -WhatIf line and the warning after enabling name them.</summary>
    internal static string Describe(UsageTenantIsolationChange change) =>
        change.MappedCustomers.Length == 0
            ? $"role {change.Role} loses {change.LosesAccess} (mapped to no customer)"
            : $"role {change.Role} loses {change.LosesAccess} (keeps {string.Join(", ", change.MappedCustomers)})";
}
