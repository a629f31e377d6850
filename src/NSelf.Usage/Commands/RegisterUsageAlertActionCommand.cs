using System.Management.Automation;
using System.Net;
using System.Security;
using NSelf.Usage.Engine.Alerts;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Says where new quota alerts go: a webhook (signed as Standard Webhooks sign them) or e-mail
/// addresses, for the levels, service and customer given. Every alert recorded from then on, by any
/// host, is queued for it in the transaction that records the alert.
/// </summary>
[Cmdlet(VerbsLifecycle.Register, "UsageAlertAction", SupportsShouldProcess = true, DefaultParameterSetName = WebhookSet)]
[OutputType(typeof(UsageAlertAction))]
public sealed class RegisterUsageAlertActionCommand : BillingCmdlet
{
    private const string WebhookSet = "Webhook";
    private const string EmailSet = "Email";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string Name { get; set; } = "";

    /// <summary>The receiver's http or https URL.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WebhookSet, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string? Webhook { get; set; }

    /// <summary>The key the receiver verifies signatures with: a whsec_ secret (base64), or any text of at least 16 bytes.</summary>
    [Parameter(Mandatory = true, ParameterSetName = WebhookSet)]
    [AllowNull]
    public SecureString? Secret { get; set; }

    /// <summary>The addresses an alert is mailed to, through the SMTP server invoices are sent through.</summary>
    [Parameter(Mandatory = true, ParameterSetName = EmailSet)]
    [AllowEmptyCollection, AllowEmptyString, AllowNull]
    public string[]? Email { get; set; }

    /// <summary>The levels sent (default all three).</summary>
    [Parameter]
    [ValidateSet("Warning", "Critical", "Exceeded", IgnoreCase = true)]
    [AllowEmptyCollection]
    public string[]? Level { get; set; }

    /// <summary>Only this service's alerts (default every service).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    [AllowEmptyString, AllowNull]
    public string? Service { get; set; } = NotGivenService;

    /// <summary>Only this customer's alerts (default every customer).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    /// <summary>Replace an action of the same name.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var service = Bound(nameof(Service), Service, NotGivenService);
            var customer = Bound(nameof(CustomerId), CustomerId, NotGivenCustomerId);
            if (customer is not null)
                customer = Customer(customer);
            var levels = Level?.Select(l => Enum.Parse<QuotaLevel>(l, ignoreCase: true)).ToList();
            var secret = Secret is null ? null : new NetworkCredential("", Secret).Password;
            var where = ParameterSetName == WebhookSet ? Webhook : string.Join(", ", Email ?? []);
            if (!ShouldProcess(Name, $"Send {(levels is null ? "every" : string.Join(", ", levels))} quota alert{(service is null ? "" : " of " + service)}"
                    + $"{(customer is null ? "" : " for " + customer)} to {(ParameterSetName == WebhookSet ? "the webhook " : "")}{where}"))
                return;
            var action = new AlertActions(Store, Session.Time).Register(Name, ParameterSetName == WebhookSet ? Webhook ?? "" : null, secret,
                ParameterSetName == EmailSet ? Email ?? [] : null, levels, service, customer, Force);
            WriteVerbose($"Alert action '{action.Name}' ({action.Kind}) saved in {Store.Location}: alerts recorded from now on are queued for it.");
            WriteObject(action);
        });
    }

    // "Not given" (every service), told apart by reference from a given $null or '': PowerShell
    // restores this initial value before each piped object, so an object without a Service property
    // after one with Service = $null is "every service" again (see UsageCmdlet.NotGivenCustomerId;
    // MyInvocation.BoundParameters keeps the previous object's value).
    private static readonly string NotGivenService = new('\0', 1);

    /// <summary>A filter given as $null or '' is an error, not "every": leave it out for every one.</summary>
    private static string? Bound(string parameter, string? value, string notGiven)
    {
        if (ReferenceEquals(value, notGiven))
            return null;
        if (string.IsNullOrWhiteSpace(value))
            throw new UsageException(parameter == nameof(CustomerId) ? ErrorIds.InvalidCustomerId : ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"-{parameter} is empty: name one, or leave -{parameter} out for every {(parameter == nameof(CustomerId) ? "customer" : "service")}.", value);
        return value;
    }
}
