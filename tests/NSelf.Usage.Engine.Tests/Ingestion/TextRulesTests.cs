using NSelf.Usage.Engine.Ingestion;

namespace NSelf.Usage.Engine.Tests.Ingestion;

public sealed class TextRulesTests
{
    [Theory]
    [InlineData("cus_abc123")]
    [InlineData("A-b_9")]
    public void CustomerId_AcceptsNselfsRule(string id) => Assert.Equal(id, TextRules.CustomerId(id));

    [Theory]
    [InlineData("")]
    [InlineData("cus abc")]
    [InlineData("cus;DROP TABLE billing_customers")]
    [InlineData("cüs")]
    [InlineData("cus.1")]
    [InlineData(null)]
    public void CustomerId_RefusesAnythingElse(string? id)
    {
        var e = Assert.Throws<UsageException>(() => TextRules.CustomerId(id));
        Assert.Equal(ErrorIds.InvalidCustomerId, e.ErrorId);
    }

    [Fact]
    public void CustomerId_RefusesMoreThan255Characters()
    {
        Assert.Equal(255, TextRules.CustomerId(new string('a', 255)).Length);
        Assert.Throws<UsageException>(() => TextRules.CustomerId(new string('a', 256)));
    }

    [Theory]
    [InlineData("a", '\0', "b")]
    [InlineData("bad ", '\ud800', " surrogate")]
    [InlineData("reversed ", '\udc00', "\ud83c")]
    public void Text_RefusesNulAndUnpairedSurrogates(string before, char bad, string after)
    {
        // Built at run time: attribute strings cannot carry a lone surrogate intact.
        var text = before + bad + after;
        var e = Assert.Throws<UsageException>(() => TextRules.Text(text, "The endpoint", ErrorIds.InvalidArgument));
        Assert.Equal(ErrorIds.InvalidArgument, e.ErrorId);
    }

    [Fact]
    public void Text_KeepsHostileButLegalTextVerbatim()
    {
        const string hostile = "/api/users'; DROP TABLE billing_usage_records; --";
        Assert.Equal(hostile, TextRules.Text(hostile, "The endpoint", ErrorIds.InvalidArgument));
        Assert.Equal("emoji 🎉", TextRules.Text("emoji 🎉", "x", ErrorIds.InvalidArgument));
    }

    [Theory]
    [InlineData("API", "api")]
    [InlineData(" tokens ", "tokens")]
    [InlineData("llm.tokens-in_2", "llm.tokens-in_2")]
    public void ServiceName_IsLowerCased(string name, string expected) => Assert.Equal(expected, TextRules.ServiceName(name));

    [Theory]
    [InlineData("1api")]
    [InlineData("api tokens")]
    [InlineData("")]
    public void ServiceName_RefusesBadNames(string name) =>
        Assert.Equal(ErrorIds.InvalidService, Assert.Throws<UsageException>(() => TextRules.ServiceName(name)).ErrorId);
}
