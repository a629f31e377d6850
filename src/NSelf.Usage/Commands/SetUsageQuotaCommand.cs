using System.Collections;
using System.Management.Automation;
using NSelf.Usage.Engine;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Sets a plan's quota and price for a service, or one customer's override of it.</summary>
[Cmdlet(VerbsCommon.Set, "UsageQuota", SupportsShouldProcess = true, DefaultParameterSetName = PlanSet)]
[OutputType(typeof(BillingQuota))]
public sealed class SetUsageQuotaCommand : BillingCmdlet
{
    private const string PlanSet = "Plan";
    private const string CustomerSet = "Customer";

    [Parameter(Mandatory = true, ParameterSetName = PlanSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Plan { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = CustomerSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    [AllowEmptyString, AllowNull] // so the command, not parameter binding, refuses it with a stable error id
    public string CustomerId { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Service { get; set; } = "";

    /// <summary>The limit (and included allowance), a whole number; -1 is unlimited.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public object? Limit { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public QuotaEnforcement Enforcement { get; set; }

    /// <summary>The price per billable unit beyond the limit (PerUnit pricing).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? OveragePrice { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public PricingModel PricingModel { get; set; }

    /// <summary>Tiers for Graduated or Volume pricing: hashtables with UpTo (omit on the last), UnitPrice and optionally FlatFee.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object[]? Tier { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? PackageSize { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public object? PackagePrice { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    public QuotaResetPeriod ResetPeriod { get; set; }

    /// <summary>nself's label of the limit's unit (requests, gb, cpu-hours...).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? LimitType { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord()
    {
        Try(() =>
        {
            var service = Store.GetServices(refresh: true).Find(Service);
            BillingQuota? basis;
            string? plan = null, customer = null;
            if (ParameterSetName == PlanSet)
            {
                plan = Book.RequirePlan(Plan).Name;
                basis = Store.GetPlanQuotas(plan).FirstOrDefault(q => q.Service == service.Name);
            }
            else
            {
                customer = Engine.Ingestion.TextRules.CustomerId(CustomerId);
                basis = Store.GetCustomerQuotas(customer).FirstOrDefault(q => q.Service == service.Name)
                    ?? Book.Terms(customer, DefaultZone).Quotas.GetValueOrDefault(service.Name);
            }
            var quota = QuotaDefinition.Apply(plan, customer, service, basis, new QuotaChange
            {
                Limit = IfBound(nameof(Limit), () => PowerShellValues.WholeNumber(Limit, nameof(Limit))),
                OveragePrice = IfBound(nameof(OveragePrice), () => PowerShellValues.Number(OveragePrice, NumberKind.Money, nameof(OveragePrice))),
                PackageSize = IfBound(nameof(PackageSize), () => PowerShellValues.Number(PackageSize, NumberKind.Quantity, nameof(PackageSize))),
                PackagePrice = IfBound(nameof(PackagePrice), () => PowerShellValues.Number(PackagePrice, NumberKind.Money, nameof(PackagePrice))),
                Tiers = IfBound<IReadOnlyList<PriceTier>>(nameof(Tier), () => ReadTiers(Tier)),
                PricingModel = IfBound(nameof(PricingModel), () => PricingModel),
                Enforcement = IfBound(nameof(Enforcement), () => Enforcement),
                ResetPeriod = IfBound(nameof(ResetPeriod), () => ResetPeriod),
                LimitType = LimitType is null ? null : new Given<string>(LimitType),
            }, Service);
            if (!ShouldProcess(customer ?? plan!, $"Set the {service.Name} quota to {(quota.Limit is { } l ? l.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unlimited")} ({quota.Enforcement}, {quota.PricingModel})"))
                return;
            var saved = Store.SaveQuota(quota);
            if (PassThru)
                WriteObject(saved);
        });
    }

    private static List<PriceTier> ReadTiers(object[]? tiers)
    {
        var list = new List<PriceTier>();
        foreach (var raw in tiers ?? Array.Empty<object>())
        {
            var value = PowerShellValues.Unwrap(raw);
            decimal? Get(string key)
            {
                object? found = value switch
                {
                    IDictionary d => d.Contains(key) ? d[key] : d.Keys.Cast<object>().Where(k => string.Equals(k?.ToString(), key, StringComparison.OrdinalIgnoreCase)).Select(k => d[k]).FirstOrDefault(),
                    PSObject ps => ps.Properties[key]?.Value,
                    PriceTier t => key switch { "UpTo" => t.UpTo, "UnitPrice" => t.UnitPrice, _ => t.FlatFee },
                    _ => null,
                };
                found = PowerShellValues.Unwrap(found);
                // The same rule as every money and quantity parameter: UpTo is a quantity, the
                // prices are money. A missing key is null (UpTo omitted on the last tier).
                return found is null ? null
                    : PowerShellValues.Number(found, key == "UpTo" ? NumberKind.Quantity : NumberKind.Money, $"The tier's {key}");
            }
            var unitPrice = Get("UnitPrice") ?? throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                "Every tier needs a UnitPrice, for example @{ UpTo = 1000; UnitPrice = 0.01 }.", raw);
            list.Add(new PriceTier { UpTo = Get("UpTo"), UnitPrice = unitPrice, FlatFee = Get("FlatFee") ?? 0m });
        }
        return list;
    }
}
