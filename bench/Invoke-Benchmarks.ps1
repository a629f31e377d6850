#Requires -Version 7.4
<#
.SYNOPSIS
    NSelf.Usage benchmarks, each beside the limit it is measured against, in one run.
.DESCRIPTION
    Run by 'build.ps1 Bench' in a fresh pwsh. Appends a dated section to bench/results.md.
    Machines here are shared and noisy: compare the ratios within one run, not absolute times
    across runs. Every timing is the median of several repetitions.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $PipelineEvents = 200000,
    [int] $StoredEvents = 1000000,
    [int] $CallEvents = 5000,
    [int] $BatchedCallEvents = 20000,
    [int] $Repeat = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$root = Split-Path $PSScriptRoot
$work = Join-Path ([IO.Path]::GetTempPath()) "nself-usage-bench-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null
$invariant = [cultureinfo]::InvariantCulture

# The helper that seeds stores and measures raw storage limits.
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
$helper = Build-BenchHelper
function Invoke-Helper([string[]] $Arguments) {
    $output = & dotnet $helper @Arguments
    if ($LASTEXITCODE) { throw "Benchmark helper failed: $Arguments" }
    [double]::Parse(($output | Select-Object -Last 1), $invariant)
}

# A compiled no-op cmdlet with Add-UsageRecord's pipeline parameters (NoopCmdlets.cs): what PowerShell's pipeline
# and parameter binding cost before any of our work.
Add-Type -Path (Join-Path $PSScriptRoot 'NoopCmdlets.cs') -PassThru | Select-Object -First 1 | ForEach-Object Assembly | Import-Module
Import-Module $ModulePath

$rows = [System.Collections.Generic.List[object]]::new()
function Add-Row([string] $Name, [string] $Backend, [double] $Value, [string] $Unit, [double] $Limit, [string] $LimitName, [string] $Target, [bool] $Met) {
    $rows.Add([pscustomobject]@{
            Benchmark = $Name; Store = $Backend; Value = $Value; Unit = $Unit; Limit = $Limit; LimitName = $LimitName
            Ratio = ($Limit -gt 0) ? $Value / $Limit : 0; Target = $Target; Met = $Met
        })
    Write-Host ("{0,-46} {1,-10} {2,12:N0} {3,-8} limit {4,10:N0} ({5})  {6}" -f $Name, $Backend, $Value, $Unit, $Limit, $LimitName, ($Met ? 'met' : 'NOT MET'))
}

# ---------------------------------------------------------------- pipeline ingestion (SQLite)
Write-Host "Preparing $PipelineEvents events..." -ForegroundColor Cyan
$t0 = [datetimeoffset]'2026-11-01T00:00:00Z'
$events = foreach ($i in 0..($PipelineEvents - 1)) {
    [pscustomobject]@{ Service = 'api'; Quantity = 1; CustomerId = 'cus_bench'; Timestamp = $t0.AddSeconds($i * 10); EventId = "e$i" }
}

