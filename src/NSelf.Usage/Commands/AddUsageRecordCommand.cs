using System.Management.Automation;
using NSelf.Usage.Completion;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>
/// Records usage of any service (bash: billing_record_usage, usage_batch_add, usage_batch_insert).
/// Pipeline input binds by property name and is written in bulk.
/// </summary>
[Cmdlet(VerbsCommon.Add, "UsageRecord", SupportsShouldProcess = true, DefaultParameterSetName = FieldsSet)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageRecordCommand : TrackingCmdlet
{
    private const string FieldsSet = "Fields";
    private const string RecordSet = "Record";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = FieldsSet)]
    [Alias("service_name")]
    [ArgumentCompleter(typeof(ServiceNameCompleter))]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Service { get; set; } = "";

    /// <summary>A number, or text in invariant notation (12.5), at most six decimal places.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = FieldsSet)]
    public object? Quantity { get; set; }

    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true, ParameterSetName = FieldsSet)]
    public object? Metadata { get; set; }

    /// <summary>Record strings in the bash library's form 'service:quantity:{json}'.</summary>
    /// <remarks>
    /// Not bound from the pipeline by value on purpose: offering that makes PowerShell try to
    /// convert every piped object to string[] before binding by property name, which halves
    /// the speed of 'Import-Csv | Add-UsageRecord'.
    /// </remarks>
    [Parameter(Mandatory = true, ParameterSetName = RecordSet)]
    public string[] Record { get; set; } = Array.Empty<string>();

    // Rows of Import-Csv have every column: a blank CustomerId cell means "not given" here, as
    // before (issue 14 fix 4 owns piped rows); only an explicit -CustomerId '' or $null is refused.
    private protected override bool BlankPipedCustomerIdIsNotGiven => true;

    internal override void Measure(ICollection<TrackedQuantity> measured)
    {
        if (ParameterSetName != RecordSet)
        {
            measured.Add(new TrackedQuantity(Service, PowerShellValues.Quantity(Quantity), PowerShellValues.MetadataJson(Metadata)));
            return;
        }
        foreach (var text in Record)
        {
            // One bad string is reported and the others still go in.
            try
            {
                var (service, quantity, metadata) = RecordText.Parse(text);
                measured.Add(new TrackedQuantity(service, quantity, metadata));
            }
            catch (UsageException e)
            {
                WriteUsageError(e);
            }
        }
    }
}
