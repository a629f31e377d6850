using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records one function invocation (bash: usage_track_function).</summary>
[Cmdlet(VerbsCommon.Add, "UsageFunction", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageFunctionCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FunctionName")]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Name { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    public decimal DurationMs { get; set; }

    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    public int MemoryMB { get; set; } = 128;

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.Function(Name, DurationMs, MemoryMB));
}
