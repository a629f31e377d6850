using NSelf.Usage.Engine.Exports;
using Xunit;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>Geometry read back with pdftotext -bbox: nothing overlaps, nothing leaves the margins, totals stay whole.</summary>
public class LayoutTests
{
    private const double Margin = 18 * 72 / 25.4;

    /// <summary>The German sample with <paramref name="count"/> lines of mixed height (long texts, tiers).</summary>
    private static CustomerCopy WithLines(int count, InvoicePaperSize paper = InvoicePaperSize.A4)
    {
        var sample = SampleInvoices.German();
        var lines = Enumerable.Range(1, count).Select(n => new CopyLine(
            n % 4 == 0
                ? $"Pos{n:D3} Rufbereitschaft außerhalb der Geschäftszeiten, vierteljährliche Überprüfung der Sicherheitskonfiguration und Berichte"
                : $"Pos{n:D3} API-Aufrufe",
            "1.000", "0,0100 €", "10,00 €")
        {
            SubRows = n % 3 == 0 ? [new("0 – 500", "500", "0,00 €", "0,00 €"), new("501 – 1.000", "500", "0,02 €", "10,00 €")] : [],
        }).ToList();
        return sample with { Lines = lines, PaperSize = paper };
    }

    [SkippableFact]
    public void No_text_overlaps_or_leaves_the_margins_in_the_samples()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        foreach (var model in new[] { SampleInvoices.German(), SampleInvoices.French(), SampleInvoices.LongDraft() })
            AssertClean(InvoicePdf.Render(model), model.Labels.Draft);
    }

    [SkippableFact]
    public void Totals_stay_whole_and_keep_the_last_line_whatever_the_line_count()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        // Enough counts to put the end of the table at every height of the first and second page.
        for (var count = 1; count <= 48; count++)
        {
            var model = WithLines(count, count % 2 == 0 ? InvoicePaperSize.A4 : InvoicePaperSize.Letter);
            var pdf = InvoicePdf.Render(model);
            var pages = PdfTools.Words(pdf);
            AssertClean(pdf, model.Labels.Draft, pages);
            var totalsPage = pages.FindIndex(p => p.Text.Contains("Gesamtbetrag 1.936,59 €", StringComparison.Ordinal));
            Assert.True(totalsPage >= 0, $"{count} lines: the grand total is missing or split");
            var text = pages[totalsPage].Text;
            Assert.Contains("Nettobetrag 1.627,39 €", text);
            Assert.Contains("USt. 19 % 309,20 €", text);
            Assert.Contains("Das Leistungsdatum entspricht dem Leistungszeitraum.", text); // the tax note stays with them
            Assert.Contains($"Pos{count:D3}", text); // the last line travels with the totals
            var lastLinePage = pages.FindLastIndex(p => p.Words.Any(w => w.Text.StartsWith("Pos", StringComparison.Ordinal)));
            Assert.Equal(totalsPage, lastLinePage);
        }
    }

    [SkippableFact]
    public void A_description_longer_than_a_page_continues_on_the_next()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var words = string.Join(" ", Enumerable.Range(1, 1500).Select(n => $"w{n}"));
        var model = SampleInvoices.German() with { Lines = [new CopyLine(words, "1", "1,00 €", "1,00 €")] };
        var pdf = InvoicePdf.Render(model);
        var pages = PdfTools.Words(pdf);
        AssertClean(pdf, model.Labels.Draft, pages);
        Assert.True(pages.Count >= 2);
        var all = pages.SelectMany(p => p.Words).Select(w => w.Text).Where(t => t.Length > 1 && t[0] == 'w' && t[1..].All(char.IsAsciiDigit)).ToList();
        Assert.Equal(Enumerable.Range(1, 1500).Select(n => $"w{n}"), all);
    }

    private static void AssertClean(byte[] pdf, string watermark, List<PdfPageWords>? pages = null)
    {
        pages ??= PdfTools.Words(pdf);
        foreach (var page in pages)
        {
            // The rotated watermark is meant to cross the text; pdftotext splits it into letters.
            var words = page.Words.Where(w => !watermark.Contains(w.Text, StringComparison.Ordinal)).ToList();
            foreach (var w in words)
            {
                Assert.True(w.XMin >= Margin - 0.5 && w.XMax <= page.Width - Margin + 0.5, $"page {w.Page}: '{w.Text}' outside the side margins ({w.XMin:F1}–{w.XMax:F1})");
                Assert.True(w.YMin >= Margin - 1 && w.YMax <= page.Height - Margin + 1, $"page {w.Page}: '{w.Text}' outside the top/bottom margins ({w.YMin:F1}–{w.YMax:F1})");
            }
            for (var i = 0; i < words.Count; i++)
            for (var j = i + 1; j < words.Count; j++)
            {
                var (a, b) = (words[i], words[j]);
                var overlaps = Math.Min(a.XMax, b.XMax) - Math.Max(a.XMin, b.XMin) > 0.5 && Math.Min(a.YMax, b.YMax) - Math.Max(a.YMin, b.YMin) > 0.5;
                Assert.False(overlaps, $"page {a.Page}: '{a.Text}' overlaps '{b.Text}'");
            }
        }
    }
}
