<#
.SYNOPSIS
    One run of the per-call benchmark, as a user's script runs it: top-level foreach loops in a
    fresh pwsh, no strict mode. Called by Invoke-Benchmarks.ps1; prints one line
    'noop|unbatched|batched' in events per second.
.DESCRIPTION
    The no-op is a compiled cmdlet with Add-UsageApiRequest's parameters, called the same way in
    the same process: what PowerShell's command invocation costs before any of our work.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [string] $CacheDirectory,
    [int] $CallEvents = 5000,
    [int] $BatchedCallEvents = 20000
)
$ErrorActionPreference = 'Stop'
$env:NSELF_USAGE_STORE = $Store
$env:BILLING_CACHE_DIR = $CacheDirectory
Add-Type -TypeDefinition @'
using System.Management.Automation;
[Cmdlet("Add", "BenchNoopApiRequest")]
public sealed class AddBenchNoopApiRequest : PSCmdlet {
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)] [Alias("Path")] public string Endpoint { get; set; }
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)] public string Method { get; set; }
    [Parameter(Position = 2, ValueFromPipelineByPropertyName = true)] [Alias("Status")] public int StatusCode { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] [Alias("customer_id")] public string CustomerId { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] public object Timestamp { get; set; }
    [Parameter(ValueFromPipelineByPropertyName = true)] [Alias("event_id")] public string EventId { get; set; }
    [Parameter] public string TimeZone { get; set; }
    [Parameter] public SwitchParameter PassThru { get; set; }
    protected override void ProcessRecord() { }
}
'@ -PassThru | Select-Object -First 1 | ForEach-Object Assembly | Import-Module
Import-Module $ModulePath

foreach ($i in 1..2000) { Add-BenchNoopApiRequest /warm -CustomerId cus_call }
Add-UsageApiRequest /warm -CustomerId cus_call  # create or migrate the store outside the timing
$watch = [Diagnostics.Stopwatch]::StartNew()
foreach ($i in 1..$CallEvents) { Add-UsageApiRequest /x -CustomerId cus_call }
$unbatched = $CallEvents / $watch.Elapsed.TotalSeconds

# As a user would run it: the background flush delivers every 1,000 events meanwhile.
Start-UsageBatch -Size 1000 -FlushInterval 5 | Out-Null
$watch.Restart()
foreach ($i in 1..$BatchedCallEvents) { Add-UsageApiRequest /x -CustomerId cus_call }
$batched = $BatchedCallEvents / $watch.Elapsed.TotalSeconds
$result = Stop-UsageBatch

$stored = (Get-Usage -CustomerId cus_call -Service api ([datetime]::UtcNow.AddDays(-1)) ([datetime]::UtcNow.AddDays(1)) | Measure-Object Events -Sum).Sum
if ($result.Pending -ne 0 -or $stored -ne $CallEvents + 1 + $BatchedCallEvents) { throw "Stored $stored events, not $($CallEvents + 1 + $BatchedCallEvents)." }
Disconnect-UsageStore

# The limit last, in a warm process with nothing running behind it: measured first, it paid for
# the JIT's background compilation still going on after start-up, and came out flatteringly low.
$watch.Restart()
foreach ($i in 1..$BatchedCallEvents) { Add-BenchNoopApiRequest /x -CustomerId cus_call }
$noop = $BatchedCallEvents / $watch.Elapsed.TotalSeconds
'{0}|{1}|{2}' -f $noop.ToString([cultureinfo]::InvariantCulture), $unbatched.ToString([cultureinfo]::InvariantCulture), $batched.ToString([cultureinfo]::InvariantCulture)
