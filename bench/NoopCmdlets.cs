// The per-call and pipeline limits: compiled cmdlets with the parameters of the commands they stand
// for, doing nothing. Called the same way as ours, they cost what PowerShell's command invocation
// and parameter binding cost before any of our work. Loaded by Invoke-Benchmarks.ps1 and
// Measure-PerCall.ps1 with Add-Type.
using System.Management.Automation;

/// <summary>The parameters every tracking command shares (TrackingCmdlet's).</summary>
public abstract class BenchNoopTracking : PSCmdlet {
    [Parameter(ValueFromPipelineByPropertyName = true)] [Alias("customer_id")] public string CustomerId { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public object Timestamp { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] [Alias("event_id")] public string EventId { get; set; }
    [Parameter] public string TimeZone { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }
    protected override void ProcessRecord() { }
}

/// <summary>Add-UsageRecord's parameters.</summary>
[Cmdlet("Add", "BenchNoopRecord")]
public sealed class AddBenchNoopRecord : BenchNoopTracking {
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = "Fields")] [Alias("service_name")] public string Service { get; set; }
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, ParameterSetName = "Fields")] public object Quantity { get; set; }
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true, ParameterSetName = "Fields")] public object Metadata { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "Record")] public string[] Record { get; set; }
}

/// <summary>Add-UsageApiRequest's parameters.</summary>
[Cmdlet("Add", "BenchNoopApiRequest")]
public sealed class AddBenchNoopApiRequest : BenchNoopTracking {
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)] [Alias("Path")] public string Endpoint { get; set; }
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)] public string Method { get; set; }
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)] [Alias("Status")] public int StatusCode { get; set; }
}
