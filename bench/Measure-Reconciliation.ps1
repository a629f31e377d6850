#Requires -Version 7.4
<#
.SYNOPSIS
    Measures Test-BillingInvoice -AllCustomers on PostgreSQL: 1,000 customers, 1,000,000 billed
    events, beside a plain SQL join of the events to the billing ledger in the same run.
.DESCRIPTION
    Seeds last month with the events (the benchmark helper), subscribes the customers from its
    start, invoices and finalizes every customer's last closed period (timed, for information),
    then times the reconciliation (median of 3) and, as its limit, one SELECT count(*) joining
    billing_usage_records to billing_line_events (median of 3, through psql). Appends a dated
    section to the results file. Run by build.ps1 Bench (Invoke-Benchmarks.ps1) or alone:
.EXAMPLE
    $env:NSELF_TEST_POSTGRES = & ./eng/TestPostgres.ps1 -Start -WorkDirectory ./out/pg
    dotnet pwsh ./bench/Measure-Reconciliation.ps1 -ModulePath ./NSelf.Usage.psd1 -ResultsPath ./bench/results.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $Events = 1000000,
    [int] $Customers = 1000,
    [int] $Repeat = 3
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
$helper = Initialize-PostgresBench -ModulePath $ModulePath
$invariant = [cultureinfo]::InvariantCulture

$database = New-TestPostgresDatabase
try {
    $now = [datetimeoffset]::UtcNow
    $lastMonth = [datetimeoffset]::new($now.Year, $now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-1)
    $env:NSELF_USAGE_STORE = $database
    Disconnect-UsageStore
    Write-Host "Subscribing $Customers customers from $($lastMonth.ToString('yyyy-MM-dd', $invariant))..." -ForegroundColor Cyan
    foreach ($i in 0..($Customers - 1)) {
        New-BillingSubscription -CustomerId ('cus_{0}' -f $i.ToString('D4', $invariant)) -Plan starter -Start $lastMonth | Out-Null
    }
    Write-Host "Seeding $Events events in $($lastMonth.ToString('yyyy-MM', $invariant))..." -ForegroundColor Cyan
    $seed = & dotnet $helper seed $database $Events $Customers $lastMonth.ToString('yyyy-MM', $invariant)
    if ($LASTEXITCODE) { throw 'Seeding failed.' }
    Write-Host "  seeded in $($seed | Select-Object -Last 1) s"

    Write-Host 'Invoicing and finalizing every customer''s last closed period...' -ForegroundColor Cyan
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $finalized = @(Get-BillingSubscription -AllCustomers | New-BillingInvoice | Complete-BillingInvoice -Confirm:$false)
    $finalizeSeconds = $watch.Elapsed.TotalSeconds
    if ($finalized.Count -ne $Customers) { throw "Finalized $($finalized.Count) invoices, not $Customers." }
    $ledger = [long](Invoke-Psql $database 'SELECT count(*) FROM billing_line_events')
    if ($ledger -ne $Events) { throw "The ledger holds $ledger events, not $Events." }

    $join = 'SELECT count(*) FROM billing_usage_records r JOIN billing_line_events l ON l.customer_id = r.customer_id AND l.event_id = r.event_id'
    $limits = foreach ($run in 1..$Repeat) {
        $w = [Diagnostics.Stopwatch]::StartNew()
        $count = [long](Invoke-Psql $database $join)
        $w.Elapsed.TotalSeconds
        if ($count -ne $Events) { throw "The join counted $count, not $Events." }
    }
    $checks = foreach ($run in 1..$Repeat) {
        Disconnect-UsageStore
        $w = [Diagnostics.Stopwatch]::StartNew()
        $found = @(Test-BillingInvoice -AllCustomers)
        $w.Elapsed.TotalSeconds
        if ($found.Count) { throw "Test-BillingInvoice found $($found.Count) discrepancies on a clean store." }
    }
    $check = Get-Median $checks
    $limit = Get-Median $limits
    $met = $check -lt 300
}
finally {
    Disconnect-UsageStore
    Remove-TestPostgresDatabase $database
}

$cpu = if (Test-Path /proc/cpuinfo) { ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '.*:\s*', '') } else { $env:PROCESSOR_IDENTIFIER }
$f = { param($v) $v.ToString('N1', $invariant) }
$lines = @(
    ''
    "## $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC: Test-BillingInvoice, $([Environment]::ProcessorCount) cores, $cpu"
    ''
    "$([System.Runtime.InteropServices.RuntimeInformation]::OSDescription); PowerShell $($PSVersionTable.PSVersion); median of $Repeat runs; PostgreSQL."
    ''
    '| Benchmark | Store | Value | Limit | Ratio | Target | Result |'
    '|---|---|---|---|---|---|---|'
    "| Test-BillingInvoice -AllCustomers ($($Customers.ToString('N0', $invariant)) customers, $($Events.ToString('N0', $invariant)) billed events) | PostgreSQL | $(& $f $check) s | $(& $f $limit) s (plain SQL count(*) of events joined to billing_line_events) | $((& $f ($check / $limit))) x | < 300 s (monthly) | $($met ? 'met' : 'NOT MET') |"
    "|   for information: New-BillingInvoice \| Complete-BillingInvoice of those $($Customers.ToString('N0', $invariant)) invoices | PostgreSQL | $(& $f $finalizeSeconds) s |  |  |  |  |"
)
Add-Content -LiteralPath $ResultsPath -Value $lines -Encoding utf8NoBOM
$lines | Write-Host
