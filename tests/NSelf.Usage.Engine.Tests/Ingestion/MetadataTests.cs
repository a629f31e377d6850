using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class MetadataTests
{
    [Theory]
    [InlineData(null, "{}")]
    [InlineData("", "{}")]
    [InlineData("  { \"endpoint\" : \"/users\" }  ", "{\"endpoint\":\"/users\"}")]
    [InlineData("{\"n\":1.50,\"ok\":true,\"list\":[1,2]}", "{\"n\":1.50,\"ok\":true,\"list\":[1,2]}")]
    [InlineData("{\"name\":\"Zoë 🎉\"}", "{\"name\":\"Zoë 🎉\"}")]
    public void Normalize_CompactsAJsonObject(string? input, string expected)
    {
        Assert.Equal(expected, Metadata.Normalize(input));
    }

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("{\"a\":1}}")]
    [InlineData("{'a':1}")]
    [InlineData("not json")]
    [InlineData("{\"a\":\"\\u0000\"}")]
    public void Normalize_RefusesAnythingButOneJsonObject(string input)
    {
        var e = Assert.Throws<UsageException>(() => Metadata.Normalize(input));
        Assert.Equal(ErrorIds.InvalidMetadata, e.ErrorId);
    }

    [Fact]
    public void Normalize_RefusesDeepNesting()
    {
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000);
        var e = Assert.Throws<UsageException>(() => Metadata.Normalize(deep));
        Assert.Equal(ErrorIds.InvalidMetadata, e.ErrorId);
        Assert.Contains("deeper", e.Message);
    }

    [Fact]
    public void Normalize_RefusesMoreThanTheSizeLimit()
    {
        var big = "{\"a\":\"" + new string('x', Metadata.MaximumBytes) + "\"}";
        var e = Assert.Throws<UsageException>(() => Metadata.Normalize(big));
        Assert.Equal(ErrorIds.InvalidMetadata, e.ErrorId);
    }

    [Fact]
    public void FromValues_WritesNestedValuesAsJson()
    {
        var json = Metadata.FromValues(new KeyValuePair<string, object?>[]
        {
            new("endpoint", "/users"),
            new("status", 200),
            new("ratio", 0.5m),
            new("tags", new object?[] { "a", 1, null }),
            new("nested", new KeyValuePair<string, object?>[] { new("x", true) }),
        });
        Assert.Equal("{\"endpoint\":\"/users\",\"status\":200,\"ratio\":0.5,\"tags\":[\"a\",1,null],\"nested\":{\"x\":true}}", json);
    }

    [Fact]
    public void FromValues_RefusesNaN()
    {
        var e = Assert.Throws<UsageException>(() => Metadata.FromValues(new KeyValuePair<string, object?>[] { new("x", double.NaN) }));
        Assert.Equal(ErrorIds.InvalidMetadata, e.ErrorId);
    }
}
