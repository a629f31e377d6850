using PdfSharp.Drawing;
using PdfSharp.Fonts;
using PdfSharp.Pdf;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// DejaVu Sans (regular and bold), embedded in this assembly, served to PDFsharp. The Core build of
/// PDFsharp 6 finds no system fonts on Linux or macOS (and, by default, none on Windows either).
/// </summary>
/// <remarks>
/// PDFsharp keeps one process-wide <see cref="GlobalFontSettings.FontResolver"/> (per load of the
/// assembly: the engine's private load context has its own). Its setter ignores a second instance
/// of the same type, replaces another resolver only while no font was used yet, and throws after.
/// So this never replaces a resolver someone else set: it takes the main slot when it is empty,
/// otherwise the fallback slot (consulted when the main resolver returns null for a family), and
/// checks that it really served the fonts: the family name is private ("NSelf Invoice Sans"), so
/// a foreign resolver that maps every unknown family to its own default is caught there.
/// </remarks>
internal sealed class InvoiceFontResolver : IFontResolver
{
    public const string Family = "NSelf Invoice Sans";
    private const string RegularFace = "NSelf.Invoice.DejaVuSans";
    private const string BoldFace = "NSelf.Invoice.DejaVuSans-Bold";

    private static readonly object Gate = new();
    private static InvoiceFontResolver? _registered;

    private int _servedRegular;
    private int _servedBold;

    public FontResolverInfo? ResolveTypeface(string familyName, bool isBold, bool isItalic)
    {
        if (!string.Equals(familyName, Family, StringComparison.OrdinalIgnoreCase))
            return null; // Not ours: a main resolver set by someone else may still know it.
        // No italic face is shipped: PDFsharp slants the regular one if italic is ever asked for.
        return new FontResolverInfo(isBold ? BoldFace : RegularFace, mustSimulateBold: false, mustSimulateItalic: isItalic);
    }

    public byte[]? GetFont(string faceName)
    {
        switch (faceName)
        {
            case RegularFace:
                Interlocked.Exchange(ref _servedRegular, 1);
                return Load("DejaVuSans.ttf");
            case BoldFace:
                Interlocked.Exchange(ref _servedBold, 1);
                return Load("DejaVuSans-Bold.ttf");
            default:
                return null;
        }
    }

    private static byte[] Load(string file)
    {
        // PDFsharp calls GetFont once per face per process and caches the bytes itself.
        var name = "NSelf.Usage.Engine.Exports.Fonts." + file + ".gz";
        using var stream = typeof(InvoiceFontResolver).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"The embedded font resource '{name}' is missing.");
        using var font = new System.IO.Compression.GZipStream(stream, System.IO.Compression.CompressionMode.Decompress);
        using var bytes = new MemoryStream();
        font.CopyTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>Registers the resolver once per process and returns the invoice fonts factory.</summary>
    public static InvoiceFontResolver EnsureRegistered()
    {
        lock (Gate)
        {
            if (_registered is not null)
                return _registered;
            var resolver = new InvoiceFontResolver();
            if (GlobalFontSettings.FontResolver is null)
                GlobalFontSettings.FontResolver = resolver;
            else if (GlobalFontSettings.FallbackFontResolver is null)
                GlobalFontSettings.FallbackFontResolver = resolver; // someone else's main resolver is never replaced
            else
                throw new InvalidOperationException(
                    "PDFsharp already has a font resolver and a fallback font resolver from elsewhere in this process; " +
                    "the invoice fonts cannot be registered.");
            _registered = resolver;
            return resolver;
        }
    }

    /// <summary>Creates the font and checks that DejaVu, not some other resolver's font, came back.</summary>
    public XFont Create(double size, bool bold)
    {
        // Unicode encoding: €, «», U+00A0 and U+202F are outside WinAnsi or need a ToUnicode map
        // for copy-and-paste; the embedded subset then holds only the glyphs used.
        var font = new XFont(Family, size, bold ? XFontStyleEx.Bold : XFontStyleEx.Regular,
            new XPdfFontOptions(PdfFontEncoding.Unicode, PdfFontEmbedding.TryComputeSubset));
        if (Volatile.Read(ref bold ? ref _servedBold : ref _servedRegular) == 0)
            throw new InvalidOperationException(
                $"PDFsharp resolved the font family '{Family}' through another font resolver set in this process, " +
                "not through the invoice's own; the invoice cannot be rendered with the expected fonts.");
        return font;
    }
}
