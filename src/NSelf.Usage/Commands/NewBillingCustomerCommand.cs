using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Creates a billing customer (bash: billing_create_customer).</summary>
[Cmdlet(VerbsCommon.New, "BillingCustomer", SupportsShouldProcess = true)]
[OutputType(typeof(BillingCustomer))]
public sealed class NewBillingCustomerCommand : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Id", "customer_id")]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string CustomerId { get; set; } = "";

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Name { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Email { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Company { get; set; }

    /// <summary>nself's project_name; defaults to the customer id.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ProjectName { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? StripeCustomerId { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? Metadata { get; set; }

    /// <summary>The postal address printed on invoices; lines separated by new lines (or given as an array).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyCollection, AllowEmptyString]
    public string[]? Address { get; set; }

    /// <summary>ISO 3166-1 alpha-2: picks the tax rate and decides reverse charge.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CountryCompleter))]
    [AllowEmptyString]
    public string? Country { get; set; }

    /// <summary>The ISO 3166-2 subdivision (CA or US-CA), when its rate differs from the country's.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? Region { get; set; }

    /// <summary>The buyer's tax id (VAT id); a business buyer in another EU country is then reverse charged when the seller is set up for it.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? TaxId { get; set; }

    /// <summary>The customer is exempt from tax: its invoices charge none and say so.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public SwitchParameter TaxExempt { get; set; }

    /// <summary>The language and number and date formats of the customer's invoices (de-DE, fr-FR, en-GB...).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.LocaleCompleter))]
    [AllowEmptyString]
    public string? Locale { get; set; }

    /// <summary>Where invoices are e-mailed, when not to -Email.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString]
    public string? InvoiceEmail { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = TextRules.CustomerId(CustomerId);
            var fields = CustomerFields.From(this, Name, Email, Company, ProjectName, StripeCustomerId, Metadata)
                .WithBuyer(this, Address, Country, Region, TaxId, TaxExempt, Locale, InvoiceEmail, null);
            if (ShouldProcess(id, "Create billing customer"))
                WriteObject(Store.AddCustomer(id, fields));
        });
    }
}

internal static class CustomerFields
{
    public static CustomerChange From(UsageCmdlet cmdlet, string? name, string? email, string? company, string? project, string? stripe, object? metadata)
    {
        string? Text(string? value, string what, int max = 255) => value is null ? null : TextRules.Text(value, what, ErrorIds.InvalidArgument, max);
        // nself's tools store '' for "no e-mail"; anything else must be an address.
        if (email is { Length: > 0 })
            PartyDetails.Email(email, "The e-mail address");
        return new CustomerChange(
            ProjectName: Text(project, "The project name"),
            Name: Text(name, "The name"),
            Email: Text(email, "The email"),
            Company: Text(company, "The company"),
            StripeCustomerId: Text(stripe, "The Stripe customer id"),
            Metadata: metadata is null ? null : PowerShellValues.MetadataJson(metadata));
    }

    /// <summary>The buyer's details the command was given (a parameter left out keeps its value).</summary>
    public static CustomerChange WithBuyer(this CustomerChange change, UsageCmdlet cmdlet, string[]? address, string? country, string? region, string? taxId,
        SwitchParameter taxExempt, string? locale, string? invoiceEmail, string? currentCountry)
    {
        var buyer = PartyEdits.Buyer(address is null ? null : string.Join('\n', address), country, region, taxId, locale, invoiceEmail, currentCountry);
        return change with
        {
            Address = buyer.Address, Country = buyer.Country, Region = buyer.Region, TaxId = buyer.TaxId, Locale = buyer.Locale, InvoiceEmail = buyer.InvoiceEmail,
            TaxExempt = cmdlet.MyInvocation.BoundParameters.ContainsKey("TaxExempt") ? taxExempt.IsPresent : null,
        };
    }
}
