using System.Globalization;
using System.Management.Automation;
using System.Text;

namespace NSelf.Usage.Internal;

/// <summary>
/// -Encoding as pwsh's own file commands take it: a name (utf8, utf8BOM, utf8NoBOM, ascii, ansi,
/// oem, unicode, bigendianunicode, utf32, bigendianutf32, latin1), a code page number (1252), an
/// encoding's web name (windows-1252) or an Encoding object. PowerShell's own transformation
/// attribute is internal, so this is ours; it turns the value into a System.Text.Encoding, and a
/// value it cannot read is a parameter binding error naming the accepted names.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class EncodingArgumentAttribute : ArgumentTransformationAttribute
{
    /// <summary>The names, in the order completion offers them (pwsh's own list).</summary>
    internal static readonly string[] Known = { "ascii", "ansi", "bigendianunicode", "bigendianutf32", "latin1", "oem", "unicode", "utf8", "utf8BOM", "utf8NoBOM", "utf32" };

    internal static readonly string Names = string.Join(", ", Known);

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = PowerShellValues.Unwrap(inputData);
        return value switch
        {
            Encoding encoding => encoding,
            string text => FromName(text.Trim()),
            int codePage => FromCodePage(codePage),
            long codePage when codePage is > 0 and <= int.MaxValue => FromCodePage((int)codePage),
            _ => throw Refused(value),
        };
    }

    private static Encoding FromName(string name)
    {
        switch (name.ToLowerInvariant())
        {
            case "utf8": case "utf8nobom": case "utf-8": return new UTF8Encoding(false);
            case "utf8bom": return new UTF8Encoding(true);
            case "ascii": return new ASCIIEncoding();
            case "unicode": return new UnicodeEncoding(bigEndian: false, byteOrderMark: true);
            case "bigendianunicode": return new UnicodeEncoding(bigEndian: true, byteOrderMark: true);
            case "utf32": return new UTF32Encoding(bigEndian: false, byteOrderMark: true);
            case "bigendianutf32": return new UTF32Encoding(bigEndian: true, byteOrderMark: true);
            case "latin1": return Encoding.Latin1;
            // Windows' code pages of the current culture; elsewhere pwsh writes UTF-8 for both.
            case "ansi": return OperatingSystem.IsWindows() ? FromCodePage(CultureInfo.CurrentCulture.TextInfo.ANSICodePage) : new UTF8Encoding(false);
            case "oem": return OperatingSystem.IsWindows() ? FromCodePage(CultureInfo.CurrentCulture.TextInfo.OEMCodePage) : new UTF8Encoding(false);
        }
        if (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var codePage))
            return FromCodePage(codePage);
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException)
        {
            throw Refused(name);
        }
    }

    private static Encoding FromCodePage(int codePage)
    {
        try
        {
            // pwsh registers the code-page provider at start-up, so Windows code pages resolve on every OS.
            return Encoding.GetEncoding(codePage);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            throw Refused(codePage);
        }
    }

    private static ArgumentTransformationMetadataException Refused(object? value) =>
        new($"'{Convert.ToString(value, CultureInfo.InvariantCulture)}' is not an encoding: use one of {Names}, a code page number such as 1252, or a System.Text.Encoding object.");
}

