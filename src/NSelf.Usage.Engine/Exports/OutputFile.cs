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
        var temporary = WriteTemporary(target, write);
        try
        {
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
    }

    /// <summary>
    /// Writes the content to a temporary sibling of <paramref name="target"/>, flushed to disk, and
    /// returns its path; the caller moves it into place (or deletes it). On any failure, a stop
    /// included, the temporary file is deleted.
    /// </summary>
    public static string WriteTemporary(string target, Action<Stream> write)
    {
        var directory = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Environment.ProcessId}.{HostTag}.{Guid.NewGuid().ToString("n")[..8]}.partial");
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.SequentialScan))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            return temporary;
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

    /// <summary>Moves a finished temporary file into place; never replaces a file that is there.</summary>
    public static FileInfo Publish(string temporary, string target)
    {
        try
        {
            File.Move(temporary, target, overwrite: false);
            return new FileInfo(target);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temporary);
            if (File.Exists(target))
                throw new UsageException(ErrorIds.FileExists, UsageErrorKind.ResourceExists, $"{target} already exists; an archive never replaces a file.", target, e);
            throw new UsageException(ErrorIds.ExportFailed, UsageErrorKind.WriteError, $"Writing {target} failed; nothing was written: {e.Message}", target, e);
        }
    }

    // This machine's tag in temporary names: a process id means something only on the host that ran it
    // (a folder may be shared between hosts).
    internal static readonly string HostTag = Convert.ToHexString(
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Environment.MachineName)))[..6].ToLowerInvariant();

    /// <summary>
    /// Deletes the temporary files that processes of this host which no longer run left in a folder
    /// (a write killed before it finished: SIGKILL, a power cut). They hold no result anyone can
    /// use (an archive's events were never deleted from the store), only disk space.
    /// </summary>
    /// <returns>The files deleted.</returns>
    public static IReadOnlyList<string> SweepAbandoned(string directory)
    {
        var swept = new List<string>();
        if (!Directory.Exists(directory))
            return swept;
        foreach (var file in Directory.EnumerateFiles(directory, ".*.partial"))
        {
            var match = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(file), @"\.(?<pid>[0-9]{1,10})\.(?<host>[0-9a-f]{6})\.[0-9a-f]{8}\.partial\z");
            if (!match.Success || match.Groups["host"].Value != HostTag || !int.TryParse(match.Groups["pid"].Value, out var pid) || IsRunning(pid))
                continue;
            if (TryDelete(file))
                swept.Add(file);
        }
        return swept;
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
            return true;
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; } // no such process
        catch (InvalidOperationException) { return false; }
        catch (System.ComponentModel.Win32Exception) { return true; } // there, but not ours to inspect: leave its file
    }

    internal static bool TryDelete(string path)
    {
        try { File.Delete(path); return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; /* best effort: a .partial name never looks like a result */ }
    }
}
