namespace NSelf.Usage.Engine.Time;

/// <summary>
/// Instants as whole microseconds since the Unix epoch, UTC: PostgreSQL's timestamp precision,
/// and SQLite's storage form (an integer that sorts and compares exactly).
/// </summary>
internal static class Micros
{
    private const long TicksPerMicro = 10;

    public static long From(DateTimeOffset instant) => (instant.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TicksPerMicro;

    public static DateTimeOffset ToInstant(long micros) => new(DateTimeOffset.UnixEpoch.UtcTicks + micros * TicksPerMicro, TimeSpan.Zero);

    /// <summary>Drops sub-microsecond ticks so what is stored equals what was validated.</summary>
    public static DateTimeOffset Truncate(DateTimeOffset instant) => ToInstant(From(instant));
}
