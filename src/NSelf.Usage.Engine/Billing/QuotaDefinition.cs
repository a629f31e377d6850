namespace NSelf.Usage.Engine.Billing;

/// <summary>What Set-UsageQuota was given; each part left null keeps the value of the quota it changes.</summary>
public sealed class QuotaChange
{
    /// <summary>The limit; -1 is unlimited (nself's spelling).</summary>
    public Given<long>? Limit { get; init; }
    public Given<QuotaEnforcement>? Enforcement { get; init; }
    public Given<decimal>? OveragePrice { get; init; }
    public Given<PricingModel>? PricingModel { get; init; }
    public Given<IReadOnlyList<PriceTier>>? Tiers { get; init; }
    public Given<decimal>? PackageSize { get; init; }
    public Given<decimal>? PackagePrice { get; init; }
    public Given<QuotaResetPeriod>? ResetPeriod { get; init; }
    public Given<string>? LimitType { get; init; }
}

/// <summary>
/// The rules of a quota's definition: what a change makes of the quota it starts from (the
/// plan's or customer's stored one, or for a customer without an override the plan's), and the
/// bounds every store keeps.
/// </summary>
public static class QuotaDefinition
{
    /// <summary>nself's limit_type is varchar(50).</summary>
    public const int LimitTypeLength = 50;

    /// <summary>
    /// The quota a change makes for <paramref name="plan"/> or <paramref name="customerId"/>
    /// (exactly one of them). Without a quota to start from, the change must give a limit.
    /// </summary>
    /// <param name="basis">The quota the change starts from; null when there is none.</param>
    /// <param name="serviceAsGiven">The service as the caller wrote it, for an error's TargetObject.</param>
    public static BillingQuota Apply(string? plan, string? customerId, UsageService service, BillingQuota? basis, QuotaChange change, object? serviceAsGiven = null)
    {
        if ((plan is null) == (customerId is null))
            throw new ArgumentException("A quota belongs to a plan or to one customer.", nameof(plan));
        var limit = change.Limit;
        if (basis is null && limit is null)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"There is no quota for '{service.Name}' yet: give -Limit.", serviceAsGiven ?? service.Name);
        if (limit is { Value: < -1 } refused)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument, $"-Limit {refused.Value} must be -1 (unlimited) or zero or more.", refused.Value);
        var tiers = change.Tiers?.Value ?? basis?.Tiers ?? Array.Empty<PriceTier>();
        var model = change.PricingModel?.Value ?? basis?.PricingModel ?? PricingModel.PerUnit;
        var overage = change.OveragePrice?.Value ?? basis?.OveragePrice ?? 0m;
        var packageSize = change.PackageSize?.Value ?? basis?.PackageSize;
        var packagePrice = change.PackagePrice?.Value ?? basis?.PackagePrice;
        ServicePricing.Validate(model, overage, tiers, packageSize, packagePrice);
        // The same bound (and no NUL or broken text) on every store.
        var limitType = change.LimitType is { } given
            ? Ingestion.TextRules.Text(given.Value, "The limit type", ErrorIds.InvalidArgument, LimitTypeLength)
            : basis?.LimitType ?? service.Unit;
        return new BillingQuota
        {
            Plan = plan,
            CustomerId = customerId,
            Service = service.Name,
            Limit = limit is { } l ? (l.Value < 0 ? null : l.Value) : basis!.Limit,
            LimitType = limitType,
            UsageUnit = QuotaUnits.UnitOf(service.Name, limitType, service.Unit),
            Enforcement = change.Enforcement?.Value ?? basis?.Enforcement ?? QuotaEnforcement.Soft,
            ResetPeriod = change.ResetPeriod?.Value ?? basis?.ResetPeriod ?? QuotaResetPeriod.Monthly,
            PricingModel = model,
            OveragePrice = overage,
            Tiers = tiers,
            PackageSize = packageSize,
            PackagePrice = packagePrice,
        };
    }
}
