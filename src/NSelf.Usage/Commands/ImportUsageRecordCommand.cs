using System.Collections.ObjectModel;
using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Loads an export or an archive back into the store, idempotent by event id.</summary>
[Cmdlet(VerbsData.Import, "UsageRecord", SupportsShouldProcess = true, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageImportResult))]
public sealed class ImportUsageRecordCommand : UsageCmdlet
{
    /// <summary>CSV or JSON files written by Export-Usage or Move-UsageRecord, optionally .gz; wildcards import every match.</summary>
    /// <remarks>
    /// Piped strings bind here; piped objects do not (by property name): an export's result has a
    /// Path property, and its file name, already resolved, must not be expanded as a wildcard again.
    /// Objects bind -LiteralPath through PSPath or FullName.
    /// </remarks>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Path")]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The files, taken as written (no wildcards). Bound from a piped file's PSPath or FullName,
    /// so `Get-ChildItem *.csv | Import-UsageRecord` reads each file by its exact name.
    /// </summary>
    [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "LP", "FullName")]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>The customer of rows that have none (for files from elsewhere).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; }

    // Rows without a customer get -CustomerId, else the session's default customer (as tracking
    // commands do); with neither, such rows are refused one by one. A -CustomerId given empty
    // or $null ends the command before any file is read.
    private string? _fallback;
    // What this command stored, for its -Verbose summary.
    private long _files, _rows, _inserted, _duplicates;

    protected override void BeginProcessing()
    {
        _fallback = Require(() => GivenCustomerId(CustomerId));
        if (_fallback is null)
            try { _fallback = DefaultCustomerId(); }
            catch (UsageException e) when (e.ErrorId == ErrorIds.NoCustomerId) { }
    }

    protected override void ProcessRecord()
    {
        var literal = ParameterSetName == "LiteralPath";
        foreach (var item in literal ? LiteralPath : Path)
            foreach (var path in Resolve(item, literal))
                Try(() => Import(path));
    }

    private protected override void Finish() =>
        WriteVerbose($"Imported {_files:N0} file(s): {_rows:N0} row(s) read, {_inserted:N0} event(s) stored, {_duplicates:N0} already stored.");

    /// <summary>
    /// The files one -Path item names, in name order: every file a wildcard matches (none is
    /// PathNotFound), or the one file named. -LiteralPath is taken as written. Each failure is an
    /// error record of its own and the other items are still imported.
    /// </summary>
    private IReadOnlyList<string> Resolve(string? item, bool literal)
    {
        var parameter = literal ? "-LiteralPath" : "-Path";
        try
        {
            if (string.IsNullOrWhiteSpace(item))
                throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument, $"{parameter} was given an empty path: name a file.", item);
            if (literal || !WildcardPattern.ContainsWildcardCharacters(item))
                return new[] { OutputFiles.ToFileSystemPath(this, item, literal: true, parameter) };
            Collection<string> matches;
            ProviderInfo provider;
            try
            {
                matches = SessionState.Path.GetResolvedProviderPathFromPSPath(item, out provider);
            }
            catch (ItemNotFoundException)
            {
                matches = new Collection<string>();
                provider = null!;
            }
            if (provider is not null && provider.Name != "FileSystem")
                throw new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument,
                    $"{parameter} '{item}' is a path of the {provider.Name} provider; files are read from the file system only.", item);
            var files = matches.Where(File.Exists).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new UsageException(ErrorIds.PathNotFound, UsageErrorKind.ObjectNotFound,
                    $"{parameter} '{item}' matches no file (in {CurrentDirectory()}); nothing was imported for it.", item);
            WriteVerbose($"{parameter} '{item}' matches {files.Count:N0} file(s): {string.Join(", ", files.Select(System.IO.Path.GetFileName))}.");
            return files;
        }
        catch (Exception e) when (e is SessionStateException or PSArgumentException or PSNotSupportedException or ArgumentException)
        {
            WriteUsageError(new UsageException(ErrorIds.InvalidPath, UsageErrorKind.InvalidArgument, $"{parameter} '{item}' is not a file-system path here: {e.Message}", item, e));
        }
        catch (UsageException e)
        {
            WriteUsageError(e);
        }
        return Array.Empty<string>();
    }

    private void Import(string path)
    {
        if (!ShouldProcess(path, "Import usage events"))
            return;
        var tracker = Session.Tracker;
        NameStore(tracker.Store);
        var progress = new ProgressRecord(2, "Import-UsageRecord", $"Reading {path}");
        var result = new UsageImporter(tracker, Session.Time).Import(path, _fallback, WriteUsageError, n =>
        {
            progress.StatusDescription = $"{n:N0} rows read";
            WriteProgress(progress);
        });
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        _files++;
        _rows += result.Rows;
        _inserted += result.Inserted;
        _duplicates += result.Duplicates;
        WriteVerbose($"{path}: {result.Rows:N0} row(s) read, {result.Inserted:N0} stored, {result.Duplicates:N0} already stored, {result.Rejected:N0} refused.");
        WriteObject(result);
    }
}
