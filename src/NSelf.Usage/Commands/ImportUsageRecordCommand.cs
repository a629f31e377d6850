using System.Management.Automation;
using NSelf.Usage.Engine.Exports;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Loads an export or an archive back into the store, idempotent by event id.</summary>
[Cmdlet(VerbsData.Import, "UsageRecord", SupportsShouldProcess = true)]
[OutputType(typeof(UsageImportResult))]
public sealed class ImportUsageRecordCommand : UsageCmdlet
{
    /// <summary>CSV or JSON files written by Export-Usage or Move-UsageRecord, optionally .gz.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>The customer of rows that have none (for files from elsewhere).</summary>
    [Parameter]
    [ArgumentCompleter(typeof(Completion.CustomerIdCompleter))]
    public string? CustomerId { get; set; }

    // Rows without a customer get -CustomerId, else the session's default customer (as tracking
    // commands do); with neither, such rows are refused one by one. A -CustomerId given empty
    // or $null ends the command before any file is read.
    private string? _fallback;

    protected override void BeginProcessing()
    {
        _fallback = Require(() => GivenCustomerId(CustomerId));
        if (_fallback is null)
            try { _fallback = DefaultCustomerId(); }
            catch (UsageException e) when (e.ErrorId == ErrorIds.NoCustomerId) { }
    }

    protected override void ProcessRecord()
    {
        foreach (var item in Path)
        {
            Try(() =>
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(item);
                if (!ShouldProcess(path, "Import usage events"))
                    return;
                var progress = new ProgressRecord(2, "Import-UsageRecord", $"Reading {path}");
                var result = new UsageImporter(Session.Tracker, Session.Time).Import(path, _fallback, WriteUsageError, n =>
                {
                    progress.StatusDescription = $"{n:N0} rows read";
                    WriteProgress(progress);
                });
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
                WriteObject(result);
            });
        }
    }
}
