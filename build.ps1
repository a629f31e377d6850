#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages NSelf.Usage.
.DESCRIPTION
    One entry point. After Build, Import-Module ./NSelf.Usage.psd1 from the repository root
    loads the freshly built module: bin/ holds the cmdlets and the object model, bin/deps/ the
    engine with its private dependencies, en-US/ the help generated from docs/.

    Build    compile and stage the module, generate help
    Test     Build, then every test: xUnit (engine, cmdlets), then Pester in a fresh pwsh;
             prints 'N passed, N failed, N skipped' last (xUnit and Pester added up)
    Demo     Build, then a realistic day of usage on a throwaway embedded store, as tables
    Bench    Build, then the benchmarks; results are appended to bench/results.md
    Package  Build, then an installable out/NSelf.Usage/<version>/ folder
    Publish  Package, then out/publish/NSelf.Usage.<version>.nupkg: the package PSResourceGet
             installs by name (Publish-PSResource -NupkgPath <it> -Repository <yours>)
    Help     regenerate en-US/ from docs/ (the module must be built)
    Mutate   mutation testing (Stryker.NET) of the money, time and input rules by the engine's
             unit tests, scope by scope; per-file scores and survivors under artifacts/mutation/;
             fails below the break threshold (75 %); -Since <ref> only the scopes a change touches,
             -Record appends the scores to bench/results.md
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Demo
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
.EXAMPLE
    dotnet pwsh ./build.ps1 Test -Culture en-US,de-DE,fr-FR,tr-TR -ReducedCulture fr-FR,tr-TR -CultureInclude Module,InputForms,Views -XunitCulture tr-TR
    The culture matrix as .ci/run runs it (which names its whole list of culture-sensitive files):
    Pester once per session culture (fr-FR and tr-TR only the files -CultureInclude names), xUnit
    again under tr-TR.
.EXAMPLE
    dotnet pwsh ./build.ps1 Mutate -Scope money,periods
    Mutation testing of Money.cs and BillingPeriods.cs only.
