using System.Management.Automation;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Changes a billing customer's details (bash: billing_update_customer).</summary>
[Cmdlet(VerbsCommon.Set, "BillingCustomer", SupportsShouldProcess = true)]
[OutputType(typeof(BillingCustomer))]
public sealed class SetBillingCustomerCommand : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string CustomerId { get; set; } = "";

    [Parameter]
    public string? Name { get; set; }

    [Parameter]
    public string? Email { get; set; }

    [Parameter]
    public string? Company { get; set; }

    [Parameter]
    public string? ProjectName { get; set; }

    [Parameter]
    public string? StripeCustomerId { get; set; }

    /// <summary>Replaces the customer's metadata (a hashtable, an object or a JSON object string).</summary>
    [Parameter]
    public object? Metadata { get; set; }

    /// <summary>The postal address printed on invoices; lines separated by new lines (or given as an array).</summary>
    [Parameter]
    [AllowEmptyCollection, AllowEmptyString]
    public string[]? Address { get; set; }

    /// <summary>ISO 3166-1 alpha-2: picks the tax rate and decides reverse charge.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.CountryCompleter))]
    [AllowEmptyString]
    public string? Country { get; set; }

    /// <summary>The ISO 3166-2 subdivision (CA or US-CA), when its rate differs from the country's.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? Region { get; set; }

    /// <summary>The buyer's tax id (VAT id); a business buyer in another EU country is then reverse charged when the seller is set up for it.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? TaxId { get; set; }

    /// <summary>The customer is exempt from tax: its invoices charge none and say so.</summary>
    [Parameter]
    public SwitchParameter TaxExempt { get; set; }

    /// <summary>The language and number and date formats of the customer's invoices (de-DE, fr-FR, en-GB...).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.LocaleCompleter))]
    [AllowEmptyString]
    public string? Locale { get; set; }

    /// <summary>Where invoices are e-mailed, when not to -Email.</summary>
    [Parameter]
    [AllowEmptyString]
    public string? InvoiceEmail { get; set; }

    /// <summary>Empties buyer fields: Address, Country, Region, TaxId, Locale, InvoiceEmail.</summary>
    [Parameter]
    [ValidateSet("Address", "Country", "Region", "TaxId", "Locale", "InvoiceEmail", IgnoreCase = true)]
    public string[]? Clear { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = TextRules.CustomerId(CustomerId);
            var current = Store.GetCustomer(id);
            var cleared = PartyEdits.Cleared(Clear, CustomerChange.Clearable, MyInvocation.BoundParameters.Keys);
            var fields = CustomerFields.From(this, Name, Email, Company, ProjectName, StripeCustomerId, Metadata)
                .WithBuyer(this, Address, Country, Region, TaxId, TaxExempt, Locale, InvoiceEmail, current?.Country) with
                {
                    Cleared = PartyEdits.RegionOfAnotherCountry(cleared, current?.Country, current?.Region, MyInvocation.BoundParameters.ContainsKey(nameof(Country)) ? Country : null,
                        MyInvocation.BoundParameters.ContainsKey(nameof(Region))),
                };
            if (!ShouldProcess(id, "Update billing customer"))
                return;
            var updated = Store.UpdateCustomer(id, fields);
            if (PassThru)
                WriteObject(updated);
        });
    }
}
