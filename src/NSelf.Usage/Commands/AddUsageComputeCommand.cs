using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records CPU seconds as CPU-hours (bash: usage_track_compute).</summary>
[Cmdlet(VerbsCommon.Add, "UsageCompute", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageComputeCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    public object? Seconds { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public object? Metadata { get; set; }

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.Compute(PowerShellValues.Number(Seconds, NumberKind.Quantity, nameof(Seconds)), PowerShellValues.MetadataJson(Metadata)));
}
