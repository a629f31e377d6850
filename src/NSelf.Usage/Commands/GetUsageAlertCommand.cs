using System.Management.Automation;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Quota alerts recorded in the last days (bash: usage_get_alerts).</summary>
[Cmdlet(VerbsCommon.Get, "UsageAlert")]
[OutputType(typeof(UsageAlert))]
public sealed class GetUsageAlertCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(1, 3660)]
    [PlainWholeNumber]
    public int Days { get; set; } = 7;

    [Parameter]
    [ValidateSet("Warning", "Critical", "Exceeded")]
    public string? Level { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string? Service { get; set; }

    private protected override void Finish()
    {
        Try(() =>
        {
            var customer = Customer();
            var service = Service is null ? null : Store.GetServices().Find(Service).Name;
            var level = Level is null ? (QuotaLevel?)null : Enum.Parse<QuotaLevel>(Level, ignoreCase: true);
            WriteObject(Store.GetAlerts(customer, Now.AddDays(-Days), level, service), enumerateCollection: true);
        });
    }
}
