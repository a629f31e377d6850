<#
.SYNOPSIS
    One run of the per-call benchmark, as a user's script runs it: top-level foreach loops in a
    fresh pwsh, no strict mode. Called by Invoke-Benchmarks.ps1; prints one line
    'noop|unbatched|batched|coldNoop|coldUnbatched|coldBatched' in events per second.
.DESCRIPTION
    The no-op is a compiled cmdlet with Add-UsageApiRequest's parameters, called the same way in
    the same process: what PowerShell's command invocation costs before any of our work.

    In a fresh pwsh every command call gets several times faster over its first tens of
    thousands of calls (tiered JIT recompiles PowerShell's binder and our code with what it has
    learnt), and this machine's speed drifts from second to second. So the three loops run in
    rounds, one after the other in each round: the first round is reported apart as the cold
    figures, the next $WarmRounds - 1 are not timed, and each steady figure is the median of the
    $Rounds rounds after them. The no-op and our calls are thus timed in the same state and the
    same stretch of time.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $Store,
    [Parameter(Mandatory)] [string] $CacheDirectory,
    [int] $CallEvents = 5000,
    [int] $BatchedCallEvents = 20000,
    [int] $WarmRounds = 3,
    [int] $Rounds = 5
)
$ErrorActionPreference = 'Stop'
$env:NSELF_USAGE_STORE = $Store
$env:BILLING_CACHE_DIR = $CacheDirectory
Add-Type -Path (Join-Path $PSScriptRoot 'NoopCmdlets.cs') -PassThru | Select-Object -First 1 | ForEach-Object Assembly | Import-Module
Import-Module $ModulePath

Add-UsageApiRequest /warm -CustomerId cus_call  # create or migrate the store outside the timing
$expected = 1
$rates = @{ Noop = [System.Collections.Generic.List[double]]::new(); Unbatched = [System.Collections.Generic.List[double]]::new(); Batched = [System.Collections.Generic.List[double]]::new() }
foreach ($round in 1..($WarmRounds + $Rounds)) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    foreach ($i in 1..$BatchedCallEvents) { Add-BenchNoopApiRequest /x -CustomerId cus_call }
    $noop = $BatchedCallEvents / $watch.Elapsed.TotalSeconds

    $watch.Restart()
    foreach ($i in 1..$CallEvents) { Add-UsageApiRequest /x -CustomerId cus_call }
    $unbatched = $CallEvents / $watch.Elapsed.TotalSeconds

    # As a user would run it: the background flush delivers every 1,000 events meanwhile.
    Start-UsageBatch -Size 1000 -FlushInterval 5 | Out-Null
    $watch.Restart()
    foreach ($i in 1..$BatchedCallEvents) { Add-UsageApiRequest /x -CustomerId cus_call }
    $batched = $BatchedCallEvents / $watch.Elapsed.TotalSeconds
    $result = Stop-UsageBatch
    $expected += $CallEvents + $BatchedCallEvents
    $stored = (Get-Usage -CustomerId cus_call -Service api ([datetime]::UtcNow.AddDays(-1)) ([datetime]::UtcNow.AddDays(1)) | Measure-Object Events -Sum).Sum
    if ($result.Pending -ne 0 -or $stored -ne $expected) { throw "Stored $stored events, not $expected." }

    if ($round -eq 1) { $cold = $noop, $unbatched, $batched }
    if ($round -gt $WarmRounds) {
        $rates.Noop.Add($noop); $rates.Unbatched.Add($unbatched); $rates.Batched.Add($batched)
    }
}
Disconnect-UsageStore
$median = { param($values) $sorted = @($values | Sort-Object); $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)] }
$figures = @((& $median $rates.Noop), (& $median $rates.Unbatched), (& $median $rates.Batched)) + $cold
($figures | ForEach-Object { $_.ToString([cultureinfo]::InvariantCulture) }) -join '|'
