using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class TrackedUsageTests
{
    [Fact]
    public void Storage_IsGigabyteHours()
    {
        var tracked = TrackedUsage.Storage(5_368_709_120, 24);
        Assert.Equal(("storage", 120m), (tracked.Service, tracked.Quantity));
        Assert.Equal("{\"bytes\":5368709120,\"hours\":24}", tracked.Metadata);
    }

    [Fact]
    public void Bandwidth_IsGigabytesRoundedToSixPlaces_WithTheExactBytesKept()
    {
        var tracked = TrackedUsage.Bandwidth(524_288_000, "Egress");
        Assert.Equal(0.488281m, tracked.Quantity);
        Assert.Equal("{\"bytes\":524288000,\"direction\":\"egress\"}", tracked.Metadata);
    }

    [Fact]
    public void Compute_IsCpuHours()
    {
        var hour = TrackedUsage.Compute(3600, "{\"instance\":\"t3.medium\"}");
        Assert.Equal((1m, "{\"instance\":\"t3.medium\",\"seconds\":3600}"), (hour.Quantity, hour.Metadata));
        // Rounded to six places of an hour; the exact seconds stay in the metadata.
        var second = TrackedUsage.Compute(1.5m, "{}");
        Assert.Equal((0.000417m, "{\"seconds\":1.5}"), (second.Quantity, second.Metadata));
    }

    [Fact]
    public void DotEnv_QuotedValueWithACommentAfterIt_IsTheValueInsideTheQuotes()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File(".env"), "NSELF_CUSTOMER_ID=\"cus_env4\" # prod\n");
        Assert.Equal("cus_env4", NSelf.Usage.Engine.Configuration.CustomerIdResolver.ReadDotEnv(dir.File(".env"), "NSELF_CUSTOMER_ID"));
    }

    [Fact]
    public void ApiRequest_KeepsEndpointMethodAndStatus()
    {
        var tracked = TrackedUsage.ApiRequest("/api/users", "get", 200);
        Assert.Equal(("api", 1m, "{\"endpoint\":\"/api/users\",\"method\":\"GET\",\"status\":200}"), (tracked.Service, tracked.Quantity, tracked.Metadata));
    }

    [Theory]
    [InlineData("", "GET", 200)]
    [InlineData("/x", "G ET", 200)]
    [InlineData("/x", "GET", 99)]
    [InlineData("/x", "GET", 600)]
    public void ApiRequest_RefusesBadValues(string endpoint, string method, int status) =>
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => TrackedUsage.ApiRequest(endpoint, method, status)).ErrorId);

    [Fact]
    public void ApiRequest_RefusesAnEndpointOf10000Characters() =>
        Assert.Equal(ErrorIds.InvalidArgument, Assert.Throws<UsageException>(() => TrackedUsage.ApiRequest("/" + new string('a', 9999), "GET", 200)).ErrorId);

    [Fact]
    public void NegativeCounts_AreInvalidQuantities()
    {
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => TrackedUsage.Storage(-1, 1)).ErrorId);
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => TrackedUsage.Bandwidth(-5, "egress")).ErrorId);
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => TrackedUsage.Compute(-1, "{}")).ErrorId);
    }

    [Fact]
    public void Function_RecordsNameDurationAndMemory()
    {
        var tracked = TrackedUsage.Function("sendEmail", 120, 256);
        Assert.Equal("{\"function\":\"sendEmail\",\"duration_ms\":120,\"memory_mb\":256}", tracked.Metadata);
    }
}
