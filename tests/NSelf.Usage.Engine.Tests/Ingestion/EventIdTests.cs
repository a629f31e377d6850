using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class EventIdTests
{
    [Fact]
    public void New_IsAVersion7UuidLedByTheCreationTime()
    {
        var now = new DateTimeOffset(2026, 12, 6, 20, 15, 30, 123, TimeSpan.Zero);
        var id = EventIds.New(now);
        var bytes = Guid.Parse(id).ToByteArray(bigEndian: true);
        Assert.Equal(7, bytes[6] >> 4);
        Assert.Equal(0b10, bytes[8] >> 6);
        var ms = 0L;
        for (var i = 0; i < 6; i++)
            ms = (ms << 8) | bytes[i];
        Assert.Equal(now.ToUnixTimeMilliseconds(), ms);
        Assert.Matches("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", id);
    }

    [Fact]
    public void New_IsUniqueAndEveryRandomBitVaries()
    {
        var now = DateTimeOffset.UnixEpoch.AddYears(56);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ones = new int[16 * 8];
        const int count = 20_000;
        for (var n = 0; n < count; n++)
        {
            var id = EventIds.New(now);
            Assert.True(seen.Add(id));
            var bytes = Guid.Parse(id).ToByteArray(bigEndian: true);
            for (var bit = 0; bit < ones.Length; bit++)
                ones[bit] += (bytes[bit / 8] >> (7 - bit % 8)) & 1;
        }
        // The 74 random bits (all but the 48-bit time, the version nibble and the variant) are each
        // set in about half the ids: a bit stuck at 0 or 1 would show as 0 or 20,000.
        for (var bit = 48; bit < ones.Length; bit++)
        {
            if (bit is >= 48 and < 52 || bit is 64 or 65)
                continue;
            Assert.InRange(ones[bit], count * 0.45, count * 0.55);
        }
    }
}
