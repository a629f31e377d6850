namespace NSelf.Usage.Engine.Ingestion;

/// <summary>What Register-UsageService was given besides the name and unit; each part left null keeps the stored definition's value.</summary>
public sealed class ServiceChange
{
    public Given<decimal>? Price { get; init; }
    public Given<string>? Currency { get; init; }
    public Given<string?>? Description { get; init; }
}

/// <summary>The rules of a custom service's definition, the same on every store.</summary>
public static class ServiceDefinition
{
    /// <summary>The display price column is numeric(20,10) on PostgreSQL: below 10^10 ...</summary>
    public const decimal PriceCeiling = 10_000_000_000m;

    /// <summary>... with 10 decimal places.</summary>
    public const int PriceScale = 10;

    /// <summary>A unit name's bound (varchar(50) in nself's schema).</summary>
    public const int UnitLength = 50;

    /// <summary>A description's bound.</summary>
    public const int DescriptionLength = 500;

    /// <summary>
    /// The custom service a registration makes. Of an existing service only what is given changes
    /// (Register-UsageService -Force); a new one takes the defaults (price 0, USD, no description).
    /// </summary>
    public static UsageService Apply(string name, string unit, UsageService? existing, ServiceChange change)
    {
        unit = Unit(unit);
        var price = Price(change.Price?.Value ?? 0m, change.Price?.AsGiven);
        return new UsageService
        {
            Name = name,
            Unit = unit,
            DisplayPrice = change.Price is not null || existing is null ? price : existing.DisplayPrice,
            Currency = change.Currency is { } currency ? currency.Value.ToUpperInvariant() : existing?.Currency ?? ServiceCatalog.DefaultCurrency,
            BuiltIn = false,
            Description = change.Description is { } description
                ? (description.Value is null ? null : TextRules.Text(description.Value, "The description", ErrorIds.InvalidArgument, DescriptionLength))
                : existing?.Description,
        };
    }

    /// <summary>A unit name: trimmed, not empty, at most <see cref="UnitLength"/> characters of valid text.</summary>
    public static string Unit(string? given)
    {
        var unit = TextRules.Text(given, "The unit", ErrorIds.InvalidUnit, UnitLength).Trim();
        if (unit.Length == 0)
            throw new UsageException(ErrorIds.InvalidUnit, UsageErrorKind.InvalidArgument, "The unit is empty; name what one unit of the service is, such as 'tokens' or 'messages'.", given);
        return unit;
    }

    /// <summary>A display price: from 0 to below <see cref="PriceCeiling"/>, at most <see cref="PriceScale"/> places; trailing zeros dropped.</summary>
    public static decimal Price(decimal value, object? asGiven)
    {
        if (value < 0 || value >= PriceCeiling || decimal.Round(value, PriceScale) != value)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"Price {Quantities.Format(value)} must be from 0 to below 10,000,000,000, with at most 10 decimal places.", asGiven);
        return Quantities.Normalize(value);
    }
}
