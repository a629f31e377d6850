using NSelf.Usage.Engine.Exports;
using Xunit;

namespace NSelf.Usage.Engine.Tests.InvoicePdfs;

public class ImageTests
{
    [Fact]
    public void A_png_is_supported()
    {
        Assert.True(InvoicePdf.IsSupportedImage(TestImages.Logo(), out var format));
        Assert.Equal("png", format);
    }

    [Fact]
    public void A_jpeg_is_supported_and_drawn()
    {
        var jpeg = TestImages.GreyJpeg();
        Assert.True(InvoicePdf.IsSupportedImage(jpeg, out var format));
        Assert.Equal("jpeg", format);
        var model = SampleInvoices.German() with { Seller = SampleInvoices.German().Seller with { Logo = jpeg } };
        var pdf = System.Text.Encoding.Latin1.GetString(InvoicePdf.Render(model));
        Assert.Contains("/Filter/DCTDecode", pdf);
    }

    [Fact]
    public void A_jpeg_without_a_jfif_or_exif_header_is_refused_because_pdfsharp_cannot_embed_it()
    {
        Assert.False(InvoicePdf.IsSupportedImage(TestImages.GreyJpeg(jfif: false), out _));
    }

    [Fact]
    public void A_truncated_jpeg_is_refused()
    {
        var jpeg = TestImages.GreyJpeg();
        foreach (var length in new[] { jpeg.Length - 2, jpeg.Length - 3, 30, 3 })
            Assert.False(InvoicePdf.IsSupportedImage(jpeg.AsSpan(0, length), out _), $"{length} bytes");
    }

    [Fact]
    public void A_truncated_png_is_refused()
    {
        var png = TestImages.Logo();
        foreach (var length in new[] { png.Length - 12, png.Length - 1, png.Length / 2, 40, 8 })
        {
            Assert.False(InvoicePdf.IsSupportedImage(png.AsSpan(0, length), out var format), $"{length} bytes");
            Assert.Null(format);
        }
    }

    [Fact]
    public void A_png_with_a_broken_checksum_or_data_is_refused()
    {
        var png = TestImages.Logo();
        var broken = png.ToArray();
        // Overwrite the middle of the compressed pixel data.
        for (var i = png.Length / 2; i < png.Length / 2 + 64; i++)
            broken[i] ^= 0x5A;
        Assert.False(InvoicePdf.IsSupportedImage(broken, out _));
    }

    [Fact]
    public void A_whole_png_with_undecodable_pixels_is_refused_by_the_probe_and_by_the_render()
    {
        var png = TestImages.PngWithUndecodablePixels();
        Assert.False(InvoicePdf.IsSupportedImage(png, out _));
        var model = SampleInvoices.German() with { Seller = SampleInvoices.German().Seller with { Logo = png } };
        Assert.Throws<InvalidDataException>(() => InvoicePdf.Render(model));
    }

    [Theory]
    [InlineData(new byte[] { 0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0 })] // GIF89a
    [InlineData(new byte[] { 0x42, 0x4D, 0, 0, 0, 0 })]                         // BMP
    [InlineData(new byte[] { 0x3C, 0x73, 0x76, 0x67 })]                         // "<svg"
    [InlineData(new byte[] { 0x25, 0x50, 0x44, 0x46 })]                         // "%PDF"
    [InlineData(new byte[0])]
    public void Other_formats_are_refused(byte[] bytes)
    {
        Assert.False(InvoicePdf.IsSupportedImage(bytes, out var format));
        Assert.Null(format);
    }

    [Fact]
    public void Rendering_with_an_unsupported_logo_throws_invalid_data()
    {
        var gif = new byte[] { 0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0 };
        var truncated = TestImages.Logo()[..100];
        var bareJpeg = TestImages.GreyJpeg(jfif: false);
        foreach (var logo in new[] { gif, truncated, bareJpeg })
        {
            var model = SampleInvoices.German() with { Seller = SampleInvoices.German().Seller with { Logo = logo } };
            Assert.Throws<InvalidDataException>(() => InvoicePdf.Render(model));
        }
    }
}
