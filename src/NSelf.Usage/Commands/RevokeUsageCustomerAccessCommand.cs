using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Removes a role's mapping to customers: with tenant isolation enabled, the role no longer sees
/// or writes those customers' rows (from its next statement).
/// </summary>
[Cmdlet(VerbsSecurity.Revoke, "UsageCustomerAccess", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(UsageCustomerAccess))]
public sealed class RevokeUsageCustomerAccessCommand : CustomerAccessCmdlet
{
    /// <summary>Emits each mapping removed.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => ForEachCustomer((role, id) =>
    {
        // Read first: a mapping that is not there is most likely a typo in the role or the
        // customer, worth an error rather than silence; and -PassThru emits what was removed.
        var existing = Store.GetCustomerAccess(role, id).FirstOrDefault() ?? throw NotFound(id);
        if (!ShouldProcess($"role {existing.Role}, customer {existing.CustomerId}", "Revoke the role's access to the customer's rows"))
            return;
        if (!Store.RevokeCustomerAccess(existing.Role, existing.CustomerId))
            throw NotFound(id); // revoked by someone else in between: the same outcome as never there
        if (PassThru)
            WriteObject(existing);
    });

    private UsageException NotFound(string customer) =>
        new(ErrorIds.CustomerAccessNotFound, UsageErrorKind.ObjectNotFound,
            $"Role '{Role}' is not mapped to customer '{customer}' (see Get-UsageCustomerAccess).", customer);
}
