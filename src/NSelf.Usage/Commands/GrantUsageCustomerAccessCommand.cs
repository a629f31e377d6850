using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Maps a PostgreSQL role to customers it may act for: with tenant isolation enabled, the role
/// (and every role that is a member of it) reads and writes those customers' rows and no others.
/// </summary>
[Cmdlet(VerbsSecurity.Grant, "UsageCustomerAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UsageCustomerAccess))]
public sealed class GrantUsageCustomerAccessCommand : CustomerAccessCmdlet
{
    protected override void ProcessRecord() => ForEachCustomer((role, id) =>
    {
        if (ShouldProcess($"role {role}, customer {id}", "Grant the role access to the customer's rows"))
            WriteObject(Store.GrantCustomerAccess(role, id));
    });
}
