using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records one database query (bash: usage_track_database_query).</summary>
[Cmdlet(VerbsCommon.Add, "UsageDatabaseQuery", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageDatabaseQueryCommand : TrackingCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.QueryTypeCompleter))]
    [Alias("Type")]
    public string QueryType { get; set; } = "SELECT";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public object? DurationMs { get; set; } = 0m;

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.DatabaseQuery(QueryType, PowerShellValues.Number(DurationMs, NumberKind.Quantity, nameof(DurationMs))));
}
