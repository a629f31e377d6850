using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Checks quotas (bash: usage_check_alerts, usage_check_service_alert, billing_check_quota):
/// use in the current period against each limit, an alert recorded the first time a level is
/// reached in a period, and the bash library's warning line for each new alert.
/// </summary>
/// <remarks>-WhatIf still checks and emits every status, and records no alert; ConfirmImpact is
/// low, as recording an alert changes no bill and no limit.</remarks>
[Cmdlet(VerbsDiagnostic.Test, "UsageQuota", DefaultParameterSetName = StatusSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(QuotaStatus), ParameterSetName = new[] { StatusSet })]
[OutputType(typeof(bool), ParameterSetName = new[] { QuietSet })]
public sealed class TestUsageQuotaCommand : BillingCmdlet
{
    private const string StatusSet = "Status";
    private const string QuietSet = "Quiet";

    [Parameter(Position = 0, ParameterSetName = StatusSet)]
    [Parameter(Position = 0, ParameterSetName = QuietSet, Mandatory = true)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string? Service { get; set; }

    /// <summary>The quantity about to be used (default 1); only -Quiet answers whether it fits.</summary>
    [Parameter(Position = 1, ParameterSetName = QuietSet)]
    public object? Quantity { get; set; } = 1m;

    /// <summary>
    /// Answer only $true when -Quantity more is allowed ($false only past a hard limit). Giving
    /// -Quantity asks the same question (the bash billing_check_quota customer service quantity).
    /// </summary>
    [Parameter(ParameterSetName = QuietSet)]
    public SwitchParameter Quiet { get; set; }

    [Parameter(ParameterSetName = StatusSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(ParameterSetName = QuietSet, ValueFromPipelineByPropertyName = true)]
    [Alias("customer_id")]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string[]? CustomerId { get; set; } = NotGivenCustomerIds;

    /// <summary>Check every customer with a subscription or a quota override, in one pass.</summary>
    [Parameter(ParameterSetName = StatusSet)]
    public SwitchParameter AllCustomers { get; set; }

    // Whether this run may send alerts: not under -WhatIf (nothing recorded, nothing sent).
    private bool _checked;

    /// <summary>
    /// At the end, the alert deliveries that are due (the ones this run queued, and any waiting for
    /// a retry) are sent; a failure is a warning (the check itself succeeded) and the delivery is
    /// retried later. One indexed read when nothing is due.
    /// </summary>
    private protected override void Finish()
    {
        if (!_checked || MyInvocation.BoundParameters.ContainsKey("WhatIf"))
            return;
        Try(() =>
        {
            if (!Store.HasDueAlertDeliveries(Now))
                return;
            foreach (var delivery in NewDeliverer().Deliver(null, StopToken))
                if (delivery.Status == AlertDeliveryStatus.Delivered)
                    WriteVerbose($"Alert {delivery.AlertId} delivered to '{delivery.Action}'.");
                else
                    WriteWarning($"Alert {delivery.AlertId} was not delivered to '{delivery.Action}' (attempt {delivery.Attempts}): {Sentence(delivery.LastError)} "
                        + (delivery.Status == AlertDeliveryStatus.Failed ? "No attempts are left: Submit-UsageAlertDelivery -DeliveryId " + delivery.DeliveryId + " tries again."
                            : $"It is tried again from {delivery.NextAttemptAt:u} (Submit-UsageAlertDelivery)."));
        });
    }

    // The delivery's error as a sentence of the warning: an HTTP answer or a socket error has no full stop of its own.
    private static string Sentence(string? error) => error is null ? "" : error.EndsWith('.') ? error : error + ".";

    // Per record: each piped customer (Get-BillingSubscription | Test-UsageQuota) is checked on its own.
    protected override void ProcessRecord()
    {
        foreach (var given in EachCustomerId(CustomerId))
            Check(given);
    }

    private void Check(string? given)
    {
        Try(() =>
        {
            var service = Service is null ? null : Store.GetServices().Find(Service).Name;
            var quantity = QuotaChecker.Requested(PowerShellValues.Number(Quantity, NumberKind.Quantity, nameof(Quantity)), PowerShellValues.Unwrap(Quantity));
            var book = Book;
            var customer = CustomerOrAll(given, AllCustomers);
            // Every customer's check reads for seconds on a big store: a bar says so (one customer's does not).
            var progress = customer is null ? new ProgressRecord(5, "Test-UsageQuota", "Checking every customer's quotas") { StatusDescription = "Reading subscriptions" } : null;
            if (progress is not null)
                WriteProgress(progress);
            var terms = customer is null ? book.TermsFor(null, DefaultZone) : new[] { book.Terms(customer, DefaultZone) };
            if (progress is not null)
            {
                progress.StatusDescription = $"Reading the usage of {terms.Count:N0} customers";
                WriteProgress(progress);
            }
            var checks = new QuotaChecker(book, Thresholds).Check(terms, service, raiseAlerts: true, prefixCustomer: AllCustomers,
                confirm: alert => ShouldProcess($"{alert.CustomerId} {alert.Service}", string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"Record a quota alert ({alert.Level}) for the period from {alert.PeriodStart.UtcDateTime:yyyy-MM-dd HH:mm} UTC: {alert.Message}")));
            // A check that failed (the store went away) sends nothing: one error, not a second one.
            _checked = true;
            // PowerShell shows every warning as "WARNING: <text>", so the bash line that already
            // starts with it is written without, and reads exactly as the bash library's.
            if (progress is not null)
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
            foreach (var check in checks.Where(c => c.Warning is not null))
                WriteWarning(check.Warning!.StartsWith("WARNING: ", StringComparison.Ordinal) ? check.Warning[9..] : check.Warning);
            if (ParameterSetName == QuietSet)
            {
                WriteObject(QuotaChecker.Fits(checks, terms[0].Quotas, quantity));
                return;
            }
            WriteObject(checks.Select(c => c.Status), enumerateCollection: true);
        });
    }
}
