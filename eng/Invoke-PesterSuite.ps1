#Requires -Version 7.4
<#
.SYNOPSIS
    Runs the Pester suites (in the fresh pwsh build.ps1 starts) and writes their counts.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $TestPath,
    [string] $Filter = '*',
    [Parameter(Mandatory)] [string] $ResultPath,
    [Parameter(Mandatory)] [string] $SummaryPath
)
$ErrorActionPreference = 'Stop'
# Plain text messages: an ANSI escape character is not valid in the NUnit XML report.
$PSStyle.OutputRendering = 'PlainText'
$env:NO_COLOR = '1'
Import-Module $PesterPath -MinimumVersion 5.7.1
$configuration = New-PesterConfiguration
$configuration.Run.Path = @(Get-ChildItem -Path $TestPath -Filter "$Filter.Tests.ps1" | ForEach-Object FullName)
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultPath 'pester.xml'
$result = Invoke-Pester -Configuration $configuration
# A container that failed to run (a syntax error, a failing BeforeAll) counts as a failure.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
[pscustomobject]@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount } | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
exit ($failed -gt 0 ? 1 : 0)
