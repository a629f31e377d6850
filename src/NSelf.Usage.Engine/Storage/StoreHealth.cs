namespace NSelf.Usage.Engine.Storage;

/// <summary>The health report of a store that could not be reached.</summary>
public static class StoreHealth
{
    public static UsageStoreHealth Unreachable(UsageStoreBackend backend, string location, int pendingMigrations, TimeSpan latency, string error) => new()
    {
        Backend = backend,
        Location = location,
        Reachable = false,
        Writable = false,
        SchemaVersion = 0,
        PendingMigrations = pendingMigrations,
        ServerVersion = "",
        Latency = latency,
        StoredEvents = 0,
        ArchivedEvents = 0,
        Error = error,
    };
}
