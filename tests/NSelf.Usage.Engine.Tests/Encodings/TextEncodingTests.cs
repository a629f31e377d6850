using System.Text;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Engine.Tests.Encodings;

/// <summary>
/// -Encoding of the text exports (issue 17 item 5): the writers produce UTF-8 and
/// <see cref="TextEncoding.Open"/> re-encodes it on the way to the file, byte order mark first.
/// </summary>
public sealed class TextEncodingTests
{
    private const string Text = "EventId,Metadata\nevt-1,\"{\"\"note\"\":\"\"Grüße, € 𝄞\"\"}\"\n";

    private static byte[] Written(Encoding encoding, string text = Text)
    {
        using var file = new MemoryStream();
        using (var stream = TextEncoding.Open(file, encoding))
        {
            // In small pieces, as CsvHelper and Utf8JsonWriter flush: a character split between
            // two writes must still come out whole.
            var utf8 = Encoding.UTF8.GetBytes(text);
            for (var i = 0; i < utf8.Length; i += 3)
                stream.Write(utf8, i, Math.Min(3, utf8.Length - i));
        }
        return file.ToArray();
    }

    public static TheoryData<string, Encoding> Encodings => new()
    {
        { "utf8NoBOM", new UTF8Encoding(false) },
        { "utf8BOM", new UTF8Encoding(true) },
        { "unicode", new UnicodeEncoding(false, true) },
        { "bigendianunicode", new UnicodeEncoding(true, true) },
        { "utf32", new UTF32Encoding(false, true) },
        { "bigendianutf32", new UTF32Encoding(true, true) },
        { "utf16 without a mark", new UnicodeEncoding(false, false) },
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Open_WritesTheMarkThenTheTextInTheEncoding(string name, Encoding encoding)
    {
        var bytes = Written(encoding);
        var preamble = encoding.GetPreamble();
        Assert.True(bytes.AsSpan().StartsWith(preamble), name);
        Assert.Equal(preamble.Concat(encoding.GetBytes(Text)).ToArray(), bytes);
    }

    [Fact]
    public void Open_LeavesTheFileStreamOpenForTheCallerToFlush()
    {
        using var file = new MemoryStream();
        using (var stream = TextEncoding.Open(file, new UnicodeEncoding(false, true)))
            stream.Write(Encoding.UTF8.GetBytes("a"));
        file.WriteByte(0x7A); // throws if the stream was closed
        Assert.Equal(new byte[] { 0xFF, 0xFE, 0x61, 0x00, 0x7A }, file.ToArray());
    }

    [Fact]
    public void Open_WritesWhatACodePageCannotHoldAsQuestionMarks()
    {
        Assert.Equal(Encoding.ASCII.GetBytes("Gr??e"), Written(new ASCIIEncoding(), "Größe".Normalize(NormalizationForm.FormC)));
    }

    [Fact]
    public void DeclareCharset_NamesTheEncodingOfAPageNotInUtf8()
    {
        const string html = "<head><meta charset=\"utf-8\"></head>";
        Assert.Equal("<head><meta charset=\"utf-16\"></head>", TextEncoding.DeclareCharset(html, new UnicodeEncoding(false, true)));
        Assert.Equal(html, TextEncoding.DeclareCharset(html, new UTF8Encoding(true)));
    }
}
