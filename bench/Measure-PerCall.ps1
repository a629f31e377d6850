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
Add-Type -Path (Join-Path $PSScriptRoot 'NoopCmdlets.cs') -PassThru | Select-Object -First 1 | ForEach-Object Assembly | Import-Module
Import-Module $ModulePath

# Two rounds of the same three loops; only the second is timed. PowerShell's own command
# invocation and parameter binding get faster for minutes after start-up (tiered JIT), for every
# cmdlet alike: a loop timed early pays for that, so each is timed in the same warm state.
Add-UsageApiRequest /warm -CustomerId cus_call  # create or migrate the store outside the timing
$expected = 1
foreach ($round in 1, 2) {
    $calls = $round -eq 1 ? [math]::Min($CallEvents, 2000) : $CallEvents
    $batchedCalls = $round -eq 1 ? [math]::Min($BatchedCallEvents, 10000) : $BatchedCallEvents

    $watch = [Diagnostics.Stopwatch]::StartNew()
    foreach ($i in 1..$calls) { Add-UsageApiRequest /x -CustomerId cus_call }
    $unbatched = $calls / $watch.Elapsed.TotalSeconds

    # As a user would run it: the background flush delivers every 1,000 events meanwhile.
    Start-UsageBatch -Size 1000 -FlushInterval 5 | Out-Null
    $watch.Restart()
    foreach ($i in 1..$batchedCalls) { Add-UsageApiRequest /x -CustomerId cus_call }
    $batched = $batchedCalls / $watch.Elapsed.TotalSeconds
    $result = Stop-UsageBatch
    $expected += $calls + $batchedCalls
    $stored = (Get-Usage -CustomerId cus_call -Service api ([datetime]::UtcNow.AddDays(-1)) ([datetime]::UtcNow.AddDays(1)) | Measure-Object Events -Sum).Sum
    if ($result.Pending -ne 0 -or $stored -ne $expected) { throw "Stored $stored events, not $expected." }

    # The limit, with nothing running behind it.
    $watch.Restart()
    foreach ($i in 1..$batchedCalls) { Add-BenchNoopApiRequest /x -CustomerId cus_call }
    $noop = $batchedCalls / $watch.Elapsed.TotalSeconds
}
Disconnect-UsageStore
'{0}|{1}|{2}' -f $noop.ToString([cultureinfo]::InvariantCulture), $unbatched.ToString([cultureinfo]::InvariantCulture), $batched.ToString([cultureinfo]::InvariantCulture)
