using System.Buffers;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Tracking;

public sealed class SpoolTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 1, 0, 0, TimeSpan.Zero);

    private static UsageEvent Event(int n, string metadata = "{}") =>
        new($"evt_{n:D7}", "cus_spool", "api", "requests", n / 1000m, Now.AddSeconds(-n), metadata);

    /// <summary>Appends as UsageBatch does: the events' frames, in one copy.</summary>
    private static bool Append(SpoolWriter writer, params UsageEvent[] events)
    {
        var frames = new ArrayBufferWriter<byte>();
        foreach (var e in events)
            SpoolFormat.Write(frames, e, Now);
        return writer.TryAppend(frames.WrittenSpan, events.Length);
    }

    private static List<SpooledEvent> ReadAll(string path, List<(long Offset, byte[] Bytes)> damaged)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read);
        return Spool.Read(stream, (offset, bytes) => damaged.Add((offset, bytes))).ToList();
    }

    [Fact]
    public void FrameChecksum_IsZlibCrc32_SoSpoolsOfEarlierVersionsStillRead()
    {
        // The standard check value, and a frame checked against a bit-by-bit CRC-32.
        Assert.Equal(0xCBF43926u, SpoolFormat.Checksum("123456789"u8));
        var frames = new ArrayBufferWriter<byte>();
        SpoolFormat.Write(frames, Event(7, """{"path":"/x"}"""), Now);
        var frame = frames.WrittenSpan;
        var payload = frame[SpoolFormat.FrameOverhead..];
        Assert.Equal(BitwiseCrc32(payload), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(frame[8..]));

        static uint BitwiseCrc32(ReadOnlySpan<byte> data)
        {
            var crc = 0xFFFFFFFFu;
            foreach (var b in data)
            {
                crc ^= b;
                for (var k = 0; k < 8; k++)
                    crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
            return ~crc;
        }
    }

    [Fact]
    public void SealedSegment_HoldsEveryEventInOrder_CutToItsData()
    {
        using var folder = new TempDirectory();
        var spool = new Spool(folder.Path, "test|store", "test store");
        var writer = new SpoolWriter(spool, Now);
        Assert.Equal(SpoolWriter.Capacity, new FileInfo(writer.Path).Length); // reserved up front
        // One by one, as per-call tracking appends, with one big event among them.
        var big = "{\"blob\":\"" + new string('x', 60_000) + "\"}";
        for (var n = 0; n < 40_000; n++)
            Assert.True(Append(writer, Event(n, n == 20_000 ? big : "{}")));
        var bytes = writer.Bytes;
        writer.Seal();
        writer.Seal(); // sealing twice is harmless

        Assert.Equal(bytes, new FileInfo(writer.Path).Length); // cut to the data: no zeros left
        var damaged = new List<(long, byte[])>();
        var events = ReadAll(writer.Path, damaged);
        Assert.Empty(damaged);
        Assert.Equal(40_000, events.Count);
        Assert.Equal(Enumerable.Range(0, 40_000).Select(n => $"evt_{n:D7}"), events.Select(e => e.Event.EventId));
        Assert.Equal(big, events[20_000].Event.Metadata);
        Assert.Equal(39.999m, events[^1].Event.Quantity);
        Assert.Equal((40_000L, (DateTimeOffset?)Now), Spool.Peek(writer.Path));
    }

    [Fact]
    public void FullSegment_RefusesAnAppendWhole_AndABiggerOneGetsASegmentThatFits()
    {
        using var folder = new TempDirectory();
        var spool = new Spool(folder.Path, "test|store", "test store");
        var writer = new SpoolWriter(spool, Now);
        var n = 0;
        while (Append(writer, Event(n)))
            n++;
        var (bytes, count) = (writer.Bytes, writer.Events);
        Assert.False(Append(writer, Event(n)));
        Assert.Equal((bytes, count), (writer.Bytes, writer.Events)); // nothing of the refused append
        Assert.True(SpoolWriter.Capacity - bytes < 200, "the segment was filled to within a frame");
        writer.Seal();
        Assert.Equal(n, ReadAll(writer.Path, []).Count);

        // A pipeline chunk bigger than a segment's capacity: a segment sized for it.
        var chunk = Enumerable.Range(0, 200).Select(i => Event(i, "{\"blob\":\"" + new string('y', 60_000) + "\"}")).ToArray();
        var frames = new ArrayBufferWriter<byte>();
        foreach (var e in chunk)
            SpoolFormat.Write(frames, e, Now);
        var large = new SpoolWriter(spool, Now, frames.WrittenCount);
        Assert.True(large.TryAppend(frames.WrittenSpan, chunk.Length));
        large.Seal();
        Assert.Equal(200, ReadAll(large.Path, []).Count);
    }

    [Fact]
    public void OpenSegment_IsLockedAgainstDelivery()
    {
        using var folder = new TempDirectory();
        var writer = new SpoolWriter(new Spool(folder.Path, "test|store", "test store"), Now);
        Assert.True(Append(writer, Event(1)));
        Assert.Null(Spool.TryLock(writer.Path));
        Assert.Equal((0L, (DateTimeOffset?)null), Spool.Peek(writer.Path));
        writer.Seal();
        using var locked = Spool.TryLock(writer.Path);
        Assert.NotNull(locked);
    }

    [Fact]
    public void SegmentOfAKilledWriter_ReadsToItsZeroTail_WithNothingCalledDamaged()
    {
        // What a killed writer leaves: its frames, then the zeros of the mapping it never reached.
        using var folder = new TempDirectory();
        var path = WrittenSegment(folder, 1000);
        using (var file = new FileStream(path, FileMode.Append))
            file.Write(new byte[1 << 20]);

        var damaged = new List<(long, byte[])>();
        var events = ReadAll(path, damaged);
        Assert.Empty(damaged);
        Assert.Equal(1000, events.Count);
        Assert.Equal(1000, Spool.Peek(path).Events);
    }

    [Fact]
    public void TornLastFrame_IsSetAsideWithoutTheZerosAfterIt()
    {
        // Killed in the middle of copying a frame: part of it, then zeros.
        using var folder = new TempDirectory();
        var path = WrittenSegment(folder, 10);
        var whole = File.ReadAllBytes(path);
        var frameStart = whole.Length;
        var oneMore = WrittenSegment(folder, 11);
        var torn = File.ReadAllBytes(oneMore)[frameStart..^5]; // the eleventh frame without its last 5 bytes
        File.WriteAllBytes(path, [.. whole, .. torn, .. new byte[4096]]);

        var damaged = new List<(long Offset, byte[] Bytes)>();
        var events = ReadAll(path, damaged);
        Assert.Equal(10, events.Count);
        var (offset, bytes) = Assert.Single(damaged);
        Assert.Equal(frameStart, offset);
        Assert.Equal(torn.AsSpan().TrimEnd((byte)0).ToArray(), bytes);
    }

    [Fact]
    public void DamageInTheMiddle_IsSetAside_AndTheFramesAfterItAreRead()
    {
        using var folder = new TempDirectory();
        var path = WrittenSegment(folder, 100);
        var data = File.ReadAllBytes(path);
        data[500] ^= 0xFF;
        File.WriteAllBytes(path, data);

        var damaged = new List<(long, byte[])>();
        var events = ReadAll(path, damaged);
        Assert.Single(damaged);
        Assert.Equal(99, events.Count);
        Assert.Equal("evt_0000099", events[^1].Event.EventId);
    }

    private static string WrittenSegment(TempDirectory folder, int events)
    {
        var writer = new SpoolWriter(new Spool(folder.Path, $"test|{Guid.NewGuid()}", "test store"), Now);
        for (var n = 0; n < events; n++)
            Assert.True(Append(writer, Event(n)));
        writer.Seal();
        return writer.Path;
    }
}

public sealed class BackgroundPriorityTests
{
    // Field 19 of a stat line (the 17th after the parenthesised command name) is the nice value.
    private static int NiceOf(string stat) => int.Parse(File.ReadAllText(stat).Split(") ")[1].Split(' ')[16]);

    [Fact]
    public void LowersTheCallingThreadOnly()
    {
        if (!OperatingSystem.IsLinux())
            return; // elsewhere it sets Thread.Priority, which .NET applies itself
        int? before = null, after = null;
        var thread = new Thread(() =>
        {
            before = NiceOf("/proc/thread-self/stat");
            BackgroundPriority.LowerCurrentThread();
            after = NiceOf("/proc/thread-self/stat");
        });
        thread.Start();
        thread.Join();
        Assert.Equal((0, 10), (before, after));
        Assert.Equal(0, NiceOf("/proc/self/stat")); // the process's main thread is untouched
    }
}