$pipelineRates = foreach ($run in 1..$Repeat) {
    $env:NSELF_USAGE_STORE = Join-Path $work "pipeline-$run.db"
    Disconnect-UsageStore
    Add-UsageRecord api 0 -CustomerId cus_warmup -EventId warmup  # create the file outside the timing
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $events | Add-UsageRecord
    $watch.Stop()
    if ((Get-Usage -CustomerId cus_bench 2026-11-01 2026-11-30).Events -ne $PipelineEvents) { throw 'The pipeline benchmark did not store every event.' }
    $PipelineEvents / $watch.Elapsed.TotalSeconds
}
$bareRates = foreach ($run in 1..$Repeat) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $events | Add-BenchNoopRecord
    $PipelineEvents / $watch.Elapsed.TotalSeconds
}
$rawRates = foreach ($run in 1..$Repeat) {
    $PipelineEvents / (Invoke-Helper @('raw-sqlite', (Join-Path $work "raw-$run.db"), $PipelineEvents))
}
$pipeline = Get-Median $pipelineRates
$bare = Get-Median $bareRates
$raw = Get-Median $rawRates
# Done one after the other, a bare pipeline feeding a bare insert reaches this rate.
$serialLimit = 1 / (1 / $bare + 1 / $raw)
Add-Row 'Pipeline: $events \| Add-UsageRecord' 'SQLite' $pipeline 'events/s' $serialLimit 'bare pipeline + raw insert' '>= 60,000/s' ($pipeline -ge 60000)
Add-Row '  limit part: bare pipeline (no-op cmdlet)' 'SQLite' $bare 'events/s' 0 '' '' $true
Add-Row '  limit part: raw prepared SQLite insert' 'SQLite' $raw 'events/s' 0 '' '' $true
# ---------------------------------------------------------------- pipeline ingestion (PostgreSQL)
Import-Module (Join-Path $root 'tests/pester/TestSupport.psm1')
$postgres = [bool]$env:NSELF_TEST_POSTGRES
if ($postgres) {
    $pgRates = foreach ($run in 1..$Repeat) {
        $database = New-TestPostgresDatabase
        try {
            $env:NSELF_USAGE_STORE = $database
            Disconnect-UsageStore
            Add-UsageRecord api 0 -CustomerId cus_warmup -EventId warmup  # migrate outside the timing
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $events | Add-UsageRecord
            $watch.Stop()
            if ((Get-Usage -CustomerId cus_bench 2026-11-01 2026-11-30).Events -ne $PipelineEvents) { throw 'The PostgreSQL pipeline benchmark did not store every event.' }
            $PipelineEvents / $watch.Elapsed.TotalSeconds
        }
        finally { Disconnect-UsageStore; Remove-TestPostgresDatabase $database }
    }
    $copyRates = foreach ($run in 1..$Repeat) {
        $database = New-TestPostgresDatabase
        try { $PipelineEvents / (Invoke-Helper @('raw-copy', $database, $PipelineEvents)) }
        finally { Remove-TestPostgresDatabase $database }
    }
    $pgPipeline = Get-Median $pgRates
    $copy = Get-Median $copyRates
    Add-Row 'Pipeline: $events \| Add-UsageRecord' 'PostgreSQL' $pgPipeline 'events/s' $copy 'raw binary COPY, same rows, same table' '>= 60,000/s and >= 50% of COPY' ($pgPipeline -ge 60000 -and $pgPipeline -ge 0.5 * $copy)
}
else {
    Write-Warning 'NSELF_TEST_POSTGRES is not set: the PostgreSQL benchmarks are skipped (build.ps1 Bench starts a server when the postgresql package is installed).'
}

