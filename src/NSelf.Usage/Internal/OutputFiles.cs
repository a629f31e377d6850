using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Exports;

namespace NSelf.Usage.Internal;

/// <summary>
/// Writing a command's output file, once for every command that writes one (Export-Usage,
/// Export-UsageReport, Export-BillingInvoice, Move-UsageRecord's archive): the path resolved
/// against PowerShell's current location (not the process's), the default folder and name,
/// -NoClobber and -Force, and the content written to a temporary file that is moved into place,
/// so a failure or Ctrl+C leaves nothing partial (the engine's <see cref="OutputFile"/>).
/// </summary>
/// <remarks>
/// A helper the command holds rather than a base class: three of the four are also
/// customer-scoped (<see cref="CustomerScopedCmdlet"/>, which carries parameters), and their
/// file parameters differ in position and in which of -Force/-NoClobber they have, so there
/// are no parameters to share, only this behaviour.
/// </remarks>
internal sealed class OutputFiles
{
    private readonly UsageCmdlet _command;

    public OutputFiles(UsageCmdlet command) => _command = command;

    /// <summary>
    /// The file or folder the caller named with -Path or -LiteralPath, as a file-system path
    /// against PowerShell's current location (a PSDrive or a provider-qualified path works; the
    /// process's current directory plays no part); null when neither was given (the default
    /// folder). Given but empty is InvalidPath, never the default: usually an unset variable.
    /// -Path resolves wildcards as Export-Csv does: a pattern matching one existing item is that
    /// item, one matching several is refused, one matching none is taken as written.
    /// -LiteralPath is never expanded, so `a[1].csv` is that name.
    /// </summary>
    public string? Given(string? path, string? literalPath)
    {
        var bound = _command.MyInvocation.BoundParameters;
        var literal = bound.ContainsKey("LiteralPath");
        if (!literal && !bound.ContainsKey("Path"))
            return null;
        var given = literal ? literalPath : path;
        var parameter = literal ? "-LiteralPath" : "-Path";
        if (string.IsNullOrWhiteSpace(given))
            throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument,
                $"{parameter} was given empty. Name a file or folder, or leave {parameter} out to write to the export folder ({_command.Environment.ExportDirectory}).", given);
        return ToFileSystemPath(_command, given, literal, parameter);
    }

    /// <summary>A path as the file-system path it names against PowerShell's current location; wildcards resolve unless <paramref name="literal"/>.</summary>
    internal static string ToFileSystemPath(UsageCmdlet command, string given, bool literal, string parameter)
    {
        var paths = command.SessionState.Path;
        try
        {
            if (!literal && WildcardPattern.ContainsWildcardCharacters(given))
            {
                Collection<string> matches;
                ProviderInfo matchedProvider;
                try
                {
                    matches = paths.GetResolvedProviderPathFromPSPath(given, out matchedProvider);
                }
                catch (ItemNotFoundException)
                {
                    matches = new Collection<string>();
                    matchedProvider = null!;
                }
                if (matches.Count > 1)
                    throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument,
                        $"{parameter} '{given}' matches {matches.Count} items ({string.Join(", ", matches.Take(3))}{(matches.Count > 3 ? ", ..." : "")}); name one file, or use -LiteralPath for a name with [ ] * or ?.", given);
                if (matches.Count == 1)
                    return FileSystemOnly(matches[0], matchedProvider, given, parameter);
            }
            var unresolved = paths.GetUnresolvedProviderPathFromPSPath(given, out var provider, out _);
            return FileSystemOnly(unresolved, provider, given, parameter);
        }
        catch (Exception e) when (e is SessionStateException or PSArgumentException or PSNotSupportedException or PSInvalidOperationException or NotSupportedException or ArgumentException)
        {
            throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument, $"{parameter} '{given}' is not a file-system path here: {e.Message}", given, e);
        }
    }

    private static string FileSystemOnly(string path, ProviderInfo provider, string given, string parameter) =>
        provider is null || provider.Name == "FileSystem" ? path
            : throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument,
                $"{parameter} '{given}' is a path of the {provider.Name} provider; files are written to and read from the file system only.", given);

    /// <summary>A default file name stamped with the current UTC second: prefix_yyyyMMdd_HHmmss.extension.</summary>
    public string StampedName(string prefix, string extension) =>
        $"{prefix}_{_command.Now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}.{extension}";

    /// <summary>The file to write: the path <see cref="Given"/> returned, the default name in a folder it names, or in BILLING_EXPORT_DIR; -NoClobber and read-only files refused.</summary>
    public string Target(string? given, string defaultName, bool force, bool noClobber) =>
        OutputFile.Resolve(given, _command.Environment.ExportDirectory, defaultName, force, noClobber);

    /// <summary>Writes the file through a temporary sibling and moves it into place (replacing a read-only file only with -Force).</summary>
    public static FileInfo Write(string target, Action<Stream> write, bool force) => OutputFile.Write(target, write, force);

    /// <summary>Writes a text file in the -Encoding asked for (its byte order mark first, if it has one).</summary>
    public static FileInfo WriteText(string target, Action<Stream> write, System.Text.Encoding encoding, bool force) =>
        OutputFile.Write(target, stream =>
        {
            using var text = TextEncoding.Open(stream, encoding);
            write(text);
        }, force);
}
