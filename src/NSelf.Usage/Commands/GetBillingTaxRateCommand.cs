using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>The tax rates by country and region; with -CustomerId, the rate that customer's invoices are taxed at.</summary>
[Cmdlet(VerbsCommon.Get, "BillingTaxRate", DefaultParameterSetName = "All")]
[OutputType(typeof(BillingTaxRate))]
public sealed class GetBillingTaxRateCommand : BillingCmdlet
{
    // Not bound from piped objects: a piped customer's Country would list that country's rates, not the customer's.
    [Parameter(ParameterSetName = "All", Position = 0)]
    [ArgumentCompleter(typeof(Completion.CountryCompleter))]
    public string[]? Country { get; set; }

    /// <summary>The rate (of the customer's region, else country) that customer's next invoice is taxed at; nothing when none applies.</summary>
    [Parameter(ParameterSetName = "Customer", Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string CustomerId { get; set; } = "";

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var rates = Store.GetTaxRates();
            WriteVerbose($"{rates.Count:N0} tax rate(s) in the store.");
            if (ParameterSetName == "Customer")
            {
                var id = Customer(CustomerId);
                var customer = Store.GetCustomer(id) ?? throw new UsageException(ErrorIds.CustomerNotFound, UsageErrorKind.ObjectNotFound, $"Customer '{id}' does not exist (or was removed).", id);
                if (TaxPlaces.RateOf(rates, customer.Country, customer.Region) is { } rate)
                    WriteObject(rate);
                else
                    WriteVerbose($"No rate is set for customer '{id}' ({customer.Country ?? "no country"}): its invoices are taxed at $env:BILLING_TAX_RATE.");
                return;
            }
            if (Country is not { Length: > 0 })
            {
                WriteObject(rates, enumerateCollection: true);
                return;
            }
            foreach (var given in Country)
            {
                // A bad code is reported and the others are still listed.
                try
                {
                    var code = Countries.Code(given, "The country");
                    WriteObject(rates.Where(r => r.Country == code), enumerateCollection: true);
                }
                catch (UsageException e)
                {
                    WriteUsageError(e);
                }
            }
        });
    }
}
