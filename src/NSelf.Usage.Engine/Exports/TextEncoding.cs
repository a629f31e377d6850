using System.Text;

namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// The text encoding of an export (-Encoding): the writers produce UTF-8, and this turns it into
/// the encoding asked for on its way to the file, so each writer keeps one code path. UTF-8
/// without a byte order mark, pwsh's default, is written as produced.
/// </summary>
public static class TextEncoding
{
    /// <summary>UTF-8 without a byte order mark, as pwsh writes files by default.</summary>
    public static readonly Encoding Default = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>
    /// A stream to write UTF-8 into: the byte order mark of <paramref name="encoding"/>, if it has
    /// one, is written to <paramref name="file"/> first, and the text is re-encoded on its way
    /// there. Disposing the returned stream flushes it and leaves <paramref name="file"/> open.
    /// </summary>
    public static Stream Open(Stream file, Encoding encoding)
    {
        var preamble = encoding.GetPreamble();
        file.Write(preamble, 0, preamble.Length);
        if (encoding.CodePage == Encoding.UTF8.CodePage)
            return new KeptOpen(file);
        return Encoding.CreateTranscodingStream(file, encoding, Encoding.UTF8, leaveOpen: true);
    }

    /// <summary>
    /// An HTML document's charset declaration made to match the encoding it is written in, so a
    /// browser reads a page written as windows-1252 (say) as such; the documents declare UTF-8.
    /// </summary>
    public static string DeclareCharset(string html, Encoding encoding) =>
        encoding.CodePage == Encoding.UTF8.CodePage
            ? html
            : html.Replace("<meta charset=\"utf-8\">", $"<meta charset=\"{encoding.WebName}\">", StringComparison.Ordinal);

    // The file stream stays the caller's: it flushes it to disk before moving it into place.
    private sealed class KeptOpen : Stream
    {
        private readonly Stream _inner;

        public KeptOpen(Stream inner) => _inner = inner;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => _inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);
        public override void Write(ReadOnlySpan<byte> buffer) => _inner.Write(buffer);
        protected override void Dispose(bool disposing) => _inner.Flush();
    }
}
