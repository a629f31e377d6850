# Set-up the bench scripts share (Invoke-Benchmarks, Measure-Reconciliation, Measure-YearOfEvents),
# so each builds and finds the helper, and takes its medians, the same way.

# Builds the helper that seeds stores and measures raw storage limits (NSelf.Usage.Bench) in
# Release and returns its dll; a failed build stops the run rather than timing a stale helper.
function Build-BenchHelper {
    & dotnet build (Join-Path $PSScriptRoot 'NSelf.Usage.Bench/NSelf.Usage.Bench.csproj') -c Release --nologo -v quiet | Out-Null
    if ($LASTEXITCODE) { throw 'Building the benchmark helper failed.' }
    Join-Path $PSScriptRoot 'NSelf.Usage.Bench/bin/Release/net10.0/NSelf.Usage.Bench.dll'
}

# The set-up of a measurement on the test PostgreSQL server alone (Measure-Reconciliation,
# Measure-YearOfEvents): refused without the server before anything is built or seeded; then the
# test helpers (New-TestPostgresDatabase) and the module under test are imported for the script
# (globally: a module importing them would otherwise keep them to itself). Returns the helper's dll.
function Initialize-PostgresBench([Parameter(Mandatory)] [string] $ModulePath) {
    if (-not $env:NSELF_TEST_POSTGRES) { throw 'Set NSELF_TEST_POSTGRES (see the example).' }
    $helper = Build-BenchHelper
    Import-Module (Join-Path (Split-Path $PSScriptRoot) 'tests/pester/TestSupport.psm1') -Global
    Import-Module $ModulePath -Global
    $helper
}

# The median of repeated timings (the lower middle one for an even count): machines here are
# shared and noisy, and one slow repetition must not move the result.
function Get-Median([double[]] $Values) {
    $sorted = @($Values | Sort-Object)
    $sorted[[int][math]::Floor(($sorted.Count - 1) / 2)]
}

Export-ModuleMember -Function Build-BenchHelper, Initialize-PostgresBench, Get-Median
