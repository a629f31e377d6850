using System.Management.Automation;
using NSelf.Usage.Engine.Storage;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Alert deliveries: each alert on its way to each action, its attempts and last error.</summary>
[Cmdlet(VerbsCommon.Get, "UsageAlertDelivery")]
[OutputType(typeof(UsageAlertDelivery))]
public sealed class GetUsageAlertDeliveryCommand : CustomerScopedCmdlet
{
    [Parameter]
    [ValidateSet("Pending", "Delivered", "Failed", "Cancelled", IgnoreCase = true)]
    public string? Status { get; set; }

    /// <summary>One action's deliveries (by name; kept after the action is removed).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.AlertActionCompleter))]
    [AllowEmptyString, AllowNull]
    public string? Action { get; set; }

    /// <summary>One alert's deliveries (Get-UsageAlert | Get-UsageAlertDelivery).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [PlainWholeNumber]
    public long? AlertId { get; set; }

    protected override void ProcessRecord()
    {
        ForEachCustomer(null, filter =>
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(Action)) && string.IsNullOrWhiteSpace(Action))
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, "-Action is empty: name an action, or leave -Action out for every one.", Action);
            var deliveries = Store.GetAlertDeliveries(new AlertDeliveryFilter
            {
                CustomerId = filter.CustomerId,
                Status = Status is null ? null : Enum.Parse<AlertDeliveryStatus>(Status, ignoreCase: true),
                Action = Action?.Trim(),
                AlertId = AlertId,
            }, Now);
            WriteVerbose($"{deliveries.Count:N0} alert deliver{(deliveries.Count == 1 ? "y" : "ies")} in {Store.Location}.");
            WriteObject(deliveries, enumerateCollection: true);
        });
    }
}
