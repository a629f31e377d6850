#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what a year of events does to the PostgreSQL store: the evidence behind the
    partitioning decision in docs/scaling.md.
.DESCRIPTION
    Seeds a year of events (default 12,000,000: one million a month over 1,000 customers) into a
    fresh database, then measures, against the same database empty and full:
    pipeline-sized ingestion (200,000 events), Get-Usage for one customer's month, Get-Usage for
    every customer's month, and the sizes of the raw table and the rollups.
    Needs the test PostgreSQL server ($env:NSELF_TEST_POSTGRES, as build.ps1 Bench provides) and
    takes several minutes; it is not part of build.ps1 Bench.
.EXAMPLE
    $env:NSELF_TEST_POSTGRES = & ./eng/TestPostgres.ps1 -Start -WorkDirectory ./out/pg
    dotnet pwsh ./bench/Measure-YearOfEvents.ps1 -ModulePath ./NSelf.Usage.psd1 -ResultsPath ./bench/results.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $EventsPerMonth = 1000000,
    [int] $Customers = 1000
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
$helper = Initialize-PostgresBench -ModulePath $ModulePath
$invariant = [cultureinfo]::InvariantCulture

function Measure-Median([scriptblock] $Work, [int] $Repeat = 11) {
    Get-Median $(foreach ($i in 1..$Repeat) { $w = [Diagnostics.Stopwatch]::StartNew(); & $Work | Out-Null; $w.Elapsed.TotalMilliseconds })
}

function Measure-Store([string] $Database, [string] $Label) {
    $env:NSELF_USAGE_STORE = $Database
    Disconnect-UsageStore
    $t0 = [datetimeoffset]'2026-11-01T00:00:00Z'
    $events = foreach ($i in 0..199999) { [pscustomobject]@{ Service = 'api'; Quantity = 1; CustomerId = "cus_$('{0:D4}' -f ($i % $Customers))"; Timestamp = $t0.AddSeconds($i); EventId = "late-$i" } }
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $events | Add-UsageRecord
    $ingest = 200000 / $watch.Elapsed.TotalSeconds
    $one = Measure-Median { Get-Usage -CustomerId cus_0001 2026-10-01 2026-10-31 }
    $all = Measure-Median { Get-Usage -AllCustomers 2026-10-01 2026-10-31 } 5
    $sizes = Invoke-Psql $Database "SELECT pg_size_pretty(pg_total_relation_size('billing_usage_records')) || ' / ' || pg_size_pretty(pg_total_relation_size('usage_rollups')) || ' / ' || (SELECT count(*) FROM usage_rollups)"
    [pscustomobject]@{ Store = $Label; IngestPerSecond = $ingest; OneCustomerMonthMs = $one; AllCustomersMonthMs = $all; Sizes = "$sizes" }
}

$empty = New-TestPostgresDatabase
$full = New-TestPostgresDatabase
try {
    $results = @(Measure-Store $empty 'empty')
    $seeded = 0
    foreach ($month in 1..12) {
        $name = '{0:yyyy-MM}' -f ([datetime]'2025-11-01').AddMonths($month - 1)
        $seconds = [double]::Parse((& dotnet $helper seed $full $EventsPerMonth $Customers $name | Select-Object -Last 1), $invariant)
        $seeded += $EventsPerMonth
        Write-Host ("{0}: {1:N0} events in {2:N0} s ({3:N0}/s), {4:N0} stored" -f $name, $EventsPerMonth, $seconds, ($EventsPerMonth / $seconds), $seeded)
    }
    $results += Measure-Store $full ("{0:N0} events (a year)" -f $seeded)
}
finally {
    Disconnect-UsageStore
    Remove-TestPostgresDatabase $empty
    Remove-TestPostgresDatabase $full
}

$results | Format-Table | Out-Host
$lines = @(
    ''
    "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: a year of events in PostgreSQL ($([Environment]::ProcessorCount) cores)"
    ''
    '| Store | Ingest 200,000 (pipeline) | Get-Usage, one customer, a month | Get-Usage -AllCustomers, a month | Raw table / rollups / rollup rows |'
    '|---|---:|---:|---:|---|'
)
foreach ($r in $results) {
    $lines += '| {0} | {1:N0} events/s | {2:N1} ms | {3:N0} ms | {4} |' -f $r.Store, $r.IngestPerSecond, $r.OneCustomerMonthMs, $r.AllCustomersMonthMs, $r.Sizes
}
Add-Content -LiteralPath $ResultsPath -Value $lines
