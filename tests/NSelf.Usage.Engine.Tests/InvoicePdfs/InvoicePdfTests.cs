using NSelf.Usage.Engine.Exports;
using Xunit;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

public class InvoicePdfTests
{
    private static readonly byte[] German = InvoicePdf.Render(SampleInvoices.German());
    private static readonly byte[] French = InvoicePdf.Render(SampleInvoices.French());
    private static readonly byte[] LongDraft = InvoicePdf.Render(SampleInvoices.LongDraft());

    public static TheoryData<string> Samples => ["german", "french", "long-draft"];

    private static CustomerCopy Sample(string name) => name switch
    {
        "german" => SampleInvoices.German(),
        "french" => SampleInvoices.French(),
        _ => SampleInvoices.LongDraft(),
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void The_same_invoice_renders_to_the_same_bytes(string name)
    {
        var first = InvoicePdf.Render(Sample(name));
        var second = InvoicePdf.Render(Sample(name));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Renders_in_parallel_give_the_same_bytes()
    {
        var expected = InvoicePdf.Render(SampleInvoices.German());
        var results = new byte[8][];
        Parallel.For(0, results.Length, i => results[i] = InvoicePdf.Render(SampleInvoices.German()));
        Assert.All(results, r => Assert.Equal(expected, r));
    }

    [Fact]
    public void A_different_invoice_gets_a_different_document_id()
    {
        var other = InvoicePdf.Render(SampleInvoices.German() with { Number = "ACME-000043" });
        Assert.NotEqual(PdfTools.Open(German).Internals.FirstDocumentID, PdfTools.Open(other).Internals.FirstDocumentID);
    }

    [Fact]
    public void Write_appends_at_the_stream_position()
    {
        using var stream = new MemoryStream();
        stream.Write("prefix"u8);
        InvoicePdf.Write(SampleInvoices.German(), stream);
        Assert.Equal(6 + German.Length, stream.Position);
        Assert.Equal(German, stream.ToArray()[6..]);
    }

    [Fact]
    public void Metadata_names_the_invoice_and_the_seller()
    {
        var document = PdfTools.Open(German);
        Assert.Equal("Rechnung ACME-000042", document.Info.Title);
        Assert.Equal("ACME Datendienste GmbH", document.Info.Author);
        Assert.Equal(SampleInvoices.Issued.UtcDateTime, document.Info.CreationDate.ToUniversalTime());
        Assert.Equal("Invoice (DRAFT)", PdfTools.Open(LongDraft).Info.Title);
    }

    [Fact]
    public void Paper_sizes_are_A4_and_Letter()
    {
        var a4 = PdfTools.Open(German).Pages[0];
        Assert.Equal(595.28, a4.Width.Point, 2);
        Assert.Equal(841.89, a4.Height.Point, 2);
        var letter = PdfTools.Open(LongDraft).Pages[0];
        Assert.Equal(612, letter.Width.Point, 2);
        Assert.Equal(792, letter.Height.Point, 2);
    }

    [Fact]
    public void Only_the_two_DejaVu_subsets_are_embedded()
    {
        var text = System.Text.Encoding.Latin1.GetString(German);
        var names = System.Text.RegularExpressions.Regex.Matches(text, @"/FontName/([A-Z]{6})\+([^/>]+)")
            .Select(m => m.Groups[2].Value).Order().ToList();
        Assert.Equal(["DejaVu#20Sans", "DejaVu#20Sans,Bold"], names);
    }

    [Fact]
    public void Special_characters_map_back_to_their_code_points()
    {
        // pdftotext turns every Unicode space into U+0020, so the mapping is checked in the ToUnicode CMaps.
        var maps = PdfTools.ToUnicodeMaps(French);
        foreach (var code in new[] { "<202F>", "<00A0>", "<20AC>", "<00AB>", "<00BB>", "<00E9>", "<00DF>", "<00FC>" })
            Assert.Contains(code, maps);
    }

    [SkippableFact]
    public void German_invoice_text_comes_out_right()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var text = PdfTools.LayoutText(German);
        foreach (var expected in new[]
                 {
                     "ACME Datendienste GmbH", "Müller & Söhne Straßenbau KG", "ACME-000042", "Rechnungsempfänger",
                     "«eu-central»", "Größenklasse „Standard“", "Nettobetrag", "1.627,39 €", "USt. 19 %", "309,20 €",
                     "Gesamtbetrag", "1.936,59 €", "Seite 1 von 1", "Jörg Weiß, Anaïs Dupré",
                 })
            Assert.Contains(expected, text);
        Assert.Single(PdfTools.Open(German).Pages);
    }

    [SkippableFact]
    public void French_invoice_text_comes_out_right()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var text = PdfTools.LayoutText(French);
        foreach (var expected in new[]
                 {
                     "Nuages & Cie SAS", "Bäckerei Groß GmbH", "NC-2026-0117", "« Premium »", "Total HT", "10 356,91 €",
                     "TVA 0 % (autoliquidation)", "Total TTC", "Art. 196 Directive 2006/112/EC", "Page 1 sur 1",
                 })
            Assert.Contains(expected, text);
    }

