using System.Management.Automation;
using NSelf.Usage.Engine;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Adds a custom metered service (for example 'tokens' in 'tokens').</summary>
[Cmdlet(VerbsLifecycle.Register, "UsageService", SupportsShouldProcess = true)]
[OutputType(typeof(UsageService))]
public sealed class RegisterUsageServiceCommand : UsageCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Unit { get; set; } = "";

    /// <summary>Flat display price per unit, used for Cost when no plan prices the service: a number, or plain invariant text such as '0.75'.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("DisplayPrice")]
    public object? Price { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidatePattern("^[A-Za-z]{3}$")]
    public string Currency { get; set; } = ServiceCatalog.DefaultCurrency;

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? Description { get; set; }

    /// <summary>Change the unit, price or description of a custom service that already exists.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var name = TextRules.ServiceName(Name);
            var unit = ServiceDefinition.Unit(Unit);
            var change = new ServiceChange
            {
                Price = MyInvocation.BoundParameters.ContainsKey(nameof(Price)) ? new(PowerShellValues.Number(Price, NumberKind.Money, "Price"), PowerShellValues.Unwrap(Price)) : null,
                Currency = IfBound(nameof(Currency), () => Currency),
                Description = IfBound(nameof(Description), () => Description),
            };
            // With -Force only what is given changes; the rest of an existing definition stays.
            Store.GetServices(refresh: true).TryFind(name, out var existing);
            var service = ServiceDefinition.Apply(name, unit, existing, change);
            if (!ShouldProcess(name, $"Register service with unit '{unit}'"))
                return;
            var stored = Store.RegisterService(service, Force);
            Session.Tracker.ServicesChanged();
            if (PassThru)
                WriteObject(stored);
        });
    }
}
