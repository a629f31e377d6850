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
    # Test files left out, by name without .Tests.ps1, comma-separated (for example Batch,Fleet).
    [string] $ExcludeFile = '',
    # Only these test files, by name without .Tests.ps1, comma-separated (default: every file).
    [string] $IncludeFile = '',
    [Parameter(Mandatory)] [string] $ResultPath,
    [string] $ResultName = 'pester.xml',
    [Parameter(Mandatory)] [string] $SummaryPath
)
$ErrorActionPreference = 'Stop'
# The session culture of this run (build.ps1 -Culture): LC_ALL has already set it where .NET reads
# it (Linux with ICU); set it here too, for this thread and every thread and runspace started later,
# so that a platform ignoring LC_ALL still runs the suites in it. The helpers that start child pwsh
# processes read NSELF_TEST_CULTURE.
if ($env:NSELF_TEST_CULTURE) {
    $culture = [Globalization.CultureInfo]::GetCultureInfo($env:NSELF_TEST_CULTURE, $true)
    [Globalization.CultureInfo]::CurrentCulture = $culture
    [Globalization.CultureInfo]::CurrentUICulture = $culture
    [Threading.Thread]::CurrentThread.CurrentCulture = $culture
    [Threading.Thread]::CurrentThread.CurrentUICulture = $culture
    [Globalization.CultureInfo]::DefaultThreadCurrentCulture = $culture
    [Globalization.CultureInfo]::DefaultThreadCurrentUICulture = $culture
    Write-Host "Session culture: $([Globalization.CultureInfo]::CurrentCulture.Name) (1.5 reads '$(([decimal]1.5).ToString())', 'i' upper-cases to '$('i'.ToUpper())')"
}
# Plain text messages: an ANSI escape character is not valid in the NUnit XML report.
$PSStyle.OutputRendering = 'PlainText'
$env:NO_COLOR = '1'
Import-Module $PesterPath -MinimumVersion 5.7.1
$configuration = New-PesterConfiguration
$excluded = @($ExcludeFile -split ',' | Where-Object { $_ } | ForEach-Object { "$_.Tests.ps1" })
$included = @($IncludeFile -split ',' | Where-Object { $_ } | ForEach-Object { "$_.Tests.ps1" })
$configuration.Run.Path = @(Get-ChildItem -Path $TestPath -Filter "$Filter.Tests.ps1" | Where-Object Name -NotIn $excluded |
    Where-Object { $included.Count -eq 0 -or $_.Name -in $included } | ForEach-Object FullName)
$configuration.Run.PassThru = $true
$configuration.Output.Verbosity = 'Normal'
$configuration.TestResult.Enabled = $true
$configuration.TestResult.OutputFormat = 'NUnitXml'
$configuration.TestResult.OutputPath = Join-Path $ResultPath $ResultName
$result = Invoke-Pester -Configuration $configuration
# A container that failed to run (a syntax error, a failing BeforeAll) counts as a failure, and so
# does a run that produced no result at all (no test file matched, Pester itself failed).
$failed = $result ? $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount : 1
[pscustomobject]@{ Passed = $result ? $result.PassedCount : 0; Failed = $failed; Skipped = $result ? $result.SkippedCount : 0 } | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath
exit ($failed -gt 0 ? 1 : 0)
