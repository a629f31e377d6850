using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Removes the unused rest of a prepaid credit grant: what invoices already used of it stays
/// used. Recorded in the ledger; it cannot be undone (grant the credit again instead).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "BillingCredit", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(BillingCreditGrant))]
public sealed class RemoveBillingCreditCommand : BillingCmdlet
{
    /// <summary>The grant (Get-BillingBalance lists them; Add-BillingCredit returns it).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [PlainWholeNumber]
    public long GrantId { get; set; }

    [Parameter]
    [AllowEmptyString, AllowNull]
    public string? Reason { get; set; }

    /// <summary>Emit the grant as it is after the removal.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Reason)) && Reason is null)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-Reason is empty; leave it out instead.", null);
            var target = GrantId.ToString(CultureInfo.InvariantCulture);
            if (!ShouldProcess($"credit grant {target}", "Remove what is left of the grant (this cannot be undone)"))
                return;
            var grant = Accounts.RemoveGrant(GrantId, Reason);
            WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Credit grant {grant.GrantId} of {grant.CustomerId} removed; status {grant.Status}."));
            if (PassThru)
                WriteObject(grant);
        });
    }
}
