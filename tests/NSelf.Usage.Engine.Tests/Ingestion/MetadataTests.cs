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

    // FromValues no longer parses its own output again (issue 17, item 10): what it writes must
    // be exactly what Normalize makes of it, so the two paths store the same text.
    public static TheoryData<object?> Values() => new()
    {
        "/users", "Zoë 🎉 \"quoted\" <tag> & é", 'x', true, 1.50m, 0.000001m, -12345678901234.5678m, 2.5d, 1e-7d, 3.25f,
        42, long.MaxValue, (short)-7, (byte)255, ulong.MaxValue, System.Numerics.BigInteger.Pow(10, 40),
        new DateTimeOffset(2026, 3, 29, 1, 30, 0, TimeSpan.FromHours(2)), new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc),
        Guid.Parse("01936a4b-0000-7000-8000-000000000001"), DayOfWeek.Friday, null,
        new object?[] { 1, "two", new[] { 3m }, null },
        new Dictionary<string, object?> { ["inner"] = new Dictionary<string, object?> { ["deep"] = "🎉" } },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public void FromValues_WritesWhatNormalizeWouldStore(object? value)
    {
        var json = Metadata.FromValues(new KeyValuePair<string, object?>[] { new("k 🎉", value), new("n", 1) });
        Assert.Equal(Metadata.Normalize(json), json);
    }

    [Fact]
    public void FromValues_RefusesMoreThanTheSizeLimitAsNormalizeDoes()
    {
        var text = new string('x', Metadata.MaximumBytes);
        var written = Assert.Throws<UsageException>(() => Metadata.FromValues(new KeyValuePair<string, object?>[] { new("a", text) }));
        var parsed = Assert.Throws<UsageException>(() => Metadata.Normalize("{\"a\":\"" + text + "\"}"));
        Assert.Equal(ErrorIds.InvalidMetadata, written.ErrorId);
        Assert.Equal(parsed.Message, written.Message);
        // One byte under the limit is accepted by both.
        var fits = new string('x', Metadata.MaximumBytes - "{\"a\":\"\"}".Length);
        Assert.Equal(Metadata.MaximumBytes, System.Text.Encoding.UTF8.GetByteCount(Metadata.FromValues(new KeyValuePair<string, object?>[] { new("a", fits) })));
    }

    [Theory]
    [InlineData(Metadata.MaximumDepth, true)]
    [InlineData(Metadata.MaximumDepth + 1, false)]
    public void FromValues_AllowsTheDepthNormalizeAllows(int depth, bool allowed)
    {
        object? value = 1;
        for (var level = 1; level < depth; level++)
            value = new Dictionary<string, object?> { ["a"] = value };
        var values = new KeyValuePair<string, object?>[] { new("a", value) };
        var json = depth == 1 ? "{\"a\":1}" : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
        if (allowed)
        {
            Assert.Equal(Metadata.Normalize(json), Metadata.FromValues(values));
            return;
        }
        Assert.Equal(ErrorIds.InvalidMetadata, Assert.Throws<UsageException>(() => Metadata.FromValues(values)).ErrorId);
        Assert.Equal(ErrorIds.InvalidMetadata, Assert.Throws<UsageException>(() => Metadata.Normalize(json)).ErrorId);
    }
}
