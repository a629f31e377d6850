namespace NSelf.Usage.Engine.Ingestion;

/// <summary>The services a store knows: the six built-in ones plus registered custom services.</summary>
public sealed class ServiceCatalog
{
    public const string DefaultCurrency = "USD";

    /// <summary>
    /// The built-in services, with the bash library's units and flat display prices per unit.
    /// Stores seed these in their first migration.
    /// </summary>
    public static IReadOnlyList<UsageService> BuiltIn { get; } = new[]
    {
        Service("api", "requests", 0.0001m, "API requests"),
        Service("storage", "GB-hours", 0.001m, "Stored bytes over time"),
        Service("bandwidth", "GB", 0.01m, "Transferred bytes"),
        Service("compute", "CPU-hours", 0.05m, "CPU time"),
        Service("database", "queries", 0.00001m, "Database queries"),
        Service("functions", "invocations", 0.0002m, "Function invocations"),
    };

    private readonly Dictionary<string, UsageService> _byName;

    public ServiceCatalog(IEnumerable<UsageService> services)
    {
        _byName = services.ToDictionary(s => s.Name, StringComparer.OrdinalIgnoreCase);
    }

    public IReadOnlyCollection<UsageService> All => _byName.Values;

    public bool TryFind(string name, out UsageService service) => _byName.TryGetValue(name.Trim(), out service!);

    /// <summary>Finds a service by name (case-insensitive), or fails with InvalidService naming the known ones.</summary>
    public UsageService Find(string? name)
    {
        if (name is not null && TryFind(name, out var service))
            return service;
        var known = string.Join(", ", _byName.Keys.Order(StringComparer.Ordinal));
        throw new UsageException(ErrorIds.InvalidService, UsageErrorKind.InvalidArgument,
            $"'{TextRules.Shorten(name)}' is not a known service. Known services: {known}. Add one with Register-UsageService -Name <name> -Unit <unit>.", name);
    }

    /// <summary>
    /// The service of a stored usage row: the registered one, else an unregistered stand-in with
    /// no unit and no price (nself's bulk insert and psql store any name). Reads use this, never
    /// <see cref="Find"/>: stored usage is reported, not refused. The name is reported to the
    /// open <see cref="UnregisteredServices"/> watches.
    /// </summary>
    public UsageService Describe(string name)
    {
        if (TryFind(name, out var service))
            return service;
        UnregisteredServices.Report(name);
        return new UsageService
        {
            Name = name,
            Unit = "",
            DisplayPrice = 0m,
            Currency = DefaultCurrency,
            BuiltIn = false,
            Description = "Not registered: " + UnregisteredServices.Fix(name),
        };
    }

    /// <summary>Whether usage of this name can be priced: it is a built-in or registered service.</summary>
    public bool IsRegistered(string name) => TryFind(name, out _);

    /// <summary>A service's unit cannot change once usage was recorded in it: past totals would be relabelled.</summary>
    public static UsageException UnitInUse(UsageService service, string recordedUnit) =>
        new(ErrorIds.InvalidUnit, UsageErrorKind.InvalidOperation,
            $"Service '{service.Name}' has usage recorded in '{recordedUnit}'; its unit cannot change under that usage. Register a new service for '{service.Unit}'.", service.Unit);

    private static UsageService Service(string name, string unit, decimal price, string description) => new()
    {
        Name = name,
        Unit = unit,
        DisplayPrice = price,
        Currency = DefaultCurrency,
        BuiltIn = true,
        Description = description,
    };
}
