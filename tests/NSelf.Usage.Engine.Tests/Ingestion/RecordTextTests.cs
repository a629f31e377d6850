using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class RecordTextTests
{
    [Fact]
    public void Parse_ReadsTheBashLibrarysRecordStrings()
    {
        Assert.Equal(("api", 1m, "{\"endpoint\":\"/users\"}"), RecordText.Parse("api:1:{\"endpoint\":\"/users\"}"));
        Assert.Equal(("database", 2.5m, "{}"), RecordText.Parse("database:2.5"));
        Assert.Equal(("api", 1m, "{\"url\":\"http://x:8080/a\"}"), RecordText.Parse("api:1:{\"url\":\"http://x:8080/a\"}"));
    }

    [Theory]
    [InlineData("api")]
    [InlineData(":1")]
    [InlineData("api:")]
    public void Parse_RefusesMalformedStrings(string text) =>
        Assert.Equal(ErrorIds.InvalidRecord, Assert.Throws<UsageException>(() => RecordText.Parse(text)).ErrorId);

    [Fact]
    public void Parse_ReportsABadQuantityOrMetadataWithItsOwnId()
    {
        Assert.Equal(ErrorIds.InvalidQuantity, Assert.Throws<UsageException>(() => RecordText.Parse("api:x")).ErrorId);
        Assert.Equal(ErrorIds.InvalidMetadata, Assert.Throws<UsageException>(() => RecordText.Parse("api:1:{bad")).ErrorId);
    }
}
