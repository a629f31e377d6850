#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what the triggers that keep the rollups right under foreign writes cost inserts:
    ingestion with them against ingestion with them dropped, in the same run, on both stores.
.DESCRIPTION
    The triggers of PostgreSQL migration 12 and SQLite migration 9 (rollups follow UPDATE and
    DELETE; an explicit NULL recorded_at is the insert time) must not tax inserts (issue 15: within
    10 % of ingestion without them). Each repetition creates two fresh stores, drops those triggers
    from one (the schema as it was before them), and times the same inserts into both, alternating
    which goes first:
    - the module's pipeline, $events | Add-UsageRecord;
    - a foreign bulk insert of the shape nself's tools use, one INSERT ... SELECT of many rows
      (psql on PostgreSQL; the sqlite3 shell on SQLite, in the module's own columns).
    Appends a dated section to the results file. Run by build.ps1 Bench (Invoke-Benchmarks.ps1) or
    alone:
.EXAMPLE
    $env:NSELF_TEST_POSTGRES = & ./eng/TestPostgres.ps1 -Start -WorkDirectory ./out/pg
    dotnet pwsh ./bench/Measure-ForeignWriteTriggers.ps1 -ModulePath ./NSelf.Usage.psd1 -ResultsPath ./bench/results.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $PipelineEvents = 100000,
    [int] $SqlRows = 200000,
    [int] $Repeat = 7
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module (Join-Path (Split-Path $PSScriptRoot) 'tests/pester/TestSupport.psm1')
Import-Module $ModulePath
$postgres = [bool]$env:NSELF_TEST_POSTGRES
$work = Join-Path ([IO.Path]::GetTempPath()) "nself-usage-bench-triggers-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null
if (-not (Get-Command sqlite3 -ErrorAction Ignore)) { throw 'The sqlite3 shell is needed (apt-get install sqlite3).' }

# The triggers under measurement, by store; dropping them, and on PostgreSQL putting back migration 9's
# insert trigger function (migration 12 gave it the NULL-time rule), leaves the schema as it was before.
# SQLite has no trigger on inserts: one cost too much there (docs/decisions.md).
$triggers = @{
    SQLite     = @('usage_rollups_after_update', 'usage_rollups_after_delete')
    PostgreSQL = @('usage_rollups_after_update', 'usage_rollups_after_delete')
}
$insertTriggerBefore = Get-Content -Raw -LiteralPath (Join-Path (Split-Path $PSScriptRoot) 'database/postgres/009_single_statement_rollup_trigger.sql')

function Invoke-Sqlite([string] $Path, [string] $Sql) {
    $output = $Sql | & sqlite3 -bail $Path 2>&1
    if ($LASTEXITCODE) { throw "sqlite3 failed: $output" }
    $output
}

# A store, migrated, with or without the triggers. Returns its address.
function New-Store([string] $Backend, [bool] $WithTriggers, [string] $Name) {
    $address = $Backend -eq 'SQLite' ? (Join-Path $work "$Name.db") : (New-TestPostgresDatabase)
    $env:NSELF_USAGE_STORE = $address
    Disconnect-UsageStore
    Add-UsageRecord api 0 -CustomerId cus_warmup -EventId warmup  # create and migrate outside the timing
    Disconnect-UsageStore
    if (-not $WithTriggers) {
        if ($Backend -eq 'SQLite') { Invoke-Sqlite $address (($triggers.SQLite | ForEach-Object { "DROP TRIGGER $_;" }) -join "`n") | Out-Null }
        else {
            Invoke-Psql $address (($triggers.PostgreSQL | ForEach-Object { "DROP TRIGGER $_ ON billing_usage_records;" }) -join ' ') | Out-Null
            Invoke-Psql $address $insertTriggerBefore | Out-Null
        }
    }
    $address
}

function Remove-Store([string] $Backend, [string] $Address) {
    Disconnect-UsageStore
    if ($Backend -eq 'SQLite') { Remove-Item -LiteralPath $Address -Force -ErrorAction Ignore }
    else { Remove-TestPostgresDatabase $Address }
}

$t0 = [datetimeoffset]'2026-11-01T00:00:00Z'
$events = foreach ($i in 0..($PipelineEvents - 1)) {
    [pscustomobject]@{ Service = 'api'; Quantity = 1; CustomerId = 'cus_bench'; Timestamp = $t0.AddSeconds($i * 10); EventId = "e$i" }
}

function Measure-Pipeline([string] $Backend, [string] $Address) {
    $env:NSELF_USAGE_STORE = $Address
    Disconnect-UsageStore
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $events | Add-UsageRecord
    $watch.Stop()
    if ((Get-Usage -CustomerId cus_bench 2026-11-01 2026-11-30).Events -ne $PipelineEvents) { throw "The $Backend pipeline did not store every event." }
    $PipelineEvents / $watch.Elapsed.TotalSeconds
}

# The database's side alone (PostgreSQL): one binary COPY of the pipeline's rows by the bench helper,
# without PowerShell's pipeline and the engine, whose own variance is larger than the triggers' cost.
$helper = if ($postgres) { Build-BenchHelper }
function Measure-RawCopy([string] $Address) {
    $seconds = & dotnet $helper raw-copy $Address $PipelineEvents | Select-Object -Last 1
    if ($LASTEXITCODE) { throw 'The benchmark helper failed.' }
    $PipelineEvents / [double]::Parse($seconds, [cultureinfo]::InvariantCulture)
}

# One INSERT ... SELECT of $SqlRows rows, timed by the database shell itself (not its start).
function Measure-ForeignInsert([string] $Backend, [string] $Address) {
    if ($Backend -eq 'SQLite') {
        $sql = @"
.timer on
INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $SqlRows)
SELECT 'sql-' || i, 'cus_warmup', 'api', 1000000, 'requests', '{}', 1790812800000000 + i * 1000000, 1790812800000000 FROM n;
"@
        $output = Invoke-Sqlite $Address $sql
        $seconds = [double]::Parse(([regex]::Match(($output -join "`n"), 'Run Time: real ([0-9.]+)')).Groups[1].Value, [cultureinfo]::InvariantCulture)
    }
    else {
        $sql = "\timing on`nINSERT INTO billing_usage_records (customer_id, service_name, quantity, metadata, recorded_at) " +
            "SELECT 'cus_warmup', 'api', 1, jsonb_build_object('n', i), TIMESTAMPTZ '2026-10-01T00:00:00Z' + i * interval '1 second' FROM generate_series(1, $SqlRows) AS i;"
        $saved = $env:LC_ALL
        $env:LC_ALL = 'C.UTF-8'
        try { $output = $sql | & psql (ConvertTo-PostgresUri $Address) -X -q -v ON_ERROR_STOP=1 2>&1 }
        finally { $env:LC_ALL = $saved }
        if ($LASTEXITCODE) { throw "psql failed: $output" }
        $seconds = [double]::Parse(([regex]::Match(($output -join "`n"), 'Time: ([0-9.]+) ms')).Groups[1].Value, [cultureinfo]::InvariantCulture) / 1000
    }
    $SqlRows / $seconds
}

