using NSelf.Usage.Engine.Billing;
using NSelf.Usage.Engine.Storage;

namespace NSelf.Usage.Internal;

internal static class StoreInfo
{
    public static UsageStore Describe(IUsageStore store, UsageStoreSource source) => new()
    {
        Backend = store.Backend,
        Location = store.Location,
        Source = source,
        SchemaVersion = store.GetSchemaVersion(),
        LatestSchemaVersion = store.LatestSchemaVersion,
        CustomerScope = store.CustomerScope,
    };
}