# ---------------------------------------------------------------- per call, unbatched and in batch mode
# A script calling Add-UsageApiRequest once per request in a foreach loop, run as a user's script
# runs (bench/Measure-PerCall.ps1 in a fresh pwsh, top-level loops, no strict mode), timed once
# warm (median of interleaved rounds after warm-up ones; the first round is shown as the cold
# figures). The limit of
# a batched call is a bare compiled-cmdlet call made the same way in the same process (the spool
# append is our whole cost); the limit of an unbatched call is that bare call followed by one
# committed single-row insert.
$env:BILLING_CACHE_DIR = Join-Path $work 'cache'
function Measure-PerCall([string] $Store) {
    $output = & ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive `
        -File (Join-Path $PSScriptRoot 'Measure-PerCall.ps1') -ModulePath $ModulePath -Store $Store -CacheDirectory (Join-Path $work 'percall-cache') -CallEvents $CallEvents -BatchedCallEvents $BatchedCallEvents
    if ($LASTEXITCODE) { throw "The per-call benchmark failed: $output" }
    $noop, $unbatched, $batched, $coldNoop, $coldUnbatched, $coldBatched = ($output | Select-Object -Last 1) -split '\|' | ForEach-Object { [double]::Parse($_, $invariant) }
    [pscustomobject]@{ Noop = $noop; Unbatched = $unbatched; Batched = $batched; ColdNoop = $coldNoop; ColdUnbatched = $coldUnbatched; ColdBatched = $coldBatched }
}

# Spools $events in batch mode (no flush meanwhile), then delivers them with Submit-UsageBatch.
function Measure-Flush([string] $Store, [int] $Count) {
    $env:NSELF_USAGE_STORE = $Store
    Disconnect-UsageStore
    Add-UsageRecord api 0 -CustomerId cus_warmup -EventId warmup
    $null = Start-UsageBatch -Size 1000000 -FlushInterval 3600
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $events | Add-UsageRecord
    $watch.Stop()
    $spooled = $Count / $watch.Elapsed.TotalSeconds
    $watch.Restart()
    $result = Submit-UsageBatch
    $watch.Stop()
    $null = Stop-UsageBatch
    if ($result.Submitted -ne $Count -or (Get-Usage -CustomerId cus_bench 2026-11-01 2026-11-30).Events -ne $Count) { throw "The flush delivered $($result.Submitted) events, not $Count." }
    Disconnect-UsageStore
    [pscustomobject]@{ Spooled = $spooled; Flushed = $Count / $watch.Elapsed.TotalSeconds }
}

foreach ($backend in @('SQLite') + @(if ($postgres) { 'PostgreSQL' })) {
    $calls = foreach ($run in 1..$Repeat) {
        if ($backend -eq 'SQLite') { Measure-PerCall (Join-Path $work "calls-$run.db") }
        else {
            $database = New-TestPostgresDatabase
            try { Measure-PerCall $database } finally { Disconnect-UsageStore; Remove-TestPostgresDatabase $database }
        }
    }
    $commitRates = foreach ($run in 1..$Repeat) {
        if ($backend -eq 'SQLite') { $CallEvents / (Invoke-Helper @('raw-sqlite-each', (Join-Path $work "raw-each-$run.db"), $CallEvents)) }
        else {
            $database = New-TestPostgresDatabase
            try { $CallEvents / (Invoke-Helper @('raw-pg-each', $database, $CallEvents)) } finally { Remove-TestPostgresDatabase $database }
        }
    }
    $unbatched = Get-Median $calls.Unbatched
    $batched = Get-Median $calls.Batched
    $noopCall = Get-Median $calls.Noop
    $commit = Get-Median $commitRates
    $callLimit = 1 / (1 / $noopCall + 1 / $commit)
    Add-Row 'Per call: bare compiled cmdlet in foreach (no-op)' $backend $noopCall 'events/s' 0 '' '' $true
    Add-Row 'Per call: Add-UsageApiRequest in foreach, unbatched' $backend $unbatched 'events/s' $callLimit 'bare call + one committed insert' '>= 2,000/s, within 2x' ($unbatched -ge 2000 -and $unbatched -ge 0.5 * $callLimit)
    Add-Row '  limit part: one prepared insert, committed alone' $backend $commit 'events/s' 0 '' '' $true
    Add-Row 'Per call: Add-UsageApiRequest in foreach, batch mode' $backend $batched 'events/s' $noopCall 'bare compiled-cmdlet call' '>= 10,000/s, within 2x' ($batched -ge 10000 -and $batched -ge 0.5 * $noopCall)
    # For the record: the first round of each fresh pwsh, while the JIT is still compiling. No
    # ratio: the bare call runs first in the round, so it is always the coldest of the three.
    Add-Row '  cold (first round): bare call' $backend (Get-Median $calls.ColdNoop) 'events/s' 0 '' '' $true
    Add-Row '  cold (first round): unbatched' $backend (Get-Median $calls.ColdUnbatched) 'events/s' 0 '' '' $true
    Add-Row '  cold (first round): batch mode' $backend (Get-Median $calls.ColdBatched) 'events/s' 0 '' '' $true

    $flushes = foreach ($run in 1..$Repeat) {
        if ($backend -eq 'SQLite') { Measure-Flush (Join-Path $work "flush-$run.db") $PipelineEvents }
        else {
            $database = New-TestPostgresDatabase
            try { Measure-Flush $database $PipelineEvents } finally { Disconnect-UsageStore; Remove-TestPostgresDatabase $database }
        }
    }
    $bulk = $backend -eq 'SQLite' ? $raw : $copy
    $spooled = Get-Median $flushes.Spooled
    $flushed = Get-Median $flushes.Flushed
    Add-Row 'Pipeline in batch mode: $events \| Add-UsageRecord' $backend $spooled 'events/s' $bare 'bare pipeline (no-op cmdlet)' '>= 60,000/s, within 2x' ($spooled -ge 60000 -and $spooled -ge 0.5 * $bare)
    Add-Row 'Flush: Submit-UsageBatch of the spooled events' $backend $flushed 'events/s' $bulk ($backend -eq 'SQLite' ? 'raw prepared insert, one transaction' : 'raw binary COPY') 'within 2x' ($flushed -ge 0.5 * $bulk)
}
Remove-Item Env:BILLING_CACHE_DIR
$events = $null
[GC]::Collect()

# ---------------------------------------------------------------- Get-Usage over 1,000,000 events
Write-Host "Seeding $StoredEvents events into October 2026..." -ForegroundColor Cyan
$seeded = Join-Path $work 'month.db'
$seedSeconds = Invoke-Helper @('seed', $seeded, $StoredEvents, 1, '2026-10')
Write-Host ("  seeded in {0:N1} s ({1:N0} events/s through the engine)" -f $seedSeconds, ($StoredEvents / $seedSeconds))
$env:NSELF_USAGE_STORE = $seeded
Disconnect-UsageStore
$null = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31  # open the store outside the timing
$getUsage = Get-Median (1..21 | ForEach-Object {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $usage = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31
        $watch.Stop()
        if (($usage | Measure-Object Events -Sum).Sum -ne $StoredEvents) { throw 'Get-Usage did not see every event.' }
        $watch.Elapsed.TotalMilliseconds
    })
Add-Row 'Get-Usage for a month over 1,000,000 events' 'SQLite' $getUsage 'ms' 0 '' '< 100 ms' ($getUsage -lt 100)
$detailed = Get-Median (1..11 | ForEach-Object {
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $null = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31 -Detailed -TimeZone America/New_York
        $watch.Elapsed.TotalMilliseconds
    })
Add-Row 'Get-Usage -Detailed (31 days, New York)' 'SQLite' $detailed 'ms' 0 '' '' $true

# ---------------------------------------------------------------- Export-Usage of 1,000,000 events
# In a fresh pwsh, so its peak resident memory (VmHWM, the module and PowerShell included) is the
# export's; then the CSV is imported into an empty store and must give identical totals.
function Measure-Export([string] $Store, [string] $Backend, [string] $ImportStore) {
    $csv = Join-Path $work "export-$Backend.csv"
    $script = Join-Path $work "export-$Backend.ps1"
    Set-Content -LiteralPath $script -Value @"
`$env:NSELF_USAGE_STORE = '$Store'
Import-Module '$ModulePath'
`$null = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-01   # open the store outside the timing
`$watch = [Diagnostics.Stopwatch]::StartNew()
`$file = Export-Usage Csv '$csv' 2026-10-01 2026-10-31 -CustomerId cus_0000 -Force -ProgressAction SilentlyContinue
`$watch.Stop()
`$peak = [double]((Get-Content /proc/self/status | Where-Object { `$_ -like 'VmHWM:*' }) -replace '\D', '') / 1KB
'{0}|{1}|{2}' -f `$watch.Elapsed.TotalSeconds.ToString([cultureinfo]::InvariantCulture), `$peak.ToString([cultureinfo]::InvariantCulture), `$file.Length
"@
    $output = & ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive -File $script
    if ($LASTEXITCODE) { throw "Export-Usage failed: $output" }
    $seconds, $megabytes, $bytes = ($output | Select-Object -Last 1) -split '\|'
    Add-Row 'Export-Usage CSV of 1,000,000 events: time' $Backend ([double]::Parse($seconds, $invariant)) 's' 0 '' '< 10 s' ([double]::Parse($seconds, $invariant) -lt 10)
    Add-Row '  peak memory of the exporting pwsh' $Backend ([double]::Parse($megabytes, $invariant)) 'MB' 0 '' '< 300 MB' ([double]::Parse($megabytes, $invariant) -lt 300)
    Write-Host ("  {0:N0} MB written" -f ([double]$bytes / 1MB))

    $env:NSELF_USAGE_STORE = $ImportStore
    Disconnect-UsageStore
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $imported = Import-UsageRecord $csv -ProgressAction SilentlyContinue
    $watch.Stop()
    $after = (Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31 | ForEach-Object { "$($_.Service)=$($_.Quantity)/$($_.Events)" }) -join ','
    $env:NSELF_USAGE_STORE = $Store
    Disconnect-UsageStore
    $before = (Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31 | ForEach-Object { "$($_.Service)=$($_.Quantity)/$($_.Events)" }) -join ','
    if ($after -ne $before -or $imported.Inserted -ne $StoredEvents) { throw "The re-imported CSV gives $after ($($imported.Inserted) rows), not $before." }
    Add-Row 'Import-UsageRecord of that CSV (identical totals)' $Backend ($StoredEvents / $watch.Elapsed.TotalSeconds) 'ev/s' 0 '' '' $true
    Remove-Item -LiteralPath $csv -ErrorAction SilentlyContinue
}
Measure-Export $seeded 'SQLite' (Join-Path $work 'imported.db')

if ($postgres) {
    $database = New-TestPostgresDatabase
    try {
        Write-Host "Seeding $StoredEvents events into PostgreSQL..." -ForegroundColor Cyan
        $seedSeconds = Invoke-Helper @('seed', $database, $StoredEvents, 1, '2026-10')
        Write-Host ("  seeded in {0:N1} s ({1:N0} events/s through the engine)" -f $seedSeconds, ($StoredEvents / $seedSeconds))
        $env:NSELF_USAGE_STORE = $database
        Disconnect-UsageStore
        $null = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31
        $pgGetUsage = Get-Median (1..21 | ForEach-Object {
                $watch = [Diagnostics.Stopwatch]::StartNew()
                $usage = Get-Usage -CustomerId cus_0000 2026-10-01 2026-10-31
                $watch.Stop()
                if (($usage | Measure-Object Events -Sum).Sum -ne $StoredEvents) { throw 'Get-Usage on PostgreSQL did not see every event.' }
                $watch.Elapsed.TotalMilliseconds
            })
        Add-Row 'Get-Usage for a month over 1,000,000 events' 'PostgreSQL' $pgGetUsage 'ms' 0 '' '< 100 ms' ($pgGetUsage -lt 100)
        $importDatabase = New-TestPostgresDatabase
        try { Measure-Export $database 'PostgreSQL' $importDatabase }
        finally { Disconnect-UsageStore; Remove-TestPostgresDatabase $importDatabase }
    }
    finally { Disconnect-UsageStore; Remove-TestPostgresDatabase $database }
}

# ---------------------------------------------------------------- Test-UsageQuota -AllCustomers
# 1,000 customers on the starter plan with 1,000,000 events this month: every quota checked,
# alerts recorded, in one command.
function Measure-QuotaCheck([string] $Store, [string] $Backend) {
    Write-Host "Seeding 1,000 subscribed customers with $StoredEvents events this month ($Backend)..." -ForegroundColor Cyan
    $thisMonth = [datetime]::UtcNow.ToString('yyyy-MM')
    $null = Invoke-Helper @('subscribe', $Store, 1000, 'starter')
    $null = Invoke-Helper @('seed', $Store, $StoredEvents, 1000, $thisMonth)
    $env:NSELF_USAGE_STORE = $Store
    Disconnect-UsageStore
    $first = [Diagnostics.Stopwatch]::StartNew()
    $statuses = Test-UsageQuota -AllCustomers -WarningAction SilentlyContinue
    $first.Stop()
    if (@($statuses).Count -ne 6000) { throw "Test-UsageQuota -AllCustomers checked $(@($statuses).Count) quotas, not 6,000." }
    $median = Get-Median (1..5 | ForEach-Object {
            $watch = [Diagnostics.Stopwatch]::StartNew()
            $null = Test-UsageQuota -AllCustomers -WarningAction SilentlyContinue
            $watch.Elapsed.TotalMilliseconds
        })
    Add-Row 'Test-UsageQuota -AllCustomers (1,000 customers, 1,000,000 events)' $Backend $median 'ms' 0 '' '< 2,000 ms' ($median -lt 2000)
    Add-Row '  first run, recording the alerts it raises' $Backend $first.Elapsed.TotalMilliseconds 'ms' 0 '' '< 2,000 ms' ($first.Elapsed.TotalMilliseconds -lt 2000)
    Disconnect-UsageStore
}
Measure-QuotaCheck (Join-Path $work 'quota.db') 'SQLite'
if ($postgres) {
    $database = New-TestPostgresDatabase
    try { Measure-QuotaCheck $database 'PostgreSQL' }
    finally { Remove-TestPostgresDatabase $database }
}

# ---------------------------------------------------------------- start-up
# A scheduled script that imports the module and tracks one event, against a bare pwsh start, as a
# pair alternating in the same run (bench/Measure-Startup.ps1, which can also be run alone).
# Issue 17's targets: at most 1.2x the bare start on SQLite, 1.4x on PostgreSQL.
# PowerShell's own floor, the import of a manifest that loads nothing, is measured in the same rotation.
foreach ($startup in & (Join-Path $PSScriptRoot 'Measure-Startup.ps1') -ModulePath $ModulePath) {
    Add-Row 'Start-up: Import-Module; Add-UsageApiRequest /x' $startup.Store $startup.ImportAndTrackMs 'ms' $startup.BareMs 'bare pwsh -NoProfile -c exit' $startup.Target $startup.Met
    Add-Row '  floor: Import-Module of an empty manifest' $startup.Store $startup.EmptyModuleMs 'ms' $startup.BareMs 'bare pwsh -NoProfile -c exit' '' $true
}

# ---------------------------------------------------------------- report
Disconnect-UsageStore
Remove-Module NSelf.Usage
Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue

$cpu = if (Test-Path /proc/cpuinfo) { ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '.*:\s*', '') } else { $env:PROCESSOR_IDENTIFIER }
$memory = if (Test-Path /proc/meminfo) { '{0:N0} GiB' -f ([double]((Get-Content /proc/meminfo -TotalCount 1) -replace '\D', '') / 1MB) } else { '' }
$lines = @(
    ''
    "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: $([Environment]::ProcessorCount) cores, $cpu, $memory"
    ''
    "$([System.Runtime.InteropServices.RuntimeInformation]::OSDescription); PowerShell $($PSVersionTable.PSVersion); $([System.Runtime.InteropServices.RuntimeInformation]::FrameworkDescription); median of $Repeat runs (21 for Get-Usage; per call, of each run's median of 5 warm rounds)."
    ''
    '| Benchmark | Store | Result | Limit (same run) | Ratio | Target | |'
    '|---|---|---:|---:|---:|---|---|'
)
foreach ($row in $rows) {
    $limit = $row.Limit -gt 0 ? ('{0:N0} {1} ({2})' -f $row.Limit, $row.Unit, $row.LimitName) : ''
    $ratio = $row.Limit -gt 0 ? ('{0:P0}' -f $row.Ratio) : ''
    $mark = $row.Target ? ($row.Met ? 'met' : '**not met**') : ''
    $lines += '| {0} | {1} | {2:N1} {3} | {4} | {5} | {6} | {7} |' -f $row.Benchmark, $row.Store, $row.Value, $row.Unit, $limit, $ratio, $row.Target, $mark
}
if (-not (Test-Path $ResultsPath)) {
    Set-Content -LiteralPath $ResultsPath -Value @('# Benchmark results', '', 'Appended by `dotnet pwsh ./build.ps1 Bench`. The machines are shared and noisy: read the ratio to the limit measured in the same run, not absolute numbers across runs.')
}
Add-Content -LiteralPath $ResultsPath -Value $lines
Write-Host "Results appended to $ResultsPath" -ForegroundColor Green

# ---------------------------------------------------------------- Test-BillingInvoice -AllCustomers (PostgreSQL)
# Its own script in a fresh pwsh (it seeds, finalizes 1,000 invoices and measures beside a plain SQL
# join in the same run), so the row can also be re-measured alone; it appends its own section.
if ($postgres) {
    & ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive `
        -File (Join-Path $PSScriptRoot 'Measure-Reconciliation.ps1') -ModulePath $ModulePath -ResultsPath $ResultsPath -Events $StoredEvents
    if ($LASTEXITCODE) { throw 'The Test-BillingInvoice benchmark failed.' }
}