$rows = [System.Collections.Generic.List[object]]::new()
$backends = @('SQLite') + @(if ($postgres) { 'PostgreSQL' })
if (-not $postgres) { Write-Warning 'NSELF_TEST_POSTGRES is not set: PostgreSQL is not measured.' }
foreach ($backend in $backends) {
    foreach ($path in @('pipeline') + @(if ($backend -eq 'PostgreSQL') { 'copy' }) + @('foreign')) {
        $with = [System.Collections.Generic.List[double]]::new()
        $without = [System.Collections.Generic.List[double]]::new()
        foreach ($run in 1..$Repeat) {
            # Alternate which store goes first, so a machine that slows down mid-run favours neither.
            $order = ($run % 2) ? @($true, $false) : @($false, $true)
            foreach ($withTriggers in $order) {
                $address = New-Store $backend $withTriggers "$path-$run-$withTriggers"
                try {
                    $rate = switch ($path) {
                        'pipeline' { Measure-Pipeline $backend $address }
                        'copy' { Measure-RawCopy $address }
                        default { Measure-ForeignInsert $backend $address }
                    }
                    ($withTriggers ? $with : $without).Add($rate)
                }
                finally { Remove-Store $backend $address }
            }
        }
        $rows.Add([pscustomobject]@{
                Path = switch ($path) {
                    'pipeline' { '$events \| Add-UsageRecord' }
                    'copy' { "binary COPY of the same $PipelineEvents rows (the database's side alone)" }
                    default { $backend -eq 'SQLite' ? 'sqlite3 shell: one INSERT ... SELECT' : "psql: nself's INSERT ... SELECT" }
                }
                Store = $backend; With = (Get-Median $with); Without = (Get-Median $without)
            })
        $last = $rows[-1]
        Write-Host ('{0,-40} {1,-10} {2,10:N0}/s with, {3,10:N0}/s without: {4:P0}' -f $last.Path, $backend, $last.With, $last.Without, ($last.With / $last.Without))
    }
}
Remove-Module NSelf.Usage
Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction Ignore

$lines = @(
    ''
    "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: inserts with the foreign-write triggers against without them, $([Environment]::ProcessorCount) cores"
    ''
    "Without: PostgreSQL migration 12's $($triggers.PostgreSQL -join ', ') dropped and migration 9's insert trigger function put back (12 adds the NULL-time rule to it); SQLite migration 9's $($triggers.SQLite -join ', ') dropped; each from a fresh store. Median of $Repeat alternating runs; $PipelineEvents pipeline events, $SqlRows rows per SQL insert."
    ''
    '| Insert path | Store | With the triggers | Without (limit, same run) | Ratio | Target | |'
    '|---|---|---:|---:|---:|---|---|'
)
foreach ($row in $rows) {
    $ratio = $row.With / $row.Without
    $lines += '| {0} | {1} | {2:N0} rows/s | {3:N0} rows/s | {4:P0} | >= 90% | {5} |' -f $row.Path, $row.Store, $row.With, $row.Without, $ratio, ($ratio -ge 0.9 ? 'met' : '**not met**')
}
Add-Content -LiteralPath $ResultsPath -Value $lines
Write-Host "Results appended to $ResultsPath" -ForegroundColor Green
