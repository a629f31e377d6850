using Microsoft.Extensions.Time.Testing;

namespace NSelf.Usage.Engine.Tests;

/// <summary>A folder for one test's files, deleted afterwards.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nself-usage-xunit-" + Guid.NewGuid().ToString("n")[..12]);
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { /* a pooled handle on some platforms; the OS temp cleaner gets it */ }
    }
}

/// <summary>A clock tests set to any instant, forward or back (a billing story jumps between months).</summary>
public sealed class SettableClock : TimeProvider
{
    private DateTimeOffset _now;

    public SettableClock(DateTimeOffset now) => _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void SetUtcNow(DateTimeOffset now) => _now = now;
}

public static class Clock
{
    /// <summary>A controllable clock set to a fixed instant (default 2026-11-27 12:00 UTC).</summary>
    public static FakeTimeProvider At(DateTimeOffset? now = null) =>
        new(now ?? new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero)) { AutoAdvanceAmount = TimeSpan.Zero };

    public static DateTimeOffset Utc(int year, int month, int day, int hour = 0, int minute = 0, int second = 0, int ms = 0) =>
        new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero).AddMilliseconds(ms);
}