.EXAMPLE
    dotnet pwsh ./build.ps1 Mutate -File Accounts/Invoicing.cs
    Mutates one rule file (in its scope's run), for a developer killing that file's survivors.
.EXAMPLE
    dotnet pwsh ./build.ps1 Mutate -Since HEAD~1
    What CI can run: only the scopes with a rule file changed since the previous commit, and in
    them only the mutants in changed files (Stryker's --since).
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Publish', 'Help', 'Mutate')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Test: run only these suites (default: all).
    [ValidateSet('Engine', 'Cmdlets', 'Pester')]
    [string[]] $Suite = @('Engine', 'Cmdlets', 'Pester'),

    # Test: a Pester file name filter, for example 'Module*'.
    [string] $PesterFilter = '*',

    # Test: run the Pester suites once per session culture, for example en-US,de-DE,fr-FR,tr-TR
    # (default: once, in the culture this pwsh runs in). Each run has its own result files.
    [string[]] $Culture = @(),

    # Test: under these cultures (a subset of -Culture), run only the Pester files named in
    # -CultureInclude (names without .Tests.ps1: the suites that parse or format what users see or
    # type), or, without -CultureInclude, all but those named in -CultureExclude (by default the
    # fault suites: process kills, outages, a full disk test crashes, not culture). An include list
    # means a new suite runs in these cultures only once someone names it there.
    [string[]] $ReducedCulture = @(),
    [string[]] $CultureInclude = @(),
    [string[]] $CultureExclude = @('Batch', 'Fleet', 'Files', 'StoreFailure'),

    # Test: run the xUnit suites again under these cultures (for example tr-TR).
    [string[]] $XunitCulture = @(),

    # Skip the build (for re-running tests against what is already built).
    [switch] $NoBuild,

    # Mutate: the scopes to run (default: all), see $MutationScopes below.
    [string[]] $Scope = @(),

    # Mutate: only the scopes with a rule file changed since this git ref, and only the mutants of
    # the changed files (Stryker's --since); for example HEAD~1 or origin/main.
    [string] $Since = '',

    # Mutate: only these rule files (paths under src/NSelf.Usage.Engine, e.g. Accounts/Invoicing.cs),
    # each mutated in its own scope's run.
    [string[]] $File = @(),

    # Mutate: Stryker's parallel test sessions (default: the config's, 2).
    [int] $Concurrency = 0,

    # Mutate: append the per-file scores to bench/results.md as a dated section.
    [switch] $Record
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
# The parameters given on the command line (a function's $PSBoundParameters is its own).
$ScriptParameters = $PSBoundParameters
$Version = (Import-PowerShellDataFile (Join-Path $Root 'NSelf.Usage.psd1')).ModuleVersion
$Results = Join-Path $Root 'TestResults'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Native {
    param([string] $File, [string[]] $Arguments, [switch] $AllowFailure)
    & $File @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0 -and -not $AllowFailure) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
    $LASTEXITCODE
}

# A fresh pwsh for work that must not share this session (loading the module being built,
# running Pester). Works whether pwsh is the dotnet tool (pwsh.dll under dotnet) or installed.
function Invoke-FreshPwsh {
    param([string[]] $Arguments, [switch] $AllowFailure)
    $dll = Join-Path $PSHOME 'pwsh.dll'
    if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet' -and (Test-Path $dll)) {
        Invoke-Native ([Environment]::ProcessPath) (@($dll, '-NoProfile', '-NonInteractive') + $Arguments) -AllowFailure:$AllowFailure
    }
    else {
        Invoke-Native (Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')) (@('-NoProfile', '-NonInteractive') + $Arguments) -AllowFailure:$AllowFailure
    }
}

function Invoke-Build {
    if ($NoBuild) { return }
    $bin = Join-Path $Root 'bin'
    if (Test-Path $bin) { Remove-Item $bin -Recurse -Force }
    Write-Host "Building NSelf.Usage $Version ($Configuration)" -ForegroundColor Cyan
    $null = Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage/NSelf.Usage.csproj'), '-c', $Configuration, '-o', $bin, '--nologo', '-v', 'quiet')
    $null = Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage.Engine/NSelf.Usage.Engine.csproj'), '-c', $Configuration, '-o', (Join-Path $bin 'deps'), '--nologo', '-v', 'quiet')
    if ($Configuration -eq 'Release') { Invoke-ReadyToRun $bin }
    Invoke-Help
}

# Start-up (issue 17, item 10): a script that imports the module and tracks one event spent most of
# its extra time JIT-compiling our code, Npgsql's and Microsoft.Data.Sqlite's. ReadyToRun images carry
# that code precompiled. R2R code is per OS and architecture and one file holds one target's, so the
# managed assemblies are precompiled for linux-x64 (where nself runs, and scheduled scripts with it),
# in place, keeping the portable layout; eng/ReadyToRun/ReadyToRun.csproj says why it compiles on the
# newest .NET the SDK bundles (PowerShell 7.6's) rather than through a net8.0 ReadyToRun publish. The
# images keep their IL: other platforms, and PowerShell 7.4's .NET 8, JIT them as before.
function Invoke-ReadyToRun([string] $Bin) {
    $project = Join-Path $Root 'eng/ReadyToRun/ReadyToRun.csproj'
    $null = Invoke-Native dotnet @('msbuild', $project, '-restore', '-t:Precompile', "-p:InputFolder=$(Join-Path $Bin 'deps')", '-nologo', '-v:q')
    $null = Invoke-Native dotnet @('msbuild', $project, '-t:Precompile', "-p:InputFolder=$Bin",
        "-p:References=$(Join-Path $Bin 'deps/NSelf.Usage.Engine.dll')%3B$(Join-Path $PSHOME 'System.Management.Automation.dll')", '-nologo', '-v:q')
}

# Help is generated from docs/*.md (one page per command) into MAML, and about_ topics into text.
function Invoke-Help {
    $null = Invoke-FreshPwsh @('-File', (Join-Path $Root 'eng/New-ModuleHelp.ps1'), '-ModulePath', (Join-Path $Root 'NSelf.Usage.psd1'),
        '-DocsPath', (Join-Path $Root 'docs'), '-OutputPath', (Join-Path $Root 'en-US'))
}

# Test-time packages (Pester, older Npgsql and SQLite for the isolation tests) come from NuGet.
function Get-NuGetPackagePath([string] $Id, [string] $PackageVersion) {
    $packages = $env:NUGET_PACKAGES ? $env:NUGET_PACKAGES : (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages')
    Join-Path $packages "$($Id.ToLowerInvariant())/$PackageVersion"
}

function Invoke-Test {
    # From bash (pwsh -File), -Culture en-US,de-DE arrives as one string: split the lists here.
    $script:Culture = @($Culture -split ',' | ForEach-Object Trim | Where-Object { $_ })
    $script:ReducedCulture = @($ReducedCulture -split ',' | ForEach-Object Trim | Where-Object { $_ })
    $script:CultureInclude = @($CultureInclude -split ',' | ForEach-Object Trim | Where-Object { $_ })
    $script:CultureExclude = @($CultureExclude -split ',' | ForEach-Object Trim | Where-Object { $_ })
    $script:XunitCulture = @($XunitCulture -split ',' | ForEach-Object Trim | Where-Object { $_ })
    # A misspelt culture would otherwise run as whatever .NET makes of it: refuse it before building.
    foreach ($name in $Culture + $XunitCulture) { $null = [Globalization.CultureInfo]::GetCultureInfo($name, $true) }
    foreach ($name in $ReducedCulture) { if ($name -notin $Culture) { throw "-ReducedCulture $name is not one of -Culture $($Culture -join ',')." } }
    if ($CultureInclude.Count -gt 0 -and $ScriptParameters.ContainsKey('CultureExclude')) { throw '-CultureInclude and -CultureExclude name the same thing two ways: give one.' }
    # A misspelt or renamed file would otherwise drop out of the reduced cultures without a word.
    foreach ($name in $CultureInclude + $CultureExclude) {
        if (-not (Test-Path -LiteralPath (Join-Path $Root "tests/pester/$name.Tests.ps1"))) { throw "-CultureInclude/-CultureExclude: there is no tests/pester/$name.Tests.ps1." }
    }
    Invoke-Build
    $null = Invoke-Native dotnet @('restore', (Join-Path $Root 'eng/tools.proj'), '--nologo', '-v', 'quiet')
    if (Test-Path $Results) { Remove-Item $Results -Recurse -Force }
    New-Item -ItemType Directory -Path $Results | Out-Null
    $counts = [ordered]@{}
    $postgres = & (Join-Path $Root 'eng/TestPostgres.ps1') -Start -WorkDirectory (Join-Path $Results 'postgres')
    try {
        if ($postgres) { $env:NSELF_TEST_POSTGRES = $postgres }
        foreach ($xunit in @('Engine', 'Cmdlets') | Where-Object { $_ -in $Suite }) {
            $project = @{ Engine = 'tests/NSelf.Usage.Engine.Tests'; Cmdlets = 'tests/NSelf.Usage.Tests' }[$xunit]
            # Once in the inherited culture, then again (already built) under each -XunitCulture,
            # less the differential suite: its sequences already switch among the four cultures.
            foreach ($name in @('') + $XunitCulture) {
                Write-Host ("xUnit: $project" + ($name ? ", culture $name" : '')) -ForegroundColor Cyan
                $trx = $name ? "$xunit-$name.trx" : "$xunit.trx"
                $saved = $env:LC_ALL
                try {
                    # The test host is a .NET process: on Linux it takes its culture from LC_ALL.
                    if ($name) { $env:LC_ALL = $name.Replace('-', '_') + '.UTF-8' }
                    $null = Invoke-Native dotnet (@('test', (Join-Path $Root $project), '-c', $Configuration, '--nologo',
                        '--logger', "trx;LogFileName=$trx", '--logger', 'console;verbosity=minimal', '--results-directory', $Results) + ($name ? @('--no-build', '--filter', 'FullyQualifiedName!~Differential') : @())) -AllowFailure
                }
                finally { $env:LC_ALL = $saved }
                $counts[$name ? "$xunit $name" : $xunit] = Read-TrxCounts (Join-Path $Results $trx)
            }
        }
        if ('Pester' -in $Suite) {
            # One run per session culture; without -Culture, one run in the inherited culture.
            foreach ($name in ($Culture.Count -gt 0 ? $Culture : @(''))) {
                $key = $name ? "Pester $name" : 'Pester'
                $counts[$key] = Invoke-PesterRun -CultureName $name
            }
        }
    }
    finally {
        Remove-Item Env:NSELF_TEST_POSTGRES -ErrorAction SilentlyContinue
        & (Join-Path $Root 'eng/TestPostgres.ps1') -Stop -WorkDirectory (Join-Path $Results 'postgres')
    }
    $passed = 0; $failed = 0; $skipped = 0
    foreach ($name in $counts.Keys) {
        $c = $counts[$name]
        $skip = ($c.PSObject.Properties['Skipped'] -and $c.Skipped) ? [int]$c.Skipped : 0
        Write-Host ("{0,-14} {1,6} passed, {2,4} failed, {3,4} skipped" -f $name, $c.Passed, $c.Failed, $skip)
        $passed += $c.Passed; $failed += $c.Failed; $skipped += $skip
    }
    # The last line is what CI reads: 'N passed, N failed, N skipped', the skipped count always
    # (0 too), so a test that quietly stopped running shows in the one line everyone looks at.
    Write-Output "$passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0) { exit 1 }
}

# One Pester run in a fresh pwsh. With a culture name, that pwsh starts in that session culture:
# LC_ALL is what .NET on Linux (with ICU) takes its CurrentCulture and CurrentUICulture from, so
# the test process and every pwsh it starts inherit it; NSELF_TEST_CULTURE names it for the suite
# runner (which also sets it explicitly, for platforms that ignore LC_ALL) and the test helpers.
function Invoke-PesterRun([string] $CultureName) {
    $suffix = $CultureName ? "-$CultureName" : ''
    $reduced = $CultureName -and $CultureName -in $ReducedCulture
    $include = ($reduced -and $CultureInclude.Count -gt 0) ? $CultureInclude : @()
    $exclude = ($reduced -and $CultureInclude.Count -eq 0) ? $CultureExclude : @()
    # Under an include list, name what is left out, so a suite nobody has classified shows in the log.
    $leftOut = $include ? @(Get-ChildItem -LiteralPath (Join-Path $Root 'tests/pester') -Filter '*.Tests.ps1' | ForEach-Object { $_.Name -replace '\.Tests\.ps1$', '' } | Where-Object { $_ -notin $include }) : $exclude
    Write-Host ("Pester: tests/pester (fresh pwsh, built module)" + ($CultureName ? ", session culture $CultureName" : '') +
        ($include ? ", only the $($include.Count) culture-sensitive files" : '') + ($leftOut ? ", without $($leftOut -join ', ')" : '')) -ForegroundColor Cyan
    $summary = Join-Path $Results "pester-summary$suffix.json"
    # A bare '*' handed to a native command is expanded by PowerShell on Unix: pass the filter only when narrowed.
    $filter = $PesterFilter -eq '*' ? @() : @('-Filter', $PesterFilter)
    $excluded = $include ? @('-IncludeFile', ($include -join ',')) : $exclude ? @('-ExcludeFile', ($exclude -join ',')) : @()
    $saved = @{ LC_ALL = $env:LC_ALL; NSELF_TEST_CULTURE = $env:NSELF_TEST_CULTURE }
    try {
        if ($CultureName) {
            $env:LC_ALL = $CultureName.Replace('-', '_') + '.UTF-8'
            $env:NSELF_TEST_CULTURE = $CultureName
        }
        $null = Invoke-FreshPwsh (@('-File', (Join-Path $Root 'eng/Invoke-PesterSuite.ps1'), '-PesterPath', (Join-Path (Get-NuGetPackagePath 'Pester' '5.7.1') 'tools/Pester.psd1'),
            '-TestPath', (Join-Path $Root 'tests/pester'), '-ResultPath', $Results, '-ResultName', "pester$suffix.xml", '-SummaryPath', $summary) + $filter + $excluded) -AllowFailure
    }
    finally {
        foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
    }
    (Test-Path $summary) ? (Get-Content $summary -Raw | ConvertFrom-Json) : [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 }
}

function Read-TrxCounts([string] $Path) {
    if (-not (Test-Path $Path)) { return [pscustomobject]@{ Passed = 0; Failed = 1; Skipped = 0 } } # the test host did not even report
    [xml] $trx = Get-Content -LiteralPath $Path -Raw
    $c = $trx.TestRun.ResultSummary.Counters
    # A skipped xUnit test (Skip = ..., SkippableFact) is a result with outcome NotExecuted; the
    # summary's notExecuted counter stays 0 for it, so count the results themselves.
    $skipped = $trx.SelectNodes("//*[local-name()='UnitTestResult'][@outcome='NotExecuted']").Count
    [pscustomobject]@{ Passed = [int]$c.passed; Failed = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted; Skipped = [Math]::Max($skipped, [int]$c.notExecuted) }
}

function Invoke-Demo {
    Invoke-Build
    $null = Invoke-FreshPwsh @('-File', (Join-Path $Root 'eng/Demo.ps1'), '-ModulePath', (Join-Path $Root 'NSelf.Usage.psd1'))
}

function Invoke-Bench {
    Invoke-Build
    $null = Invoke-Native dotnet @('restore', (Join-Path $Root 'eng/tools.proj'), '--nologo', '-v', 'quiet')
    $postgres = & (Join-Path $Root 'eng/TestPostgres.ps1') -Start -WorkDirectory (Join-Path $Root 'out/bench-postgres')
    try {
        if ($postgres) { $env:NSELF_TEST_POSTGRES = $postgres }
        $null = Invoke-FreshPwsh @('-File', (Join-Path $Root 'bench/Invoke-Benchmarks.ps1'), '-ModulePath', (Join-Path $Root 'NSelf.Usage.psd1'),
            '-ResultsPath', (Join-Path $Root 'bench/results.md'))
    }
    finally {
        Remove-Item Env:NSELF_TEST_POSTGRES -ErrorAction SilentlyContinue
        & (Join-Path $Root 'eng/TestPostgres.ps1') -Stop -WorkDirectory (Join-Path $Root 'out/bench-postgres')
    }
}

function Invoke-Package {
    Invoke-Build
    $target = Join-Path $Root "out/NSelf.Usage/$Version"
    if (Test-Path $target) { Remove-Item $target -Recurse -Force }
    New-Item -ItemType Directory -Path $target | Out-Null
    Copy-Item (Join-Path $Root 'NSelf.Usage.psd1') $target
    foreach ($folder in 'bin', 'module', 'en-US') { Copy-Item (Join-Path $Root $folder) $target -Recurse }
    foreach ($file in 'LICENSE', 'LICENSE-DejaVu.txt', 'CHANGELOG.md') { Copy-Item (Join-Path $Root $file) $target }
    Get-ChildItem $target -Recurse -Filter '*.pdb' | Remove-Item
    # The manifest's release notes are this version's CHANGELOG.md entry (the one source of them).
    $manifest = Join-Path $target 'NSelf.Usage.psd1'
    $text = Get-Content -LiteralPath $manifest -Raw
    $notes = (Get-ReleaseNotes $Version).Replace("'", "''")
    if ($text -notmatch "ReleaseNotes\s*=\s*''") { throw "NSelf.Usage.psd1 has no empty ReleaseNotes = '' for the package to fill in." }
    Set-Content -LiteralPath $manifest -Value ($text -replace "ReleaseNotes\s*=\s*''", { "ReleaseNotes = '$notes'" }) -NoNewline -Encoding utf8NoBOM
    # Prove the folder is installable: a fresh pwsh finds it on PSModulePath by name.
    $check = "`$env:PSModulePath = '$(Join-Path $Root 'out')' + [IO.Path]::PathSeparator + `$env:PSModulePath; " +
        "`$env:NSELF_USAGE_STORE = Join-Path ([IO.Path]::GetTempPath()) ('package-check-' + [guid]::NewGuid() + '.db'); " +
        "Import-Module NSelf.Usage -RequiredVersion $Version -ErrorAction Stop; Add-UsageApiRequest /package/check -CustomerId cus_package; " +
        "if ((Get-Usage -CustomerId cus_package).Events -ne 1) { throw 'package check failed' }; Remove-Item `$env:NSELF_USAGE_STORE*"
    $null = Invoke-FreshPwsh @('-Command', $check)
    Write-Host "Packaged $target (copy it into a folder on `$env:PSModulePath, then Import-Module NSelf.Usage)" -ForegroundColor Green
    $target
}

# The body of CHANGELOG.md's entry for a version (Keep a Changelog: '## [0.1.0] - 2026-12-06').
function Get-ReleaseNotes([string] $ForVersion) {
    $lines = @(Get-Content -LiteralPath (Join-Path $Root 'CHANGELOG.md'))
    $heading = "## [$ForVersion]"
    $start = -1
    for ($i = 0; $i -lt $lines.Count; $i++) { if ($lines[$i].StartsWith($heading, [StringComparison]::Ordinal)) { $start = $i; break } }
    if ($start -lt 0) { throw "CHANGELOG.md has no entry '$heading': add one before packaging $ForVersion." }
    $body = [Collections.Generic.List[string]]::new()
    for ($i = $start + 1; $i -lt $lines.Count -and -not $lines[$i].StartsWith('## ', [StringComparison]::Ordinal); $i++) { $body.Add($lines[$i]) }
    ($body -join "`n").Trim()
}

# The .nupkg PSResourceGet installs by name. Compress-PSResource (PSResourceGet 1.1+, in the pwsh
# 7.6 of the tool manifest) packs the laid-out folder without any repository: nothing is
# registered in the user's PSResourceGet settings and no gallery is asked.
function Invoke-Publish {
    $folder = Invoke-Package | Select-Object -Last 1
    if (-not (Get-Command Compress-PSResource -ErrorAction SilentlyContinue)) {
        throw "Compress-PSResource is missing: run build.ps1 with PowerShell 7.6+ (dotnet tool restore; dotnet pwsh ./build.ps1 Publish)."
    }
    $destination = Join-Path $Root 'out/publish'
    if (Test-Path $destination) { Remove-Item $destination -Recurse -Force }
    New-Item -ItemType Directory -Path $destination | Out-Null
    # PSResourceGet names the package after the folder holding the manifest: stage it as NSelf.Usage/.
    $stage = Join-Path $Root 'out/publish-stage/NSelf.Usage'
    if (Test-Path (Split-Path $stage)) { Remove-Item (Split-Path $stage) -Recurse -Force }
    New-Item -ItemType Directory -Path (Split-Path $stage) | Out-Null
    Copy-Item -LiteralPath $folder -Destination $stage -Recurse
    Compress-PSResource -Path $stage -DestinationPath $destination
    Remove-Item (Split-Path $stage) -Recurse -Force
    $package = Join-Path $destination "NSelf.Usage.$Version.nupkg"
    if (-not (Test-Path -LiteralPath $package)) { throw "Compress-PSResource wrote no $package (found: $((Get-ChildItem $destination).Name -join ', '))." }
    $folderBytes = (Get-ChildItem -LiteralPath $folder -Recurse -File | Measure-Object Length -Sum).Sum
    Write-Host ('Published {0}: {1:N1} MB (module folder {2:N1} MB)' -f $package, ((Get-Item $package).Length / 1MB), ($folderBytes / 1MB)) -ForegroundColor Green
}

# Mutation testing of the money, time and input rules: Stryker.NET (pinned in the tool manifest)
# mutates these files of src/NSelf.Usage.Engine and runs the engine's xUnit tests against each
# mutant, less the PostgreSQL-only, differential and concurrency tests (the test-case filter in
# tests/NSelf.Usage.Engine.Tests/stryker-config.json, which lists the same files: a file there that
# no scope names fails the run). A scope is one Stryker run: it pays the build and a first run of
# the tests (~2 min) before its mutants, so scopes group files that the same tests cover.
# Costs at concurrency 2 on this 2-core machine, 2026-12-06 07:35, while a CI run shared the cores:
# each scope pays ~3.5 min (build, the first run of the tests, compiling the mutants) before its
# mutants, then ~25-45 mutants a minute: money 4.5 min (52 mutants), periods 5.2 (50), quotas 4.3
# (94), invoices 7.3 (281), input 4.7 (180), time 3.3 (80); pricing with PeriodCharges and
# UsageCosts took 13.3 (215), so those two are a scope of their own (charges). A -Since run is one
# Stryker run over the changed files.
# Tax, credits, ledger and numbering files join the invoices scope by name as they are written.
$MutationScopes = [ordered]@{
    pricing  = @('Billing/ServicePricing.cs', 'Billing/Prices.cs', 'Billing/PlanDefinition.cs')
    charges  = @('Billing/PeriodCharges.cs', 'Accounts/UsageCosts.cs')
    money    = @('Billing/Money.cs')
    periods  = @('Billing/BillingPeriods.cs')
    quotas   = @('Accounts/QuotaChecker.cs', 'Billing/QuotaUnits.cs', 'Billing/QuotaDefinition.cs')
    invoices = @('Accounts/InvoiceBuilder.cs', 'Billing/InvoiceLimits.cs', 'Accounts/Invoicing.cs', 'Billing/EventsDigest.cs',
        'Accounts/InvoiceReconciliation.cs', 'Billing/InvoiceRules.cs', 'Billing/*Tax*.cs', 'Billing/*Credit*.cs', 'Billing/*Ledger*.cs', 'Billing/*Numbering*.cs',
        'Billing/InvoiceDeliveries.cs', 'Billing/Settlement.cs')
    input    = @('Ingestion/Quantities.cs', 'Ingestion/TextRules.cs', 'Ingestion/PlainNumbers.cs', 'Ingestion/ServiceDefinition.cs',
        'Billing/Countries.cs', 'Billing/PartyDetails.cs', 'Exports/SmtpSettings.cs')
    time     = @('Time/TimeInput.cs')
    alerts   = @('Alerts/AlertActions.cs', 'Alerts/AlertMessages.cs', 'Reporting/UsageForecasting.cs', 'Accounts/UsageForecasts.cs')
}

function Invoke-Mutate {
    $testProject = Join-Path $Root 'tests/NSelf.Usage.Engine.Tests'
    $config = Join-Path $testProject 'stryker-config.json'
    $engine = Join-Path $Root 'src/NSelf.Usage.Engine'
    $output = Join-Path $Root 'artifacts/mutation'
    # From bash (pwsh -File), -Scope money,periods arrives as one string: split it here.
    $names = @($Scope -split ',' | ForEach-Object Trim | Where-Object { $_ })
    foreach ($name in $names) { if (-not $MutationScopes.Contains($name)) { throw "-Scope $name is not one of $($MutationScopes.Keys -join ', ')." } }
    if ($names.Count -eq 0) { $names = @($MutationScopes.Keys) }

    # The config is what a bare 'dotnet dotnet-stryker' uses: it and the scopes must name the same files.
    $configured = @((Get-Content $config -Raw | ConvertFrom-Json).'stryker-config'.mutate | ForEach-Object { $_ -replace '^\*\*/', '' })
    $scoped = @($MutationScopes.Values | ForEach-Object { $_ })
    $drift = @(Compare-Object $configured $scoped | ForEach-Object InputObject)
    if ($drift) { throw "stryker-config.json and `$MutationScopes in build.ps1 disagree on: $($drift -join ', ')." }
    $break = [int](Get-Content $config -Raw | ConvertFrom-Json).'stryker-config'.thresholds.break

    # -File narrows each scope to the named files; a name no scope covers is refused, not ignored.
    $only = @($File -split ',' | ForEach-Object Trim | Where-Object { $_ } | ForEach-Object { $_ -replace '\\', '/' -replace '^(src/NSelf\.Usage\.Engine/)', '' })
    foreach ($file in $only) {
        if (-not ($scoped | Where-Object { $file -like $_ })) { throw "-File $file is not a rule file of any scope (see `$MutationScopes in build.ps1)." }
    }
    if ($only.Count -gt 0) { $names = @($names | Where-Object { $patterns = $MutationScopes[$_]; $only | Where-Object { $f = $_; $patterns | Where-Object { $f -like $_ } } }) }

    $changed = @()
    if ($Since) {
        $sinceCommit = & git -C $Root rev-parse --verify --quiet "$Since^{commit}"
        if ($LASTEXITCODE -ne 0) { throw "-Since $Since is not a commit of this repository (a shallow clone may need a deeper fetch)." }
        # Committed and uncommitted changes since the ref, and new files not yet added.
        $changed = @(& git -C $Root diff --name-only $Since -- src/NSelf.Usage.Engine) + @(& git -C $Root ls-files --others --exclude-standard -- src/NSelf.Usage.Engine)
        $changed = @($changed | Where-Object { $_ } | ForEach-Object { $_ -replace '^src/NSelf\.Usage\.Engine/', '' })
        $names = @($names | Where-Object { $patterns = $MutationScopes[$_]; $changed | Where-Object { $file = $_; $patterns | Where-Object { $file -like $_ } } })
        if ($names.Count -eq 0) {
            Write-Host "No money, time or input rule changed since $Since; nothing to mutate." -ForegroundColor Green
            return
        }
    }

    # One Stryker run per scope; under -Since one run for all the changed rule files: every scope runs
    # the same tests, so one run pays the build and the first test run (~3.5 min) once, and the
    # mutants are only those of the changed files whichever scope they belong to.
    $plans = if ($Since) {
        $files = @($changed | Where-Object { $f = $_; $names | Where-Object { $MutationScopes[$_] | Where-Object { $f -like $_ } } } | Sort-Object -Unique)
        if ($only.Count -gt 0) { $files = @($files | Where-Object { $f = $_; $only | Where-Object { $f -like $_ } }) }
        if ($files.Count -eq 0) { Write-Host "None of the named files changed since $Since; nothing to mutate." -ForegroundColor Green; return }
        , [pscustomobject]@{ Name = 'since'; Patterns = $files }
    }
    else {
        foreach ($name in $names) {
            $patterns = $MutationScopes[$name]
            if ($only.Count -gt 0) { $patterns = @($only | Where-Object { $f = $_; $MutationScopes[$name] | Where-Object { $f -like $_ } }) }
            [pscustomobject]@{ Name = $name; Patterns = $patterns }
        }
    }

    New-Item -ItemType Directory -Force -Path $output | Out-Null
    $saved = $env:NSELF_TEST_POSTGRES
    # The store contract runs on SQLite only: the filter leaves the PostgreSQL classes out, and
    # without a server the SkippableFacts that need one skip rather than wait for it.
    Remove-Item Env:NSELF_TEST_POSTGRES -ErrorAction SilentlyContinue
    $runs = @()
    try {
        foreach ($plan in $plans) {
            $name = $plan.Name
            $folder = Join-Path $output $name
            if (Test-Path $folder) { Remove-Item $folder -Recurse -Force }
            $arguments = @('dotnet-stryker', '--config-file', $config, '--output', $folder, '--skip-version-check')
            foreach ($pattern in $plan.Patterns) { $arguments += @('--mutate', "**/$pattern") }
            if ($Concurrency -gt 0) { $arguments += @('--concurrency', "$Concurrency") }
            # Stryker reads the target with libgit2, which knows branches, tags and full commit ids, not HEAD~1.
            if ($Since) { $arguments += "--since:$sinceCommit" }
            Write-Host "Mutate: $name ($($plan.Patterns -join ', '))$($Since ? " changed since $Since" : '')" -ForegroundColor Cyan
            $watch = [Diagnostics.Stopwatch]::StartNew()
            Push-Location $testProject
            try {
                # Stryker's whole console (its clear-text table lists every file of the project) goes
                # to the scope's log; the console shows its log lines, then this run's own summary.
                & dotnet @arguments 2>&1 | Tee-Object -FilePath (Join-Path $output "$name.log") |
                    Where-Object { "$_" -match '^\[\d\d:\d\d:\d\d (INF|WRN|ERR|FTL)\]' } | Out-Host
                $code = $LASTEXITCODE
            }
            finally { Pop-Location }
            $watch.Stop()
            $report = Join-Path $folder 'reports/mutation-report.json'
            $runs += [pscustomobject]@{ Scope = $name; ExitCode = $code; Minutes = $watch.Elapsed.TotalMinutes; Report = (Test-Path $report) ? $report : $null }
        }
    }
    finally {
        if ($null -ne $saved) { $env:NSELF_TEST_POSTGRES = $saved }
    }

    $rows = @(foreach ($run in $runs) { if ($run.Report) { Read-MutationReport $run.Report $run.Scope $engine } })
    $summary = Format-MutationSummary $rows $runs $break
    $summary.Table | Set-Content (Join-Path $output 'summary.md')
    $summary.Survivors | Set-Content (Join-Path $output 'survivors.md')
    $summary.Table | Out-Host
    Write-Host "Survivors and uncovered mutants: $(Join-Path $output 'survivors.md'); reports: $output/<scope>/reports/mutation-report.html"
    if ($Record) {
        $cpu = if (Test-Path /proc/cpuinfo) { ((Get-Content /proc/cpuinfo | Where-Object { $_ -like 'model name*' } | Select-Object -First 1) -replace '.*:\s*', '') } else { $env:PROCESSOR_IDENTIFIER }
        $stryker = (Get-Content (Join-Path $Root '.config/dotnet-tools.json') -Raw | ConvertFrom-Json).tools.'dotnet-stryker'.version
        $commit = (& git -C $Root rev-parse --short HEAD)
        Add-Content (Join-Path $Root 'bench/results.md') (@(
                ''
                "## $(Get-Date -AsUTC -Format 'yyyy-MM-dd HH:mm') UTC: mutation testing, $([Environment]::ProcessorCount) cores, $cpu"
                ''
                # 'full run at commit' marks a run of every rule file: .ci/run mutates what changed since it.
                "Stryker.NET $stryker, concurrency $($Concurrency -gt 0 ? $Concurrency : 2), " +
                $(if ($Since -or $only.Count -gt 0 -or $names.Count -lt $MutationScopes.Count) { "commit $commit$($Since ? ", since $Since" : '')$($only.Count -gt 0 ? ", files $($only -join ', ')" : '')" } else { "full run at commit $commit" }) +
                "; scopes $($names -join ', '). " +
                "Score = (killed + timeout) / (killed + timeout + survived + no coverage); ignored and compile-error mutants are not counted. Thresholds: high 85, low 80, break $break."
                ''
            ) + $summary.Table)
        Write-Host 'Scores appended to bench/results.md' -ForegroundColor Green
    }
    $failed = @($runs | Where-Object { $_.ExitCode -ne 0 -or -not $_.Report }) + @($rows | Where-Object { $null -ne $_.Score -and $_.Score -lt $break })
    if ($failed) {
        Write-Host "Mutation testing failed: below the break threshold of $break % (or Stryker did not finish): $(@($failed | ForEach-Object { $_.PSObject.Properties['File'] ? $_.File : $_.Scope }) -join ', ')" -ForegroundColor Red
        exit 1
    }
}

# One row per mutated file of a Stryker JSON report (mutation-testing-report-schema).
function Read-MutationReport([string] $Path, [string] $ScopeName, [string] $Engine) {
    $report = Get-Content $Path -Raw | ConvertFrom-Json -AsHashtable
    foreach ($file in $report.files.Keys) {
        $mutants = @($report.files[$file].mutants)
        $count = { param($status) @($mutants | Where-Object { $_.status -eq $status }).Count }
        $relative = [IO.Path]::GetRelativePath($Engine, $file).Replace('\', '/')
        $row = [pscustomobject]@{
            Scope = $ScopeName; File = $relative
            Killed = & $count 'Killed'; Survived = & $count 'Survived'; NoCoverage = & $count 'NoCoverage'; Timeout = & $count 'Timeout'
            Ignored = & $count 'Ignored'; CompileError = & $count 'CompileError'; Score = $null
            Undetected = @($mutants | Where-Object { $_.status -in 'Survived', 'NoCoverage' } | Sort-Object { $_.location.start.line } | ForEach-Object {
                    '{0}:{1} {2} {3}: {4}' -f $relative, $_.location.start.line, $_.status, $_.mutatorName, (($_.replacement ?? '') -replace '\s+', ' ')
                })
        }
        # A file whose mutants were all filtered out (another scope's file, or unchanged under -Since) has no score.
        $valid = $row.Killed + $row.Timeout + $row.Survived + $row.NoCoverage
        if ($valid -eq 0) { continue }
        $row.Score = [Math]::Round(100.0 * ($row.Killed + $row.Timeout) / $valid, 2)
        $row
    }
}

function Format-MutationSummary($Rows, $Runs, [int] $Break) {
    $table = @('| Scope | File | Killed | Survived | No coverage | Timeout | Score | |', '|---|---|---:|---:|---:|---:|---:|---|')
    foreach ($row in $Rows | Sort-Object Scope, File) {
        $mark = $row.Score -lt $Break ? '**below break**' : ($row.Score -lt 80 ? 'below 80' : '')
        $table += '| {0} | {1} | {2} | {3} | {4} | {5} | {6:N2} % | {7} |' -f $row.Scope, $row.File, $row.Killed, $row.Survived, $row.NoCoverage, $row.Timeout, $row.Score, $mark
    }
    # The billing core is every Billing/ file; the issue asks 85 % over it as a whole.
    foreach ($group in @(@{ Name = 'Billing core'; Rows = @($Rows | Where-Object File -like 'Billing/*') }, @{ Name = 'All'; Rows = @($Rows) })) {
        # Sums by hand: Measure-Object of no rows (every mutant filtered out) gives no object to read .Sum from.
        $k = $s = $n = $t = 0
        foreach ($row in $group.Rows) { $k += $row.Killed; $s += $row.Survived; $n += $row.NoCoverage; $t += $row.Timeout }
        $valid = $k + $s + $n + $t
        if ($valid -gt 0) { $table += '| **{0}** | | {1} | {2} | {3} | {4} | **{5:N2} %** | |' -f $group.Name, $k, $s, $n, $t, (100.0 * ($k + $t) / $valid) }
    }
    $table += ''
    $table += 'Minutes per scope: ' + (($Runs | ForEach-Object { '{0} {1:N1}{2}' -f $_.Scope, $_.Minutes, ($_.ExitCode -ne 0 ? " (exit $($_.ExitCode))" : '') }) -join ', ') + '.'
    $survivors = @('# Surviving and uncovered mutants', '') + @($Rows | Sort-Object Scope, File | ForEach-Object { $_.Undetected } | ForEach-Object { "- $_" })
    [pscustomobject]@{ Table = $table; Survivors = $survivors }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Help' { Invoke-Help }
    'Test' { Invoke-Test }
    'Demo' { Invoke-Demo }
    'Bench' { Invoke-Bench }
    'Package' { $null = Invoke-Package }
    'Publish' { Invoke-Publish }
    'Mutate' { Invoke-Mutate }
}
