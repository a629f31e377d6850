using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Grants a customer prepaid credit in a currency. Complete-BillingInvoice applies it to the
/// customer's invoices in that currency: grants expiring soonest first, then by -Priority.
/// </summary>
[Cmdlet(VerbsCommon.Add, "BillingCredit", SupportsShouldProcess = true)]
[OutputType(typeof(BillingCreditGrant))]
public sealed class AddBillingCreditCommand : BillingCmdlet
{
    /// <summary>The customer; default the session's (NSELF_CUSTOMER_ID).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull]
    public string? CustomerId { get; set; } = NotGivenCustomerId;

    /// <summary>The credit, in whole minor units of -Currency. A number or plain invariant text such as '50.00'.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? Amount { get; set; }

    /// <summary>The ISO 4217 code; only invoices in this currency use the credit.</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string Currency { get; set; } = "";

    /// <summary>From this time on the credit is never applied; offset-less times are in -TimeZone. Default: it does not expire.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? ExpiresAt { get; set; }

    /// <summary>Among grants expiring at the same time, a lower number is applied first (default 50).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowNull]
    public object? Priority { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull]
    public string? Description { get; set; }

    /// <summary>The zone of an offset-less -ExpiresAt (default: the session's, else UTC).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.TimeZoneCompleter))]
    public string? TimeZone { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var customer = Customer(CustomerId);
            var amount = PowerShellValues.Amount(Amount, "The credit");
            DateTimeOffset? expires = ExpiresAt is null ? null : ToInstant(ExpiresAt, ResolveZone(TimeZone));
            if (MyInvocation.BoundParameters.ContainsKey(nameof(ExpiresAt)) && ExpiresAt is null)
                throw new UsageException(ErrorIds.InvalidTimestamp, UsageErrorKind.InvalidArgument, "-ExpiresAt is empty: give a time, or leave it out for credit that does not expire.", null);
            int? priority = null;
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Priority)))
            {
                long given;
                try
                {
                    given = PowerShellValues.WholeNumber(Priority, "The priority");
                }
                catch (UsageException refused)
                {
                    throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, refused.Message, refused.Target, refused);
                }
                priority = given is < 0 or > int.MaxValue
                    ? throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, string.Create(CultureInfo.InvariantCulture, $"-Priority is {given}; it must be 0 or more (a lower number is applied first)."), given)
                    : (int)given;
            }
            var action = string.Create(CultureInfo.InvariantCulture, $"Grant {amount} {Currency?.Trim().ToUpperInvariant()} of prepaid credit")
                + (expires is { } e ? string.Create(CultureInfo.InvariantCulture, $", expiring {e.ToUniversalTime():yyyy-MM-dd HH:mm} UTC") : "");
            if (!ShouldProcess(customer, action))
                return;
            var grant = Accounts.Grant(customer, amount, Currency ?? "", expires, priority, Description);
            WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Credit grant {grant.GrantId} for {customer}: {grant.Amount} {grant.Currency}{(grant.ExpiresAt is { } x ? $", expires {x:yyyy-MM-dd HH:mm} UTC" : "")}, priority {grant.Priority}."));
            WriteObject(grant);
        });
    }
}
