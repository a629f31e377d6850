using System.Security.Cryptography;
using System.Text;
using PdfSharp.Pdf;

namespace NSelf.Usage.Engine.Exports;

public static partial class InvoicePdf
{
    /// <summary>
    /// Replaces what PDFsharp 6.2.4 draws from Guid.NewGuid() with values derived from the document ID.
    /// Everything else it writes is a function of the drawing, the Info entries and the runtime
    /// (the zlib of the runtime, and a "% Created with PDFsharp 6.2.4 (CORE) under .NET 10.0" comment).
    /// </summary>
    private static class Determinism
    {
        /// <summary>
        /// A subset font is named "ABCDEF+DejaVuSans" with six random letters (PdfFontDescriptor.
        /// CreateEmbeddedFontSubsetName). The tag only has to tell different subsets apart, so it is
        /// taken from the document ID and the font name: same invoice, same tag.
        /// </summary>
        public static void FixFontSubsetTags(PdfDocument document)
        {
            var id = document.Internals.FirstDocumentID;
            foreach (var item in document.Internals.GetAllObjects())
            {
                if (item is not PdfDictionary dictionary)
                    continue;
                // The font descriptor's /FontName, and the /BaseFont of the Type0 font and its CIDFont.
                foreach (var key in (ReadOnlySpan<string>)["/FontName", "/BaseFont"])
                {
                    var name = dictionary.Elements.GetName(key); // "/ABCDEF+DejaVu Sans,Bold", or ""
                    if (name.Length > 8 && name[7] == '+' && !name.AsSpan(1, 6).ContainsAnyExceptInRange('A', 'Z'))
                        dictionary.Elements.SetName(key, "/" + Tag(id, name[8..]) + name[7..]);
                }
            }
        }

        private static string Tag(string documentId, string fontName)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(documentId + "\n" + fontName));
            Span<char> tag = stackalloc char[6];
            for (var i = 0; i < tag.Length; i++)
                tag[i] = (char)('A' + hash[i] % 26);
            return new string(tag);
        }

        /// <summary>
        /// PDFsharp writes the XMP metadata during Save, with a fresh Guid each for xmpMM:DocumentID
        /// and xmpMM:InstanceID, and offers no hook before the bytes are written. The stream is not
        /// compressed, so both UUIDs are overwritten in place with the trailer ID (same length: the
        /// cross-reference offsets stay right). The first instance of a file has the document's ID.
        /// </summary>
        public static void FixXmpIds(byte[] pdf, Guid documentId)
        {
            var uuid = Encoding.ASCII.GetBytes(documentId.ToString("D")); // 36 bytes, like PDFsharp's
            foreach (var element in (ReadOnlySpan<string>)["<xmpMM:DocumentID>uuid:", "<xmpMM:InstanceID>uuid:"])
            {
                var marker = Encoding.ASCII.GetBytes(element);
                var at = pdf.AsSpan().IndexOf(marker);
                if (at < 0 || pdf.AsSpan(at + 1).IndexOf(marker) >= 0 || at + marker.Length + uuid.Length > pdf.Length)
                    throw new InvalidOperationException($"The PDF has no single XMP {element[1..^6]} to make deterministic; did PDFsharp change?");
                uuid.CopyTo(pdf.AsSpan(at + marker.Length));
            }
        }
    }
}
