using System.Management.Automation;
using NSelf.Usage.Engine.Ingestion;
using NSelf.Usage.Internal;

namespace NSelf.Usage.Commands;

/// <summary>Records one API request (bash: usage_track_api_request).</summary>
[Cmdlet(VerbsCommon.Add, "UsageApiRequest", SupportsShouldProcess = true)]
[OutputType(typeof(UsageRecord))]
public sealed class AddUsageApiRequestCommand : TrackingCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Path")]
    [AllowEmptyString] // so the command, not parameter binding, refuses it with a stable error id
    public string Endpoint { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(Completion.HttpMethodCompleter))]
    public string Method { get; set; } = "GET";

    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)]
    [Alias("Status")]
    [PlainWholeNumber]
    public int StatusCode { get; set; } = 200;

    internal override void Measure(ICollection<TrackedQuantity> measured) =>
        measured.Add(TrackedUsage.ApiRequest(Endpoint, Method, StatusCode));
}
