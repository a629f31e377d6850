using NSelf.Usage.Engine.Exports;
using System.Buffers.Binary;
using System.IO.Compression;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

/// <summary>Small images written by hand: no imaging package runs on Linux without native libraries.</summary>
public static class TestImages
{
    /// <summary>A 360 × 120 RGBA PNG logo: a blue rounded badge with a white ring and an orange bar.</summary>
    public static byte[] Logo()
    {
        const int width = 360, height = 120;
        var pixels = new byte[width * height * 4];
        for (var y = 0; y < height; y++)
        for (var x = 0; x < width; x++)
        {
            var (r, g, b, a) = (0, 0, 0, 0);
            // Badge: a rounded square on the left.
            if (Inside(x, y, 4, 4, 112, 112, 22))
            {
                (r, g, b, a) = (0x1F, 0x4E, 0x9A, 255);
                var d = Math.Sqrt((x - 60) * (x - 60) + (y - 60) * (y - 60));
                if (d is > 26 and < 36)
                    (r, g, b) = (255, 255, 255);
            }
            // Wordmark stand-in: three bars of decreasing length.
            if (x >= 136 && y is >= 22 and < 44 && x < 350) (r, g, b, a) = (0x1F, 0x4E, 0x9A, 255);
            if (x >= 136 && y is >= 54 and < 70 && x < 300) (r, g, b, a) = (0xF0, 0x8A, 0x24, 255);
            if (x >= 136 && y is >= 80 and < 92 && x < 250) (r, g, b, a) = (0x9A, 0xA4, 0xB0, 255);
            var i = (y * width + x) * 4;
            (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = ((byte)r, (byte)g, (byte)b, (byte)a);
        }
        return Png(width, height, pixels);
    }

    private static bool Inside(int x, int y, int left, int top, int size, int size2, int radius)
    {
        if (x < left || y < top || x >= left + size || y >= top + size2)
            return false;
        var cx = Math.Clamp(x, left + radius, left + size - radius);
        var cy = Math.Clamp(y, top + radius, top + size2 - radius);
        return (x - cx) * (x - cx) + (y - cy) * (y - cy) <= radius * radius;
    }

    /// <summary>A PNG whose chunks are all whole, with right CRCs, but whose pixel data is no zlib stream.</summary>
    public static byte[] PngWithUndecodablePixels() => Png(16, 16, new byte[16 * 16 * 4], corruptData: true);

    /// <summary>PNG of 8-bit RGBA pixels: signature, IHDR, one zlib IDAT (filter 0 rows), IEND.</summary>
    public static byte[] Png(int width, int height, byte[] rgba, bool corruptData = false)
    {
        using var output = new MemoryStream();
        output.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 6; // colour type RGBA
        Chunk(output, "IHDR", header);
        using var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter: none
                zlib.Write(rgba, y * width * 4, width * 4);
            }
        }
        Chunk(output, "IDAT", corruptData ? [.. Enumerable.Range(0, 64).Select(i => unchecked((byte)(i * 37)))] : raw.ToArray());
        Chunk(output, "IEND", []);
        return output.ToArray();
    }

    private static void Chunk(Stream output, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        var sum = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(sum, ~Crc32(Crc32(0xFFFFFFFF, typeBytes), data));
        output.Write(sum);
    }

    /// <summary>CRC-32 (ISO-HDLC, as PNG uses), bit by bit: the images are tiny.</summary>
    private static uint Crc32(uint crc, byte[] data)
    {
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return crc;
    }

    /// <summary>
    /// A valid 64 × 64 mid-grey baseline JPEG: one-code Huffman tables, every block DC category 0
    /// and EOB (2 bits). Fewer blocks make PDFsharp's header scan read past the end. Without
    /// <paramref name="jfif"/> it lacks the APP0 segment, which decoders do not need but PDFsharp does.
    /// </summary>
    public static byte[] GreyJpeg(bool jfif = true)
    {
        var bytes = new List<byte> { 0xFF, 0xD8 };                                 // SOI
        if (jfif)
            bytes.AddRange([0xFF, 0xE0, 0x00, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // APP0 JFIF 1.1
        bytes.AddRange([0xFF, 0xDB, 0x00, 0x43, 0x00]);                           // DQT, table 0
        bytes.AddRange(Enumerable.Repeat((byte)1, 64));
        bytes.AddRange([0xFF, 0xC0, 0x00, 0x0B, 8, 0, 64, 0, 64, 1, 1, 0x11, 0]);  // SOF0 64x64, 1 component
        bytes.AddRange([0xFF, 0xC4, 0x00, 0x14, 0x00, 1, .. new byte[15], 0x00]); // DHT DC 0: "0" -> category 0
        bytes.AddRange([0xFF, 0xC4, 0x00, 0x14, 0x10, 1, .. new byte[15], 0x00]); // DHT AC 0: "0" -> EOB
        bytes.AddRange([0xFF, 0xDA, 0x00, 0x08, 1, 1, 0x00, 0, 63, 0]);           // SOS
        bytes.AddRange(new byte[64 * 2 / 8]);                                     // 64 blocks of bits 0 (DC), 0 (EOB)
        bytes.AddRange([0xFF, 0xD9]);                                             // EOI
        return [.. bytes];
    }
}
