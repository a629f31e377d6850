using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The role-to-customer mappings of tenant isolation (PostgreSQL), all or filtered.</summary>
[Cmdlet(VerbsCommon.Get, "UsageCustomerAccess")]
[OutputType(typeof(UsageCustomerAccess))]
public sealed class GetUsageCustomerAccessCommand : UsageCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string? Role { get; set; } = NotGivenRole;

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    // "Not given" (every role), told apart from a given '' or $null by reference, as -CustomerId is.
    private static readonly string NotGivenRole = new('\0', 1);

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var customer = GivenCustomerId(CustomerId) is { } id ? Engine.Ingestion.TextRules.CustomerId(id) : null;
            string? role = null;
            if (!ReferenceEquals(Role, NotGivenRole))
                role = Engine.Storage.TenantIsolation.RoleName(Role);
            WriteObject(Store.GetCustomerAccess(role, customer), enumerateCollection: true);
        });
    }
}
