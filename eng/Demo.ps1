#Requires -Version 7.4
<#
.SYNOPSIS
    The README demo: a realistic day of usage for a demo customer on a throwaway embedded
    store, then Get-Usage, Get-Usage -Detailed and Get-UsageAggregate Daily as tables.
#>
[CmdletBinding()]
param([Parameter(Mandatory)] [string] $ModulePath)

$ErrorActionPreference = 'Stop'
$demoStore = Join-Path ([IO.Path]::GetTempPath()) "nself-usage-demo-$PID.db"
$env:NSELF_USAGE_STORE = $demoStore
$env:NSELF_CUSTOMER_ID = 'cus_demo'
Import-Module $ModulePath

try {
    Write-Host "`nNSelf.Usage demo: one day of usage for cus_demo (store: $demoStore)`n" -ForegroundColor Cyan
    $day = [datetimeoffset]::UtcNow.Date.AddDays(-1)
    $day = [datetimeoffset]::new($day, [timespan]::Zero)
    $random = [System.Random]::new(20261127)

    # Traffic follows the working day: quiet at night, busiest in the afternoon (UTC).
    $load = 2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 14, 14, 15, 15, 14, 12, 10, 8, 6, 5, 4, 3, 2
    $endpoints = @(
        @{ Path = '/api/users'; Method = 'GET'; Weight = 50 }
        @{ Path = '/api/posts'; Method = 'GET'; Weight = 25 }
        @{ Path = '/api/posts'; Method = 'POST'; Weight = 10 }
        @{ Path = '/api/auth/token'; Method = 'POST'; Weight = 10 }
        @{ Path = '/api/upload'; Method = 'PUT'; Weight = 5 }
    )
    $weighted = foreach ($e in $endpoints) { foreach ($i in 1..$e.Weight) { $e } }
    $requests = foreach ($hour in 0..23) {
        foreach ($n in 1..($load[$hour] * 20)) {
            $e = $weighted[$random.Next($weighted.Count)]
            $status = if ($random.Next(100) -lt 3) { 500 } elseif ($random.Next(100) -lt 5) { 404 } else { ($e.Method -eq 'POST') ? 201 : 200 }
            [pscustomobject]@{ Endpoint = $e.Path; Method = $e.Method; StatusCode = $status; Timestamp = $day.AddHours($hour).AddSeconds($random.Next(3600)) }
        }
    }
    $requests | Add-UsageApiRequest
    foreach ($hour in 0..23) {
        $at = $day.AddHours($hour)
        Add-UsageStorage -Bytes (52GB + $hour * 200MB) -Hours 1 -Timestamp $at.AddMinutes(59)
        Add-UsageBandwidth -Bytes ($load[$hour] * 180MB) -Direction Egress -Timestamp $at.AddMinutes(30)
        Add-UsageBandwidth -Bytes ($load[$hour] * 40MB) -Direction Ingress -Timestamp $at.AddMinutes(31)
    }
    foreach ($job in 1..12) {
        Add-UsageCompute -Seconds (600 + $random.Next(3000)) -Metadata @{ instance = 't3.medium'; job = "report-$job" } -Timestamp $day.AddHours($job * 2 - 1)
    }
    $queries = foreach ($hour in 0..23) {
        foreach ($n in 1..($load[$hour] * 30)) {
            [pscustomobject]@{ QueryType = ('SELECT', 'SELECT', 'SELECT', 'INSERT', 'UPDATE')[$random.Next(5)]; DurationMs = 2 + $random.Next(80); Timestamp = $day.AddHours($hour).AddSeconds($random.Next(3600)) }
        }
    }
    $queries | Add-UsageDatabaseQuery
    $functions = foreach ($hour in 0..23) {
        foreach ($n in 1..($load[$hour] * 2)) {
            [pscustomobject]@{ Name = ('sendEmail', 'resizeImage', 'webhook')[$random.Next(3)]; DurationMs = 50 + $random.Next(400); MemoryMB = (128, 256, 512)[$random.Next(3)]; Timestamp = $day.AddHours($hour).AddSeconds($random.Next(3600)) }
        }
    }
    $functions | Add-UsageFunction

    $yesterday = $day.ToString('yyyy-MM-dd')
    Write-Host "Get-Usage $yesterday $yesterday" -ForegroundColor Yellow
    Get-Usage $yesterday $yesterday | Format-Table | Out-Host
    Write-Host "Get-Usage $yesterday $yesterday -Detailed" -ForegroundColor Yellow
    Get-Usage $yesterday $yesterday -Detailed | Format-Table | Out-Host
    Write-Host "Get-UsageAggregate Daily $yesterday $yesterday" -ForegroundColor Yellow
    Get-UsageAggregate Daily $yesterday $yesterday | Format-Table | Out-Host
    Write-Host "Get-Usage $yesterday $yesterday -Service api -GroupBy endpoint" -ForegroundColor Yellow
    Get-Usage $yesterday $yesterday -Service api -GroupBy endpoint | Format-Table | Out-Host
    Write-Host "Busiest hours for api: Get-UsageAggregate Hourly $yesterday $yesterday -Service api | Sort-Object Total -Descending | Select-Object -First 3" -ForegroundColor Yellow
    Get-UsageAggregate Hourly $yesterday $yesterday -Service api | Sort-Object Total -Descending | Select-Object -First 3 | Format-Table | Out-Host
}
finally {
    Remove-Module NSelf.Usage -ErrorAction SilentlyContinue
    Remove-Item "$demoStore*" -ErrorAction SilentlyContinue
}
