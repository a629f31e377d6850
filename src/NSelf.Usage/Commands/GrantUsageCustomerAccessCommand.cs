using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Maps a PostgreSQL role to customers it may act for: with tenant isolation enabled, the role
/// (and every role that is a member of it) reads and writes those customers' rows and no others.
/// </summary>
[Cmdlet(VerbsSecurity.Grant, "UsageCustomerAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UsageCustomerAccess))]
public sealed class GrantUsageCustomerAccessCommand : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull] // so the engine, not parameter binding, refuses it with a stable error id
    public string Role { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull, AllowEmptyCollection]
    public string[]? CustomerId { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var customer in TenantAccess.Customers(CustomerId))
        {
            Try(() =>
            {
                var id = customer();
                var role = TenantAccess.Role(Role);
                if (ShouldProcess($"role {role}, customer {id}", "Grant the role access to the customer's rows"))
                    WriteObject(Store.GrantCustomerAccess(role, id));
            });
        }
    }
}

/// <summary>What the tenant-access commands share.</summary>
internal static class TenantAccess
{
    /// <summary>
    /// The customers of a -CustomerId list, each checked when it is used, so one bad id is one
    /// error record and the others still run; a list given as $null or empty is one
    /// InvalidCustomerId (an unset variable), not "no customer".
    /// </summary>
    public static IEnumerable<Func<string>> Customers(string[]? given)
    {
        if (given is not { Length: > 0 })
            return new Func<string>[] { () => throw Engine.Configuration.CustomerIdResolver.Blank(null) };
        return given.Select(id => (Func<string>)(() => Engine.Ingestion.TextRules.CustomerId(id)));
    }

    /// <summary>The role, checked as a PostgreSQL identifier the module accepts before -WhatIf or any SQL.</summary>
    public static string Role(string? given) => Engine.Storage.TenantIsolation.RoleName(given);
}
