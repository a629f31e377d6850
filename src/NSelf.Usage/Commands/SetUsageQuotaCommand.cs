using System.Collections;
using System.Management.Automation;
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
            var bound = MyInvocation.BoundParameters;
            long? limit = bound.ContainsKey(nameof(Limit)) ? PowerShellValues.WholeNumber(Limit, nameof(Limit)) : null;
            decimal? overagePrice = bound.ContainsKey(nameof(OveragePrice)) ? PowerShellValues.Number(OveragePrice, NumberKind.Money, nameof(OveragePrice)) : null;
            decimal? packageSizeGiven = bound.ContainsKey(nameof(PackageSize)) ? PowerShellValues.Number(PackageSize, NumberKind.Quantity, nameof(PackageSize)) : null;
            decimal? packagePriceGiven = bound.ContainsKey(nameof(PackagePrice)) ? PowerShellValues.Number(PackagePrice, NumberKind.Money, nameof(PackagePrice)) : null;
            if (basis is null && limit is null)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"There is no quota for '{service.Name}' yet: give -Limit.", Service);
            if (limit < -1)
                throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"-Limit {limit} must be -1 (unlimited) or zero or more.", limit);
            var tiers = bound.ContainsKey(nameof(Tier)) ? ReadTiers(Tier) : basis?.Tiers ?? Array.Empty<PriceTier>();
            var model = bound.ContainsKey(nameof(PricingModel)) ? PricingModel : basis?.PricingModel ?? PricingModel.PerUnit;
            var overage = overagePrice ?? basis?.OveragePrice ?? 0m;
            decimal? packageSize = packageSizeGiven ?? basis?.PackageSize;
            decimal? packagePrice = packagePriceGiven ?? basis?.PackagePrice;
            ServicePricing.Validate(model, overage, tiers, packageSize, packagePrice);
            // nself's limit_type is varchar(50): the same bound (and no NUL or broken text) on every store.
            var limitType = LimitType is null ? basis?.LimitType ?? service.Unit
                : Engine.Ingestion.TextRules.Text(LimitType, "The limit type", ErrorIds.InvalidArgument, 50);
            var quota = new BillingQuota
            {
                Plan = plan,
                CustomerId = customer,
                Service = service.Name,
                Limit = limit is { } given ? (given < 0 ? null : given) : basis!.Limit,
                LimitType = limitType,
                UsageUnit = QuotaUnits.UnitOf(service.Name, limitType, service.Unit),
                Enforcement = bound.ContainsKey(nameof(Enforcement)) ? Enforcement : basis?.Enforcement ?? QuotaEnforcement.Soft,
                ResetPeriod = bound.ContainsKey(nameof(ResetPeriod)) ? ResetPeriod : basis?.ResetPeriod ?? QuotaResetPeriod.Monthly,
                PricingModel = model,
                OveragePrice = overage,
                Tiers = tiers,
                PackageSize = packageSize,
                PackagePrice = packagePrice,
            };
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
