using System.Management.Automation;
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
            var unit = TextRules.Text(Unit, "The unit", ErrorIds.InvalidUnit, 50).Trim();
            if (unit.Length == 0)
                throw new UsageException(ErrorIds.InvalidUnit, UsageErrorKind.InvalidArgument, "The unit is empty; name what one unit of the service is, such as 'tokens' or 'messages'.", Unit);
            var bound = MyInvocation.BoundParameters;
            var price = bound.ContainsKey(nameof(Price)) ? PowerShellValues.Number(Price, NumberKind.Money, "Price") : 0m;
            // The column is numeric(20,10) on PostgreSQL: 10 places, below 10^10.
            if (price < 0 || price >= 10_000_000_000m || decimal.Round(price, 10) != price)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"Price {Quantities.Format(price)} must be from 0 to below 10,000,000,000, with at most 10 decimal places.", PowerShellValues.Unwrap(Price));
            // With -Force only what is given changes; the rest of an existing definition stays.
            Store.GetServices(refresh: true).TryFind(name, out var existing);
            var service = new UsageService
            {
                Name = name,
                Unit = unit,
                DisplayPrice = bound.ContainsKey(nameof(Price)) || existing is null ? Quantities.Normalize(price) : existing.DisplayPrice,
                Currency = bound.ContainsKey(nameof(Currency)) || existing is null ? Currency.ToUpperInvariant() : existing.Currency,
                BuiltIn = false,
                Description = bound.ContainsKey(nameof(Description)) || existing is null
                    ? (Description is null ? null : TextRules.Text(Description, "The description", ErrorIds.InvalidArgument, 500))
                    : existing.Description,
            };
            if (!ShouldProcess(name, $"Register service with unit '{unit}'"))
                return;
            var stored = Store.RegisterService(service, Force);
            Session.Tracker.ServicesChanged();
            if (PassThru)
                WriteObject(stored);
        });
    }
}
