namespace NSelf.Usage.Engine.Billing;

/// <summary>
/// nself's quotas and usage are not always in the same unit. The rules, in one place:
/// <list type="bullet">
/// <item>storage: the limit is GB (limit_type 'gb') and usage is GB-hours; usage is divided by
/// the hours in the quota period, giving the average GB stored over it. So a 10 GB quota allows
/// 10 GB kept all period long (or 20 GB for half of it).</item>
/// <item>database: nself labels the limit 'connections', but usage counts queries; the limit is
/// applied to queries.</item>
/// <item>every other service: the limit is in the service's own unit.</item>
/// </list>
/// </summary>
public static class QuotaUnits
{
    public static bool IsTimeAveraged(string service, string limitType) =>
        service == "storage" && limitType.Trim().Equals("gb", StringComparison.OrdinalIgnoreCase);

    /// <summary>The hours of a period, exactly (a DST month has one more or one fewer).</summary>
    public static decimal Hours(DateTimeOffset start, DateTimeOffset end) => (decimal)(end - start).Ticks / TimeSpan.TicksPerHour;

    /// <summary>Converts usage in the service's unit to the quota's unit over a period.</summary>
    public static decimal ToQuotaUnits(string service, string limitType, decimal used, DateTimeOffset periodStart, DateTimeOffset periodEnd) =>
        IsTimeAveraged(service, limitType) ? used / Hours(periodStart, periodEnd) : used;

    /// <summary>The unit of storage under a GB quota: its lines' Quantity is this average, not the GB-hours billed.</summary>
    public const string AverageGb = "GB (average over the period)";

    /// <summary>What a quota's limit is counted in, for display.</summary>
    public static string UnitOf(string service, string limitType, string serviceUnit) =>
        IsTimeAveraged(service, limitType) ? AverageGb
        : service == "database" ? "queries"
        : serviceUnit;
}
