using NSelf.Usage.Engine.Exports;
using PdfSharp.Drawing;
using Xunit;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

public class TextWrapTests
{
    private static readonly XGraphics Measure = XGraphics.CreateMeasureContext(new XSize(600, 800), XGraphicsUnit.Point, XPageDirection.Downwards);
    private static readonly XFont Font = InvoiceFontResolver.EnsureRegistered().Create(9, bold: false);

    private static double Width(string text) => TextWrap.Width(Measure, text, Font);

    [Fact]
    public void Lines_fit_and_keep_every_word_in_order()
    {
        const string text = "Support-Paket Premium – monatliche Pauschale inkl. Rufbereitschaft außerhalb der Geschäftszeiten";
        var lines = TextWrap.Wrap(Measure, text, Font, 120);
        Assert.True(lines.Count > 1);
        Assert.All(lines, l => Assert.True(Width(l) <= 120, l));
        Assert.Equal(text, string.Join(" ", lines));
    }

    [Fact]
    public void A_word_longer_than_the_column_is_cut_preferably_after_a_separator()
    {
        const string id = "subscription-0f3a9c27-5be1-4c7e-9d0a-1b2c3d4e5f60-workspace-analytics-ingest";
        var lines = TextWrap.Wrap(Measure, id, Font, 100);
        Assert.True(lines.Count > 2);
        Assert.All(lines, l => Assert.True(Width(l) <= 100, l));
        Assert.Equal(id, string.Concat(lines));
        Assert.All(lines[..^1], l => Assert.EndsWith("-", l));
    }

    [Fact]
    public void A_word_without_separators_is_cut_between_characters_and_never_inside_a_surrogate_pair()
    {
        var word = string.Concat(Enumerable.Repeat("ABC\U0001F600", 30)); // emoji: a surrogate pair
        var lines = TextWrap.Wrap(Measure, word, Font, 50);
        Assert.Equal(word, string.Concat(lines));
        Assert.All(lines, l => Assert.False(char.IsHighSurrogate(l[^1]), "cut inside a surrogate pair"));
    }

    [Fact]
    public void No_break_spaces_hold_an_amount_together()
    {
        const string amount = "1\u202F234\u202F567,89\u00A0€";
        var lines = TextWrap.Wrap(Measure, "Total " + amount, Font, Width(amount) + 1);
        Assert.Equal(["Total", amount], lines);
    }

    [Fact]
    public void Line_breaks_start_new_lines_and_blank_lines_stay()
    {
        Assert.Equal(["IBAN: DE89", "", "BIC: COBADEFFXXX"], TextWrap.Wrap(Measure, "IBAN: DE89\r\n\nBIC: COBADEFFXXX", Font, 400));
        Assert.Empty(TextWrap.Wrap(Measure, null, Font, 400));
        Assert.Empty(TextWrap.Wrap(Measure, "", Font, 400));
    }
}
