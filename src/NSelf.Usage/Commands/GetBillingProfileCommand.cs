using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The seller's profile printed on invoices; nothing until Set-BillingProfile saves one.</summary>
[Cmdlet(VerbsCommon.Get, "BillingProfile")]
[OutputType(typeof(BillingProfile))]
public sealed class GetBillingProfileCommand : BillingCmdlet
{
    protected override void ProcessRecord()
    {
        var profile = Require(() => Store.GetProfile());
        if (profile is null)
            WriteVerbose($"The store at {Store.Location} has no seller profile yet: Set-BillingProfile -LegalName ... makes one.");
        else
        {
            WriteVerbose($"Seller profile read: {profile.LegalName ?? "(no legal name)"}, invoice numbers {profile.InvoicePrefix}…, last changed {profile.UpdatedAt:u}.");
            WriteObject(profile);
        }
    }
}
