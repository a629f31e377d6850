using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage.Postgres;
using NSelf.Usage.Engine.Storage.Sqlite;

namespace NSelf.Usage.Engine.Storage;

/// <summary>Opens the store a <see cref="StoreTarget"/> names.</summary>
public static class UsageStores
{
    public static IUsageStore Open(StoreTarget target, TimeProvider time) => target.Backend switch
    {
        UsageStoreBackend.Sqlite => new SqliteUsageStore(target.Address, time),
        _ => new PostgresUsageStore(target.Address, target.CustomerScope, time),
    };
}
