using System.Buffers.Binary;
using System.IO.Hashing;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace NSelf.Usage.Engine.Exports;

public static partial class InvoicePdf
{
    private static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
    private static ReadOnlySpan<byte> JpegSignature => [0xFF, 0xD8, 0xFF];

    /// <summary>
    /// True when <paramref name="bytes"/> is a whole PNG or JPEG image that PDFsharp can embed;
    /// <paramref name="format"/> is then "png" or "jpeg". For validating a logo up front.
    /// </summary>
    /// <remarks>
    /// Three checks: the signature; the structure (every PNG chunk present with a matching CRC up
    /// to IEND, every JPEG segment present up to the scan and an EOI after it), because PDFsharp
    /// passes JPEG data through undecoded and accepts a PNG without its end; then PDFsharp itself,
    /// which refuses a JPEG whose first segment is not JFIF, Exif, ICC or Photoshop (APP0/1/2/13).
    /// </remarks>
    public static bool IsSupportedImage(ReadOnlySpan<byte> bytes, out string? format)
    {
        if (!IsCompleteImage(bytes, out format))
            return false;
        try
        {
            // Loading alone reads the headers only; drawing it into a document that is then
            // saved makes PDFsharp decode the pixels, which is where a truncated PNG fails.
            using var stream = OpenImage(bytes.ToArray());
            using var image = LoadImage(stream);
            using var probe = new PdfDocument();
            using (var gfx = XGraphics.FromPdfPage(probe.AddPage()))
                gfx.DrawImage(image, 0, 0, 10, 10);
            probe.Save(Stream.Null);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Whatever PDFsharp's decoders throw for a broken file (index, format, zlib errors...).
            format = null;
            return false;
        }
    }

    /// <summary>Signature and structure only: no decoding.</summary>
    private static bool IsCompleteImage(ReadOnlySpan<byte> bytes, out string? format)
    {
        if (HasImageSignature(bytes, out format) && (format == "png" ? PngIsComplete(bytes) : JpegIsComplete(bytes)))
            return true;
        format = null;
        return false;
    }

    private static bool HasImageSignature(ReadOnlySpan<byte> bytes, out string? format)
    {
        format = bytes.StartsWith(PngSignature) ? "png" : bytes.StartsWith(JpegSignature) ? "jpeg" : null;
        return format is not null;
    }

    private static bool PngIsComplete(ReadOnlySpan<byte> png)
    {
        var at = PngSignature.Length;
        var first = true;
        while ((long)at + 12 <= png.Length)
        {
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            if (length > (uint)(png.Length - at - 12))
                return false; // cut inside the chunk
            var typeAndData = png.Slice(at + 4, 4 + (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png[(at + 8 + (int)length)..]);
            if (Crc32.HashToUInt32(typeAndData) != crc)
                return false;
            var type = typeAndData[..4];
            if (first && !type.SequenceEqual("IHDR"u8))
                return false;
            if (type.SequenceEqual("IEND"u8))
                return true;
            first = false;
            at += 12 + (int)length;
        }
        return false;
    }

    private static bool JpegIsComplete(ReadOnlySpan<byte> jpeg)
    {
        var at = 2; // after SOI
        while (at + 4 <= jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
                return false;
            var marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill byte
                continue;
            }
            if (marker == 0xD9)
                return false; // EOI before any scan
            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            if (length < 2 || at + 2 + length > jpeg.Length)
                return false;
            if (marker == 0xDA) // SOS: entropy-coded data follows, the image ends with EOI
                return jpeg[(at + 2 + length)..].IndexOf([(byte)0xFF, (byte)0xD9]) >= 0;
            at += 2 + length;
        }
        return false;
    }

    private static MemoryStream OpenImage(byte[] bytes)
    {
        if (!HasImageSignature(bytes, out _))
            throw new InvalidDataException("The image is neither a PNG nor a JPEG.");
        return new MemoryStream(bytes, writable: false);
    }

    /// <summary>PDFsharp reads the stream lazily: it must stay open until the document is saved.</summary>
    private static XImage LoadImage(MemoryStream stream)
    {
        try
        {
            var image = XImage.FromStream(stream);
            if (image.PixelWidth <= 0 || image.PixelHeight <= 0)
                throw new InvalidDataException("The image has no pixels.");
            return image;
        }
        catch (Exception e) when (e is not InvalidDataException and not OutOfMemoryException)
        {
            // PDFsharp reports a broken image with whatever its decoder threw; a JPEG whose first
            // segment is not JFIF, Exif, ICC or Photoshop gets "Unsupported image format".
            throw new InvalidDataException("PDFsharp cannot read the image: " + e.Message, e);
        }
    }
}
