using Microsoft.Data.Sqlite;

namespace NSelf.Usage.Engine.Storage.Sqlite;

/// <summary>
/// The one place a SQLite store's failures get their error ids (used by the
/// <see cref="FailureTranslatingStore"/> around every SQLite store).
/// </summary>
internal static class SqliteFailures
{
    // SQLite result codes (the primary code; extended codes keep it in the low byte).
    private const int Permission = 3, Busy = 5, Locked = 6, IoError = 10, Corrupt = 11, CannotOpen = 14, Authorization = 23, NotADatabase = 26;

    public static UsageException Translate(Exception e, string location, bool writing)
    {
        if (e is UsageException usage)
            return usage;
        if (e is SqliteException sqlite)
        {
            switch (sqlite.SqliteErrorCode & 0xFF)
            {
                case CannotOpen or NotADatabase or Permission or Authorization:
                    return Unavailable(location, sqlite.Message, e);
                case Busy or Locked:
                    return Unavailable(location, "another process holds its lock past the busy timeout: " + sqlite.Message, e);
                case Corrupt or IoError:
                    return Failed(location, writing, "the file is damaged or could not be read (" + sqlite.Message + ")", e);
            }
            return Failed(location, writing, sqlite.Message, e);
        }
        if (e is IOException or UnauthorizedAccessException)
            return Unavailable(location, e.Message, e);
        // InvalidCastException, FormatException, OverflowException and the like: a row this module
        // did not write the way it writes them (a foreign writer, a hand edit), or a damaged file.
        return Failed(location, writing, $"{e.GetType().Name}: {e.Message}", e);
    }

    private static UsageException Unavailable(string location, string reason, Exception e) =>
        new(ErrorIds.StoreUnavailable, UsageErrorKind.ResourceUnavailable, $"The SQLite store {location} is not available: {reason.TrimEnd('.')}.", location, e);

    private static UsageException Failed(string location, bool writing, string reason, Exception e) => writing
        ? new(ErrorIds.StoreWriteFailed, UsageErrorKind.WriteError, $"Writing to the SQLite store {location} failed; nothing was written: {reason.TrimEnd('.')}.", location, e)
        : new(ErrorIds.StoreReadFailed, UsageErrorKind.ReadError, $"Reading the SQLite store {location} failed: {reason.TrimEnd('.')}.", location, e);
}
