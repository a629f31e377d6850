using System.Globalization;
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

    /// <summary>A -Path as a file-system path against the current location; null when not given or empty (the default folder).</summary>
    public string? Given(string? path) =>
        string.IsNullOrEmpty(path) ? null : _command.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>A default file name stamped with the current UTC second: prefix_yyyyMMdd_HHmmss.extension.</summary>
    public string StampedName(string prefix, string extension) =>
        $"{prefix}_{_command.Now.UtcDateTime.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture)}.{extension}";

    /// <summary>The file to write: -Path, the default name in a folder it names, or in BILLING_EXPORT_DIR; -NoClobber and read-only files refused.</summary>
    public string Target(string? path, string defaultName, bool force, bool noClobber) =>
        OutputFile.Resolve(Given(path), _command.Environment.ExportDirectory, defaultName, force, noClobber);

    /// <summary>Writes the file through a temporary sibling and moves it into place (replacing a read-only file only with -Force).</summary>
    public static FileInfo Write(string target, Action<Stream> write, bool force) => OutputFile.Write(target, write, force);
}
