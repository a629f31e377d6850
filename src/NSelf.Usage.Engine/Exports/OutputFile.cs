namespace NSelf.Usage.Engine.Exports;

/// <summary>
/// Where an export goes, and writing it so that nothing partial is left behind: the content is
/// written to a temporary file in the same folder, flushed to disk, then moved into place.
/// </summary>
public static class OutputFile
{
    /// <summary>
    /// The file to write: <paramref name="path"/> as given, or the default name inside it when it
    /// is a folder, or the default name in <paramref name="defaultDirectory"/> when it is empty.
    /// </summary>
    public static string Resolve(string? path, string defaultDirectory, string defaultName, bool force, bool noClobber)
    {
        string target;
        if (string.IsNullOrWhiteSpace(path))
            target = Path.Combine(defaultDirectory, defaultName);
        else if (Directory.Exists(path) || path.EndsWith(Path.DirectorySeparatorChar) || path.EndsWith(Path.AltDirectorySeparatorChar))
            target = Path.Combine(path, defaultName);
        else
            target = path;
        target = Path.GetFullPath(target);
        if (File.Exists(target))
        {
            if (noClobber)
                throw new UsageException(ErrorIds.FileExists, UsageErrorKind.ResourceExists,
                    $"{target} already exists and -NoClobber was given.", target);
            if (!force && (File.GetAttributes(target) & FileAttributes.ReadOnly) != 0)
                throw new UsageException(ErrorIds.FileExists, UsageErrorKind.PermissionDenied,
                    $"{target} is read-only; use -Force to replace it.", target);
        }
        return target;
    }

    /// <summary>
    /// The format and compression of an export: the file name's extension decides when -Format was
    /// not given; a name that says otherwise than -Format is refused rather than written wrongly;
    /// compression adds .gz to a name that lacks it.
    /// </summary>
    public static (string Path, UsageFileFormat Format, bool Compress) Settle(string target, UsageFileFormat? format, bool compress)
    {
        var compressed = UsageFile.IsCompressed(target);
        var bare = compressed ? target[..^3] : target;
        UsageFileFormat? named = bare.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? UsageFileFormat.Json
            : bare.EndsWith(".csv", StringComparison.OrdinalIgnoreCase) ? UsageFileFormat.Csv : null;
        if (format is { } asked && named is { } byName && asked != byName)
            throw new UsageException(ErrorIds.InvalidArgument, UsageErrorKind.InvalidArgument,
                $"{Path.GetFileName(target)} names a {byName.ToString().ToUpperInvariant()} file, but -Format is {asked}. Give a matching name or leave -Format out.", target);
        if (compress && !compressed)
            target += ".gz";
        return (target, format ?? named ?? UsageFileFormat.Csv, compress || compressed);
    }

    /// <summary>A name not taken yet in a folder: the default name, else the name with _2, _3, ...</summary>
    public static string Unused(string path)
    {
        if (!File.Exists(path))
            return path;
        var directory = Path.GetDirectoryName(path)!;
        var name = Path.GetFileName(path);
        var dot = name.IndexOf('.', StringComparison.Ordinal);
        var (stem, extension) = dot < 0 ? (name, "") : (name[..dot], name[dot..]);
        for (var n = 2; ; n++)
        {
            var candidate = Path.Combine(directory, $"{stem}_{n}{extension}");
            if (!File.Exists(candidate))
                return candidate;
        }
    }

    /// <summary>Writes a file through a temporary sibling, then moves it into place.</summary>
    public static FileInfo Write(string target, Action<Stream> write, bool force)
    {
        var directory = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(directory, "." + Path.GetFileName(target) + "." + Guid.NewGuid().ToString("n")[..8] + ".partial");
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.SequentialScan))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            if (force && File.Exists(target))
                File.SetAttributes(target, File.GetAttributes(target) & ~FileAttributes.ReadOnly);
            File.Move(temporary, target, overwrite: true);
            return new FileInfo(target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            throw new UsageException(ErrorIds.ExportFailed, UsageErrorKind.WriteError, $"Writing {target} failed; nothing was written: {e.Message}", target, e);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort: a .partial name never looks like a result */ }
    }
}
