using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PdfSharp.Drawing;
using PdfSharp.Pdf;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// A customer-facing invoice as PDF, drawn with PDFsharp and the embedded DejaVu Sans. The same
/// model always gives the same bytes (on the same .NET runtime: see <see cref="Render"/>).
/// </summary>
public static partial class InvoicePdf
{
    /// <summary>The invoice as PDF bytes.</summary>
    /// <remarks>
    /// Byte-identical for an identical model: the dates come from <see cref="CustomerCopy.Timestamp"/>,
    /// the document ID is a hash of the model, and PDFsharp writes nothing random or clock-based
    /// beyond those. The compressed streams come from the runtime's zlib, so the bytes may differ
    /// between .NET major versions (the rendered pages do not).
    /// </remarks>
    public static byte[] Render(CustomerCopy model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Validate(model);
        var fonts = InvoiceFontResolver.EnsureRegistered();

        var logo = model.Seller.Logo;
        using var logoStream = logo is null ? null : OpenImage(logo);
        using var logoImage = logoStream is null ? null : LoadImage(logoStream);
        using var document = new PdfDocument();
        Describe(document, model);
        // Saved to memory: PdfDocument.Save rewinds a readable, seekable stream to position 0
        // after writing, and a failure must not leave half a file in the caller's stream.
        using var buffer = new MemoryStream();
        try
        {
            new Layout(model, document, fonts, logoImage).Run();
            Determinism.FixFontSubsetTags(document);
            document.Save(buffer, closeStream: false); // decodes and re-compresses the logo's pixels
        }
        catch (Exception e) when (logo is not null && e is not (InvalidDataException or OutOfMemoryException) && !IsSupportedImage(logo, out _))
        {
            // The full image probe runs only here, on failure: done up front it doubled the render time.
            throw new InvalidDataException("The seller logo could not be decoded as PNG or JPEG.", e);
        }
        var bytes = buffer.ToArray();
        Determinism.FixXmpIds(bytes, document.Internals.FirstDocumentGuid);
        return bytes;
    }

    /// <summary>Writes the invoice PDF to <paramref name="output"/> at its current position.</summary>
    public static void Write(CustomerCopy model, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Render(model));
    }

    private static void Validate(CustomerCopy model)
    {
        static void Required(string? value, string name)
        {
            if (value is null)
                throw new ArgumentException($"The invoice PDF needs {name}.", nameof(model));
        }

        Required(model.Title, "a title");
        ArgumentNullException.ThrowIfNull(model.Labels);
        ArgumentNullException.ThrowIfNull(model.Seller);
        ArgumentNullException.ThrowIfNull(model.Buyer);
        Required(model.Seller.LegalName, "the seller's legal name");
        Required(model.Buyer.Name, "the buyer's name");
        foreach (var line in model.Lines)
        {
            ArgumentNullException.ThrowIfNull(line);
            Required(line.Description, "a description on every line");
        }
        try
        {
            _ = string.Format(CultureInfo.InvariantCulture, model.Labels.PageOfPages, 1, 1);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(
                $"The page label '{model.Labels.PageOfPages}' is not a composite format with {{0}} and {{1}}.", nameof(model), e);
        }
        // The cheap checks here (signature, structure); PDFsharp's own decoding comes with the render.
        if (model.Seller.Logo is { } logo && !IsCompleteImage(logo, out _))
            throw new InvalidDataException("The seller logo is not a complete PNG or JPEG image.");
    }

    /// <summary>Title, author, dates, language and a document ID derived from the content.</summary>
    private static void Describe(PdfDocument document, CustomerCopy model)
    {
        var info = document.Info;
        info.Title = model.Number is { Length: > 0 } number
            ? $"{model.Title} {number}"
            : model.IsDraft ? $"{model.Title} ({model.Labels.Draft})" : model.Title;
        info.Author = model.Seller.LegalName;
        info.Creator = "NSelf.Usage";
        // PdfDocument's constructor stamps DateTime.Now; both dates are overwritten with the
        // caller's instant, in UTC so the machine's time zone does not reach the bytes.
        info.CreationDate = model.Timestamp.UtcDateTime;
        info.ModificationDate = model.Timestamp.UtcDateTime;
        if (!string.IsNullOrWhiteSpace(model.Language))
            document.Language = model.Language;

        // The trailer /ID: 16 bytes, PDFsharp's own form (it writes the string's chars as hex).
        // The PDF spec wants an ID that identifies the file, not a random one: a hash of the model
        // (the logo included) is stable and still tells two invoices apart.
        var id = Encoding.Latin1.GetString(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(model)), 0, 16);
        document.Internals.FirstDocumentID = id;
        document.Internals.SecondDocumentID = id;
    }
}
