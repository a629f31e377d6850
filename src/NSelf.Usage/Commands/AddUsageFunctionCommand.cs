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
    public object? DurationMs { get; set; } = 0m;

    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    public object? MemoryMB { get; set; } = 128;

    // The engine checks the range (1 MB to 1 TB); a value beyond int is past it already.
    private int MemoryMb()
    {
        var memory = PowerShellValues.WholeNumber(MemoryMB, nameof(MemoryMB));
        return memory is >= int.MinValue and <= int.MaxValue ? (int)memory
            : throw new UsageException(ErrorIds.InvalidQuantity, UsageErrorKind.InvalidArgument, $"Memory {memory} MB is not between 1 MB and 1 TB.", PowerShellValues.Unwrap(MemoryMB));
    }

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.Function(Name, PowerShellValues.Number(DurationMs, NumberKind.Quantity, nameof(DurationMs)), MemoryMb()));
}
