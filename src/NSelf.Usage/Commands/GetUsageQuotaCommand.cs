using System.Management.Automation;
using NSelf.Usage.Engine.Accounts;
using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Quotas and their prices (bash: quota_get_all): a customer's effective quotas (its plan's,
/// with its own overrides), or a plan's.
/// </summary>
[Cmdlet(VerbsCommon.Get, "UsageQuota", DefaultParameterSetName = CustomerSet)]
[OutputType(typeof(BillingQuota))]
public sealed class GetUsageQuotaCommand : BillingCmdlet
{
    private const string CustomerSet = "Customer";
    private const string PlanSet = "Plan";

    [Parameter(ParameterSetName = CustomerSet)]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = PlanSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(Completion.PlanNameCompleter))]
    public string Plan { get; set; } = "";

    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(Completion.ServiceNameCompleter))]
    public string[]? Service { get; set; }

    /// <summary>Add the customer's use in the current period (Used and Percent).</summary>
    [Parameter(ParameterSetName = CustomerSet)]
    public SwitchParameter IncludeUsage { get; set; }

    private protected override void Finish()
    {
        Try(() =>
        {
            bool Wanted(BillingQuota q) => Service is not { Length: > 0 } || Service.Contains(q.Service, StringComparer.OrdinalIgnoreCase);
            if (ParameterSetName == PlanSet)
            {
                var pattern = new WildcardPattern(Plan, WildcardOptions.IgnoreCase);
                WriteObject(Store.GetPlanQuotas().Where(q => pattern.IsMatch(q.Plan!) && Wanted(q)), enumerateCollection: true);
                return;
            }
            var terms = Book.Terms(Customer(CustomerId), DefaultZone);
            var usage = IncludeUsage
                ? new QuotaChecker(Book, Thresholds).Check(new[] { terms }, null, raiseAlerts: false).ToDictionary(c => c.Status.Service, c => c.Status)
                : new Dictionary<string, QuotaStatus>();
            foreach (var quota in terms.Quotas.Values.Where(Wanted).OrderBy(q => q.Service, StringComparer.Ordinal))
            {
                if (!usage.TryGetValue(quota.Service, out var status))
                {
                    WriteObject(quota);
                    continue;
                }
                WriteObject(new BillingQuota
                {
                    Plan = quota.Plan, CustomerId = quota.CustomerId ?? terms.CustomerId, Service = quota.Service, Limit = quota.Limit, LimitType = quota.LimitType,
                    UsageUnit = quota.UsageUnit, Enforcement = quota.Enforcement, ResetPeriod = quota.ResetPeriod, PricingModel = quota.PricingModel,
                    OveragePrice = quota.OveragePrice, Tiers = quota.Tiers, PackageSize = quota.PackageSize, PackagePrice = quota.PackagePrice,
                    Used = status.Used, Percent = status.Percent,
                });
            }
        });
    }
}
