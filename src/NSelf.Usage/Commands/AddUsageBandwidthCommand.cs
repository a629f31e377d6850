using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records transferred bytes as GB (bash: usage_track_bandwidth).</summary>
[Cmdlet(VerbsCommon.Add, "UsageBandwidth", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageBandwidthCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Length", "Size")]
    public object? Bytes { get; set; }

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Egress", "Ingress", IgnoreCase = true)]
    public string Direction { get; set; } = "Egress";

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.Bandwidth(PowerShellValues.WholeNumber(Bytes, nameof(Bytes)), Direction));
}
