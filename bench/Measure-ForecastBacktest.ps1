#Requires -Version 7.4
<#
.SYNOPSIS
    The forecast backtest (issue 20): each method's error forecasting the last 10 days of a 30-day
    month from its first 20, on series with a known truth, and how often the 80% interval covers it.
.DESCRIPTION
    The benchmark helper draws -Series months of each kind (flat, linear growth, weekly
    seasonality, a step change, heavy noise; bench/ForecastBacktest.cs) from -Seed and scores
    Get-UsageForecast's method ("forecast") beside the run rate most tools show (the period so far
    scaled to the whole period), measured on the same series. Targets: at most 10% mean absolute
    percentage error on the trend and seasonal series; an interval that covers the truth 70-90% of
    the time. Appends a dated section to the results file. Run by build.ps1 Bench or alone:
.EXAMPLE
    dotnet pwsh ./bench/Measure-ForecastBacktest.ps1 -ResultsPath ./bench/results.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $Series = 1000,
    [int] $Seed = 20261207
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
$helper = Build-BenchHelper
$invariant = [cultureinfo]::InvariantCulture

$watch = [Diagnostics.Stopwatch]::StartNew()
$output = & dotnet $helper forecast-backtest $Series $Seed
if ($LASTEXITCODE) { throw 'The forecast backtest failed.' }
$scores = foreach ($line in $output) {
    $kind, $method, $mape, $coverage = $line -split "`t"
    [pscustomobject]@{ Kind = $kind; Method = $method; Mape = [double]::Parse($mape, $invariant); Coverage = $coverage ? [double]::Parse($coverage, $invariant) : $null }
}
$elapsed = $watch.Elapsed.TotalSeconds

$rows = foreach ($kind in $scores.Kind | Select-Object -Unique) {
    $ours = $scores | Where-Object { $_.Kind -eq $kind -and $_.Method -eq 'forecast' }
    $runRate = $scores | Where-Object { $_.Kind -eq $kind -and $_.Method -eq 'run-rate' }
    $targeted = $kind -in 'linear growth', 'weekly seasonality'
    $mapeMet = -not $targeted -or $ours.Mape -le 10
    $coverageMet = $ours.Coverage -ge 70 -and $ours.Coverage -le 90
    Write-Host ('{0,-20} forecast MAPE {1,6:N2}%  run rate {2,6:N2}%  coverage {3,5:N1}%  {4}' -f $kind, $ours.Mape, $runRate.Mape, $ours.Coverage, (($mapeMet -and $coverageMet) ? 'met' : 'NOT MET'))
    '| {0} | {1:N2}% | {2:N2}% | {3} | {4:N1}% | 70-90% | {5} |' -f $kind, $ours.Mape, $runRate.Mape, ($targeted ? '<= 10%' : 'reported'), $ours.Coverage, (($mapeMet -and $coverageMet) ? 'met' : '**not met**')
}
$lines = @(
    ''
    "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: forecast backtest (issue 20), $([Environment]::ProcessorCount) cores"
    ''
    "Months of 30 days with a known truth, $Series of each kind (seed $Seed): forecast the last 10 days' total from the first 20, with Get-UsageForecast's method (mean, trend and step candidates with and without a weekly pattern, averaged by BIC weight; docs/Get-UsageForecast.md) beside the run rate (the 20 days scaled to 30) on the same series. Error: mean absolute percentage error of the 10 days' total. Coverage: how often that total fell within the 80% interval. Took $([math]::Round($elapsed, 1).ToString($invariant)) s."
    ''
    '| Series | Forecast MAPE | Run-rate MAPE (same series) | MAPE target | Interval coverage | Coverage target | |'
    '|---|---:|---:|---|---:|---|---|'
    $rows
)
Add-Content -LiteralPath $ResultsPath -Value $lines
Write-Host "Results appended to $ResultsPath" -ForegroundColor Green
