using NSelf.Usage.Engine.Exports;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;
using PdfSharp.Pdf;
using PdfSharp.Pdf.IO;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>A word pdftotext found, with its box in points from the page's top-left corner.</summary>
public sealed record PdfWord(int Page, string Text, double XMin, double YMin, double XMax, double YMax);

public sealed record PdfPageWords(double Width, double Height, IReadOnlyList<PdfWord> Words)
{
    public string Text => string.Join(" ", Words.Select(w => w.Text));
}

/// <summary>Reads back rendered PDFs: PDFsharp's reader for structure, poppler's pdftotext for text.</summary>
public static partial class PdfTools
{
    private static readonly bool PdfToTextFound = Run("pdftotext", "-v", out _) == 0;

    /// <summary>Whether pdftotext is there: the text tests skip without it locally, and fail in CI (.ci/run installs poppler-utils).</summary>
    public static bool HasPdfToText => PdfToTextFound
        || (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? throw new InvalidOperationException("pdftotext (poppler-utils) is not installed, and CI must read the PDFs' text.")
            : false);

    public static PdfDocument Open(byte[] pdf) => PdfReader.Open(new MemoryStream(pdf), PdfDocumentOpenMode.Import);

    /// <summary>pdftotext -layout of the whole document.</summary>
    public static string LayoutText(byte[] pdf)
    {
        var (input, output) = (Path.GetTempFileName(), Path.GetTempFileName());
        try
        {
            File.WriteAllBytes(input, pdf);
            Check(Run("pdftotext", $"-layout -enc UTF-8 \"{input}\" \"{output}\"", out var error), error);
            return File.ReadAllText(output, Encoding.UTF8);
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
        }
    }

    /// <summary>Every word with its box, page by page (pdftotext -bbox).</summary>
    public static List<PdfPageWords> Words(byte[] pdf)
    {
        var (input, output) = (Path.GetTempFileName(), Path.GetTempFileName());
        try
        {
            File.WriteAllBytes(input, pdf);
            Check(Run("pdftotext", $"-bbox -enc UTF-8 \"{input}\" \"{output}\"", out var error), error);
            var html = File.ReadAllText(output, Encoding.UTF8);
            var pages = new List<PdfPageWords>();
            foreach (Match page in PageRegex().Matches(html))
            {
                var words = WordRegex().Matches(page.Groups["body"].Value)
                    .Select(w => new PdfWord(pages.Count + 1, System.Net.WebUtility.HtmlDecode(w.Groups["text"].Value),
                        D(w, "x0"), D(w, "y0"), D(w, "x1"), D(w, "y1")))
                    .ToList();
                pages.Add(new PdfPageWords(D(page, "w"), D(page, "h"), words));
            }
            return pages;
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
        }

        static double D(Match m, string group) => double.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>The decompressed ToUnicode CMaps: which Unicode each embedded glyph stands for.</summary>
    public static string ToUnicodeMaps(byte[] pdf)
    {
        var text = new StringBuilder();
        var latin1 = Encoding.Latin1.GetString(pdf);
        foreach (Match stream in StreamRegex().Matches(latin1))
        {
            var start = stream.Index + stream.Length;
            var end = latin1.IndexOf("endstream", start, StringComparison.Ordinal);
            try
            {
                using var zlib = new ZLibStream(new MemoryStream(pdf, start, end - start), CompressionMode.Decompress);
                using var reader = new StreamReader(zlib, Encoding.Latin1);
                var content = reader.ReadToEnd();
                if (content.Contains("beginbfrange", StringComparison.Ordinal) || content.Contains("beginbfchar", StringComparison.Ordinal))
                    text.Append(content);
            }
            catch (InvalidDataException)
            {
                // Not a Flate stream (the XMP metadata).
            }
        }
        return text.ToString();
    }

    private static void Check(int exitCode, string error)
    {
        if (exitCode != 0)
            throw new InvalidOperationException("pdftotext failed: " + error);
    }

    private static int Run(string file, string arguments, out string error)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments)
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            error = process.StandardError.ReadToEnd();
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            error = e.Message;
            return -1;
        }
    }

    [GeneratedRegex("""<page width="(?<w>[0-9.]+)" height="(?<h>[0-9.]+)">(?<body>.*?)</page>""", RegexOptions.Singleline)]
    private static partial Regex PageRegex();

    [GeneratedRegex("""<word xMin="(?<x0>[0-9.]+)" yMin="(?<y0>[0-9.]+)" xMax="(?<x1>[0-9.]+)" yMax="(?<y1>[0-9.]+)">(?<text>[^<]*)</word>""")]
    private static partial Regex WordRegex();

    [GeneratedRegex("(?<!end)stream\r?\n")]
    private static partial Regex StreamRegex();
}
