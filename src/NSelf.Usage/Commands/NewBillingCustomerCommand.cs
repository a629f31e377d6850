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

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var id = TextRules.CustomerId(CustomerId);
            var fields = CustomerFields.From(this, Name, Email, Company, ProjectName, StripeCustomerId, Metadata);
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
        if (email is not null && (email.Length > 0 && (!email.Contains('@') || email.Any(char.IsWhiteSpace))))
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"'{email}' is not an email address.", email);
        return new CustomerChange(
            ProjectName: Text(project, "The project name"),
            Name: Text(name, "The name"),
            Email: Text(email, "The email"),
            Company: Text(company, "The company"),
            StripeCustomerId: Text(stripe, "The Stripe customer id"),
            Metadata: metadata is null ? null : PowerShellValues.MetadataJson(metadata));
    }
}
