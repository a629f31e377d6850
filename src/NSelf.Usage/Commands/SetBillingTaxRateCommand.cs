using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Sets the tax rate of a country, or of a region within it. An invoice is taxed at the rate of
/// its buyer's region, else country, else $env:BILLING_TAX_RATE.
/// </summary>
[Cmdlet(VerbsCommon.Set, "BillingTaxRate", SupportsShouldProcess = true)]
[OutputType(typeof(BillingTaxRate))]
public sealed class SetBillingTaxRateCommand : BillingCmdlet
{
    /// <summary>What invoices call the tax: VAT, USt., TVA, Sales tax.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string Name { get; set; } = "";

    /// <summary>In percent: 19 is 19 %. A number or plain invariant text such as '8.875'.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? Rate { get; set; }

    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CountryCompleter))]
    [AllowEmptyString, AllowNull]
    public string Country { get; set; } = "";

    /// <summary>The ISO 3166-2 subdivision (CA or US-CA); left out, the rate is the whole country's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Region { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var name = PartyEdits.TaxName(Name);
            decimal rate;
            try
            {
                rate = PowerShellValues.Number(Rate, NumberKind.Money, "The tax rate");
            }
            catch (UsageException e)
            {
                throw new UsageException(ErrorIds.InvalidTaxRate, UsageErrorKind.InvalidArgument, e.Message, e.Target, e);
            }
            rate = PartyEdits.TaxRate(rate, PowerShellValues.Unwrap(Rate));
            var country = PartyEdits.Check(Country ?? "", "The country", ErrorIds.InvalidCountry, v => Countries.Code(v, "The country"))!;
            var region = PartyEdits.Check(Region, "The region", ErrorIds.InvalidRegion, v => PartyDetails.Region(v, country));
            if (!ShouldProcess(region is null ? country : $"{country}-{region}", $"Set the tax rate to {name} {rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} %"))
                return;
            var saved = Store.SaveTaxRate(country, region, name, rate);
            WriteVerbose($"Tax rate of {(region is null ? country : $"{country}-{region}")} saved: {saved.Name} {saved.Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)} %.");
            if (PassThru)
                WriteObject(saved);
        });
    }
}
