using System.Globalization;
using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Archives old events (bash: usage_archive): writes them to a file, verifies it, and only then
/// deletes exactly those events from the store, in one transaction. Reports keep their history.
/// </summary>
[Cmdlet(VerbsCommon.Move, "UsageRecord", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = "Path")]
[OutputType(typeof(UsageArchiveResult))]
public sealed class MoveUsageRecordCommand : CustomerScopedCmdlet
{
    [Parameter(Position = 0)]
    [ValidateRange(0, 36600)]
    [PlainWholeNumber]
    public int OlderThanDays { get; set; } = 90;

    /// <summary>The archive file (.csv, .json, optionally .gz), or a folder for the default name; default BILLING_EXPORT_DIR.</summary>
    [Parameter(Position = 1, ParameterSetName = "Path")]
    [AllowEmptyString]
    [AllowNull]
    public string? Path { get; set; }

    /// <summary>The file or folder, taken as written: no wildcards.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "LiteralPath")]
    [Alias("PSPath", "LP")]
    [AllowEmptyString]
    [AllowNull]
    public string? LiteralPath { get; set; }

    [Parameter]
    [ValidateSet("Csv", "Json", IgnoreCase = true)]
    public string Format { get; set; } = "Csv";

    /// <summary>Write a gzip-compressed archive.</summary>
    [Parameter]
    public SwitchParameter Compress { get; set; }

    // Ctrl+C: the archiver stops at its next row (or its running statement is cancelled) and
    // deletes its file; the store is left as it was. Per record: each piped customer is archived
    // on its own (into its own file).
    protected override void ProcessRecord() => ForEachCustomer(null, filter =>
    {
        var cutoff = Now.AddDays(-OlderThanDays);
        UsageFileFormat? asked = !MyInvocation.BoundParameters.ContainsKey(nameof(Format)) ? null
            : Format.Equals("Json", StringComparison.OrdinalIgnoreCase) ? UsageFileFormat.Json : UsageFileFormat.Csv;
        var files = new OutputFiles(this);
        var prefix = SeveralCustomers && filter.CustomerId is { } one ? $"usage_archive_{one}" : "usage_archive";
        var name = files.StampedName(prefix, asked == UsageFileFormat.Json ? "json" : "csv");
        var path = files.Given(Path, LiteralPath);
        var given = files.Target(path, name, force: false, noClobber: false);
        var (target, format, _) = OutputFile.Settle(given, asked, Compress);
        // A default name is made unique (two moves in one second); a name given is never replaced.
        if (path is null || Directory.Exists(path))
            target = OutputFile.Unused(target);
        else if (File.Exists(target))
            throw new UsageException(ErrorIds.FileExists, UsageErrorKind.ResourceExists, $"{target} already exists; an archive never replaces a file.", target);
        var archiver = new UsageArchiver(Store);
        var count = archiver.Count(filter, cutoff);
        var whose = filter.CustomerId is null ? "every customer's" : $"{filter.CustomerId}'s";
        if (!ShouldProcess(target, string.Create(CultureInfo.InvariantCulture, $"Move {count:N0} of {whose} events recorded before {cutoff:yyyy-MM-ddTHH:mm:ssZ} to the archive and delete them from the store")))
            return;
        var progress = new ProgressRecord(3, "Move-UsageRecord", $"Archiving {count:N0} events to {target}");
        var result = archiver.Archive(filter, cutoff, target, (stage, n) =>
        {
            progress.StatusDescription = $"{stage}: {n:N0} of {count:N0}";
            progress.PercentComplete = count == 0 ? 100 : (int)Math.Min(100, n * 100 / count);
            WriteProgress(progress);
        }, format, StopToken);
        progress.RecordType = ProgressRecordType.Completed;
        WriteProgress(progress);
        WriteVerbose($"Events recorded before {Instant(cutoff)}: {count:N0} counted, archived to {target} and deleted from the store.");
        WriteObject(result);
    });
}
