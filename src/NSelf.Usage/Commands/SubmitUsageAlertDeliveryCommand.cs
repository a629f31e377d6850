using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Sends the alert deliveries that are due (for a scheduled job; Test-UsageQuota does the same at
/// its end), or with -DeliveryId those deliveries now, a failed one included. Emits each delivery
/// as it stands after its attempt.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "UsageAlertDelivery", SupportsShouldProcess = true)]
[OutputType(typeof(UsageAlertDelivery))]
public sealed class SubmitUsageAlertDeliveryCommand : BillingCmdlet
{
    /// <summary>These deliveries now, waiting for a retry or failed (Get-UsageAlertDelivery -Status Failed | Submit-UsageAlertDelivery).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [PlainWholeNumber]
    public long[]? DeliveryId { get; set; }

    private Engine.Alerts.AlertDeliverer? _deliverer;
    private int _delivered;
    private int _attempted;

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            if (DeliveryId is null)
            {
                if (ShouldProcess(Store.Location, "Send the alert deliveries that are due"))
                    Emit(Deliverer.Deliver(null, StopToken));
                return;
            }
            foreach (var id in DeliveryId)
            {
                var known = Store.GetAlertDeliveries(new Engine.Storage.AlertDeliveryFilter { DeliveryId = id }, Now).SingleOrDefault();
                if (known is null || known.Status is AlertDeliveryStatus.Delivered or AlertDeliveryStatus.Cancelled)
                {
                    WriteUsageError(new UsageException(ErrorIds.AlertDeliveryNotFound, known is null ? UsageErrorKind.ObjectNotFound : UsageErrorKind.InvalidOperation,
                        known is null ? $"No alert delivery has the id {id} (Get-UsageAlertDelivery lists them)."
                            : $"Alert delivery {id} is {known.Status.ToString().ToLowerInvariant()}: there is nothing to send.", id));
                    continue;
                }
                if (ShouldProcess($"alert delivery {id} ({known.Action}, alert {known.AlertId})", "Send now") && Emit(Deliverer.Deliver([id], StopToken)) == 0)
                    WriteWarning($"Alert delivery {id} is being sent by another sender now; Get-UsageAlertDelivery shows how that ends.");
            }
        });
    }

    private Engine.Alerts.AlertDeliverer Deliverer => _deliverer ??= NewDeliverer();

    private protected override void Finish() =>
        WriteVerbose($"{_attempted:N0} alert deliver{(_attempted == 1 ? "y" : "ies")} attempted, {_delivered:N0} delivered.");

    private int Emit(IEnumerable<UsageAlertDelivery> deliveries)
    {
        var count = 0;
        foreach (var delivery in deliveries)
        {
            _attempted++;
            if (delivery.Status == AlertDeliveryStatus.Delivered)
                _delivered++;
            WriteObject(delivery);
            count++;
        }
        return count;
    }
}
