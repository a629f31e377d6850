using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records stored bytes over a number of hours as GB-hours (bash: usage_track_storage).</summary>
[Cmdlet(VerbsCommon.Add, "UsageStorage", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageStorageCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Length", "Size")]
    public object? Bytes { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public object? Hours { get; set; } = 1m;

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.Storage(PowerShellValues.WholeNumber(Bytes, nameof(Bytes)), PowerShellValues.Number(Hours, NumberKind.Quantity, nameof(Hours))));
}
