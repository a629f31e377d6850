namespace NSelf.Usage.Engine.Ingestion;

/// <summary>
/// The unregistered service names reads met while it is watching. nself's own tools (its bulk
/// insert, psql) store usage of any service name; reads report that usage unpriced instead of
/// failing, and the caller (the cmdlet base) tells the operator once how to price it.
/// Ambient (per async flow) rather than a parameter: the names are met deep inside pricing and
/// invoice building, and threading a sink through every one of those signatures would touch
/// every reading path for what is only a notice.
/// </summary>
public sealed class UnregisteredServices : IDisposable
{
    private static readonly AsyncLocal<UnregisteredServices?> Current = new();

    private readonly UnregisteredServices? _outer;
    private readonly SortedSet<string> _met = new(StringComparer.Ordinal);
    private bool _disposed;

    private UnregisteredServices(UnregisteredServices? outer) => _outer = outer;

    /// <summary>Starts watching; nested watches each see every name met while they are open.</summary>
    public static UnregisteredServices Watch() => Current.Value = new UnregisteredServices(Current.Value);

    /// <summary>The unregistered names met so far, in ordinal order.</summary>
    public IReadOnlyCollection<string> Met
    {
        get
        {
            lock (_met)
                return _met.ToList();
        }
    }

    internal static void Report(string name)
    {
        for (var watch = Current.Value; watch is not null; watch = watch._outer)
            lock (watch._met)
                watch._met.Add(name);
    }

    public void Dispose()
    {
        if (_disposed)
            return;
        _disposed = true;
        Current.Value = _outer;
    }

    /// <summary>How to price a service the store has usage of but no registration for.</summary>
    public static string Fix(string name) => $"Register-UsageService -Name {name} -Unit <unit>";
}