# ---------------------------------------------------------------- inserts with and without the foreign-write triggers
# Its own script in a fresh pwsh: fresh stores with and without the triggers that keep the rollups right
# under nself's and operators' UPDATE and DELETE, timed alternately in the same run; appends its own section.
& ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive `
    -File (Join-Path $PSScriptRoot 'Measure-ForeignWriteTriggers.ps1') -ModulePath $ModulePath -ResultsPath $ResultsPath
if ($LASTEXITCODE) { throw 'The foreign-write trigger benchmark failed.' }

# ---------------------------------------------------------------- the forecast backtest
# Its own script in a fresh pwsh (no store: series with a known truth); appends its own section.
& ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive `
    -File (Join-Path $PSScriptRoot 'Measure-ForecastBacktest.ps1') -ResultsPath $ResultsPath
if ($LASTEXITCODE) { throw 'The forecast backtest failed.' }

# ---------------------------------------------------------------- a tracking call under tenant isolation (PostgreSQL)
# Its own script in a fresh pwsh: a mapped tenant role with -CustomerScope against the owner unscoped,
# isolation enabled, alternating in the same run (issue 22: within 10 %); appends its own section.
if ($postgres) {
    & ([Environment]::ProcessPath) @(if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' }) -NoProfile -NonInteractive `
        -File (Join-Path $PSScriptRoot 'Measure-TenantIsolation.ps1') -ModulePath $ModulePath -ResultsPath $ResultsPath
    if ($LASTEXITCODE) { throw 'The tenant isolation benchmark failed.' }
}
