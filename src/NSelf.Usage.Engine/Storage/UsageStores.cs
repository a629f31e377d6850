using NSelf.Usage.Engine.Configuration;
using NSelf.Usage.Engine.Storage.Sqlite;

namespace NSelf.Usage.Engine.Storage;

/// <summary>Opens the store a <see cref="StoreTarget"/> names.</summary>
public static class UsageStores
{
    public static IUsageStore Open(StoreTarget target, TimeProvider time) => target.Backend switch
    {
        UsageStoreBackend.Sqlite => new SqliteUsageStore(target.Address, time),
        _ => throw new UsageException(ErrorIds.StoreUnavailable, UsageErrorKind.NotSpecified,
            "PostgreSQL stores are not available in this build yet.", target.Backend),
    };
}
