using System.Management.Automation;

namespace NSelf.Usage.Internal;

/// <summary>
/// The base of Grant- and Revoke-UsageCustomerAccess: a PostgreSQL role and the customers it is
/// (un)mapped to, each customer one step, so one bad id is one error record and the others run.
/// </summary>
public abstract class CustomerAccessCmdlet : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull] // so the engine, not parameter binding, refuses it with a stable error id
    public string Role { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull, AllowEmptyCollection]
    public string[]? CustomerId { get; set; }

    /// <summary>
    /// Runs <paramref name="step"/> for each customer of -CustomerId with the role, both checked
    /// (the role as a PostgreSQL identifier the module accepts) before -WhatIf or any SQL. A list
    /// given as $null or empty is one InvalidCustomerId (an unset variable), not "no customer".
    /// </summary>
    internal void ForEachCustomer(Action<string, string> step)
    {
        if (CustomerId is not { Length: > 0 } customers)
        {
            Try(() => throw Engine.Configuration.CustomerIdResolver.Blank(null));
            return;
        }
        foreach (var customer in customers)
            Try(() =>
            {
                var id = Engine.Ingestion.TextRules.CustomerId(customer);
                step(Engine.Storage.TenantIsolation.RoleName(Role), id);
            });
    }
}
