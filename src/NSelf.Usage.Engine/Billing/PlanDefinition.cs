namespace NSelf.Usage.Engine.Billing;

/// <summary>What Set-BillingPlan was given; each part left null keeps the stored plan's value (named apart from PlanChange, a subscription's plan history).</summary>
public sealed class PlanEdit
{
    public Given<string?>? DisplayName { get; init; }
    public Given<string?>? Description { get; init; }
    public Given<decimal>? PriceMonthly { get; init; }
    public Given<decimal>? PriceYearly { get; init; }
    public Given<string?>? Currency { get; init; }
    public Given<bool>? Active { get; init; }
    public Given<int>? SortOrder { get; init; }
}

/// <summary>
/// The rules of a plan's definition: what a change makes of the stored plan, and the bounds of
/// its fees and texts, the same on every store.
/// </summary>
public static class PlanDefinition
{
    /// <summary>nself's billing_plans keeps fees as numeric(10,2): cents, below 100 million.</summary>
    public const decimal FeeCeiling = 100_000_000m;

    /// <summary>nself's display_name is varchar(255).</summary>
    public const int DisplayNameLength = 255;

    /// <summary>
    /// A base fee as given: from 0 to below <see cref="FeeCeiling"/>, whole cents. Anything else
    /// would be rounded or refused by PostgreSQL alone, so SQLite refuses it too.
    /// </summary>
    /// <param name="what">The parameter's name, for the message.</param>
    /// <param name="target">The value as the caller gave it, for the error's TargetObject.</param>
    public static decimal Fee(decimal value, string what, object? target)
    {
        if (value < 0 || value >= FeeCeiling || decimal.Round(value, 2) != value)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"-{what} {value} must be from 0 to 99,999,999.99, with at most two decimal places.", target);
        return value;
    }

    /// <summary>
    /// The plan a change makes: what was given (checked in the order of the parameters), else the stored plan's value, else the defaults of a new plan (no fees, USD, active, first).
    /// </summary>
    public static BillingPlan Apply(string name, BillingPlan? existing, PlanEdit change) => new()
    {
        Name = Ingestion.TextRules.PlanName(name),
        // Both texts are checked like every other text field (no NUL, no unpaired surrogate), so
        // SQLite and PostgreSQL accept the same values.
        DisplayName = change.DisplayName is { } display ? Text(display.Value, "The display name", DisplayNameLength) : existing?.DisplayName,
        Description = change.Description is { } description ? Text(description.Value, "The description", Ingestion.TextRules.MaximumTextLength) : existing?.Description,
        PriceMonthly = change.PriceMonthly is { } monthly ? Fee(monthly.Value, "PriceMonthly", monthly.AsGiven) : existing?.PriceMonthly ?? 0m,
        PriceYearly = change.PriceYearly is { } yearly ? Fee(yearly.Value, "PriceYearly", yearly.AsGiven) : existing?.PriceYearly ?? 0m,
        Currency = change.Currency is { } currency ? Money.Currency(currency.Value) : existing?.Currency ?? "USD",
        IsActive = change.Active?.Value ?? existing?.IsActive ?? true,
        SortOrder = change.SortOrder?.Value ?? existing?.SortOrder ?? 0,
    };

    private static string? Text(string? value, string what, int maximum) =>
        value is null ? null : Ingestion.TextRules.Text(value, what, ErrorIds.InvalidArgument, maximum);
}
