using System.Buffers;
using NSelf.Usage.Engine.Tracking;
using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Tracking;

/// <summary>Issue 16: Clear-UsageBatch -Discard's file work, out of the cmdlet, on real spool files.</summary>
public sealed class SpoolDiscardTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static string Segment(Spool spool, int events)
    {
        var writer = new SpoolWriter(spool, Now);
        var frames = new ArrayBufferWriter<byte>();
        for (var n = 0; n < events; n++)
            SpoolFormat.Write(frames, new UsageEvent($"evt_{Guid.NewGuid():n}", "cus_discard", "api", "requests", 1m, Now, "{}"), Now);
        Assert.True(writer.TryAppend(frames.WrittenSpan, events));
        writer.Seal();
        return writer.Path;
    }

    [Fact]
    public void Discard_DropsEverySegmentNoOneHolds_AndTheQuarantine_CountingTheEvents()
    {
        using var folder = new TempDirectory();
        var spool = new Spool(folder.Path, "test|discard", "test store");
        Segment(spool, 3);
        Segment(spool, 4);
        spool.Quarantine("x.spool", 0, new byte[] { 1, 2, 3 }, Now);
        Assert.Equal((7L, 0), spool.Discard());
        Assert.Empty(spool.Segments());
        Assert.False(Directory.Exists(spool.QuarantineDirectory));
    }

    [Fact]
    public void Discard_KeepsASegmentAnotherSessionHoldsLocked()
    {
        using var folder = new TempDirectory();
        var spool = new Spool(folder.Path, "test|discard", "test store");
        Segment(spool, 2);
        var held = Segment(spool, 5);
        using (var locked = Spool.TryLock(held))
        {
            Assert.NotNull(locked);
            Assert.Equal((2L, 1), spool.Discard());
        }
        Assert.Equal(new[] { held }, spool.Segments());
    }

    [Fact]
    public void Discard_OfAnEmptyOrMissingSpool_DropsNothing()
    {
        using var folder = new TempDirectory();
        Assert.Equal((0L, 0), new Spool(folder.Path, "test|none", "test store").Discard());
    }

    [Fact]
    public void RemoveIfEmpty_EmptiesTheFolderOnlyWithoutSegmentsOrQuarantine()
    {
        using var folder = new TempDirectory();
        var spool = new Spool(folder.Path, "test|remove", "test store");
        spool.Prepare();
        var segment = Segment(spool, 1);
        Assert.False(spool.RemoveIfEmpty());
        File.Delete(segment);
        spool.Quarantine("x.spool", 0, new byte[] { 1 }, Now);
        Assert.False(spool.RemoveIfEmpty());
        Directory.Delete(spool.QuarantineDirectory, recursive: true);
        Assert.NotEmpty(Directory.EnumerateFiles(spool.Directory)); // what Prepare wrote
        Assert.True(spool.RemoveIfEmpty());
        Assert.Empty(Directory.EnumerateFiles(spool.Directory));
        Assert.False(new Spool(folder.Path, "test|missing", "test store").RemoveIfEmpty());
    }
}