    [SkippableFact]
    public void A_long_draft_repeats_the_table_header_and_numbers_every_page()
    {
        Skip.IfNot(PdfTools.HasPdfToText, "pdftotext (poppler-utils) is not installed");
        var pages = PdfTools.Words(LongDraft);
        var final = PdfTools.Words(InvoicePdf.Render(SampleInvoices.LongDraft() with { IsDraft = false }));
        Assert.True(pages.Count > 3, $"{pages.Count} pages");
        Assert.Equal(pages.Count, final.Count);
        for (var i = 0; i < pages.Count; i++)
        {
            var text = pages[i].Text;
            Assert.Contains($"Page {i + 1} of {pages.Count}", text);
            // The header row again: its words side by side on one baseline.
            var header = pages[i].Words.Single(w => w.Text == "Description");
            foreach (var word in new[] { "Quantity", "Unit", "price", "Amount" })
                Assert.Contains(pages[i].Words, w => w.Text == word && Math.Abs(w.YMin - header.YMin) < 0.5 && w.XMin > header.XMax);
            // The watermark: what the draft has beyond the final invoice are pieces of "DRAFT"
            // (pdftotext splits rotated text into letters).
            var extra = pages[i].Words.Select(w => w.Text).ToList();
            foreach (var word in final[i].Words)
                extra.Remove(word.Text);
            Assert.NotEmpty(extra);
            Assert.All(extra, e => Assert.Contains(e, "DRAFT"));
            if (i > 0)
                Assert.StartsWith("Invoice – continued", text);
        }
        var model = SampleInvoices.LongDraft();
        var last = pages[^1].Text;
        foreach (var total in model.Totals)
            Assert.Contains(total.Value, last);
        // Every line is there, in order (read from the final twin: no watermark letters in between).
        var all = PdfTools.LayoutText(InvoicePdf.Render(SampleInvoices.LongDraft() with { IsDraft = false }));
        static string Marker(int n) => (n % 10) switch { 3 => $"project #{n},", 7 => $"prod-eu-{n}:", _ => $"Service line {n}:" };
        var position = 0;
        for (var n = 1; n <= 120; n++)
        {
            var at = all.IndexOf(Marker(n), position, StringComparison.Ordinal);
            Assert.True(at >= 0, $"line {n} missing or out of order");
            position = at;
        }
    }

    [Fact]
    public void A_page_label_that_is_no_format_is_refused()
    {
        var model = SampleInvoices.German() with { Labels = new CopyLabels { PageOfPages = "Seite {0 von {1}" } };
        Assert.Throws<ArgumentException>(() => InvoicePdf.Render(model));
    }

    [Fact]
    public void An_invoice_without_lines_totals_or_logo_still_renders()
    {
        var model = SampleInvoices.German() with
        {
            Lines = [], Totals = [], TaxNotes = [], PaymentInstructions = [], Footer = null, Meta = [],
            Seller = SampleInvoices.German().Seller with { Logo = null },
        };
        Assert.StartsWith("%PDF-", System.Text.Encoding.ASCII.GetString(InvoicePdf.Render(model), 0, 5));
    }
}
