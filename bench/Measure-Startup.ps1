#Requires -Version 7.4
<#
.SYNOPSIS
    Start-up of a script that imports NSelf.Usage and tracks one event, against a bare pwsh start.
.DESCRIPTION
    A scheduled script pays pwsh's start, the module's import and its first call on every run.
    Measured in rotation in one run: 'pwsh -NoProfile -c exit' (the limit: no script can start
    faster), 'pwsh -NoProfile -c "Import-Module <empty psd1>"' (PowerShell's own cost of importing
    any module) and 'pwsh -NoProfile -c "Import-Module <psd1>; Add-UsageApiRequest /x"',
    once on a SQLite store and once on a PostgreSQL store (when NSELF_TEST_POSTGRES names a
    server). Each store is created and migrated by an untimed first run, as a scheduled script's
    store is after its first day; each timing is the median of $Runs runs. Issue 17's targets: the
    import and track at most 1.2x the bare start on SQLite, 1.4x on PostgreSQL.

    Writes one object per store (Store, BareMs, EmptyModuleMs, ImportAndTrackMs, Ratio,
    EmptyModuleRatio, OwnShare, Target, Met): build.ps1
    Bench (Invoke-Benchmarks.ps1) records them as rows. -Breakdown also prints where one run's
    time goes (import, first call, second call, JIT-compiled methods, assemblies loaded).
.EXAMPLE
    dotnet pwsh ./build.ps1 Build
    $env:NSELF_TEST_POSTGRES = & ./eng/TestPostgres.ps1 -Start -WorkDirectory ./out/pg
    dotnet pwsh ./bench/Measure-Startup.ps1 -ModulePath ./NSelf.Usage.psd1 -Breakdown
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [ValidateRange(7, 1000)] [int] $Runs = 9,
    [switch] $Breakdown
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module (Join-Path (Split-Path $PSScriptRoot) 'tests/pester/TestSupport.psm1')
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
$work = Join-Path ([IO.Path]::GetTempPath()) "nself-usage-startup-$PID"
New-Item -ItemType Directory -Path $work -Force | Out-Null

# The pwsh a user's script runs in: this one (pwsh, or dotnet with the tool's pwsh.dll).
$pwsh = Get-PwshCommand
$bareArguments = @($pwsh.Arguments) + @('-Command', 'exit')
$trackArguments = @($pwsh.Arguments) + @('-Command', "Import-Module '$ModulePath'; Add-UsageApiRequest /x")
# PowerShell's own floor for any script that imports a module: a manifest that loads nothing.
# Importing it costs about 1.1x the bare start on its own (decision 227), so it is measured in the
# same rotation and the module's own share is what lies above it.
$emptyManifest = Join-Path $work 'Empty/Empty.psd1'
New-Item -ItemType Directory -Path (Split-Path $emptyManifest) -Force | Out-Null
Set-Content -LiteralPath $emptyManifest -Value "@{ ModuleVersion = '1.0.0' }"
$emptyArguments = @($pwsh.Arguments) + @('-Command', "Import-Module '$emptyManifest'")

function Measure-Child([string[]] $Arguments) {
    $watch = [Diagnostics.Stopwatch]::StartNew()
    $output = & $pwsh.Path @Arguments 2>&1
    $watch.Stop()
    if ($LASTEXITCODE -ne 0) { throw "pwsh $($Arguments -join ' ') failed ($LASTEXITCODE): $output" }
    if ($output) { throw "pwsh $($Arguments -join ' ') wrote: $output" }
    $watch.Elapsed.TotalMilliseconds
}

# Where one run's time goes, as seen from inside the child.
function Show-Breakdown([string] $Store) {
    $script = @"
`$started = (Get-Process -Id `$PID).StartTime.ToUniversalTime()
`$atScript = [datetime]::UtcNow
`$watch = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$ModulePath'
`$import = `$watch.Elapsed.TotalMilliseconds; `$jitImport = [Runtime.JitInfo]::GetCompiledMethodCount(`$false)
Add-UsageApiRequest /x
`$first = `$watch.Elapsed.TotalMilliseconds - `$import; `$jitFirst = [Runtime.JitInfo]::GetCompiledMethodCount(`$false)
Add-UsageApiRequest /y
`$second = `$watch.Elapsed.TotalMilliseconds - `$import - `$first
`$ours = @([AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { [Runtime.Loader.AssemblyLoadContext]::GetLoadContext(`$_).Name -eq 'NSelf.Usage.Engine' -or `$_.GetName().Name -like 'NSelf.Usage*' }).Count
'pwsh start to script {0:N0} ms; Import-Module {1:N0} ms; first call {2:N0} ms; second call {3:N1} ms; JIT-compiled methods: {4:N0} after import, {5:N0} after the first call; assemblies {6} (ours and private {7})' -f ((`$atScript - `$started).TotalMilliseconds), `$import, `$first, `$second, `$jitImport, `$jitFirst, [AppDomain]::CurrentDomain.GetAssemblies().Count, `$ours
"@
    $lines = & $pwsh.Path @($pwsh.Arguments) -Command $script 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The breakdown run failed: $lines" }
    Write-Host "  breakdown ($Store): $lines"
}

function Measure-Store([string] $Store, [string] $Address, [double] $Target) {
    $saved = @{ NSELF_USAGE_STORE = $env:NSELF_USAGE_STORE; NSELF_CUSTOMER_ID = $env:NSELF_CUSTOMER_ID }
    try {
        $env:NSELF_USAGE_STORE = $Address
        $env:NSELF_CUSTOMER_ID = 'cus_startup'
        # Untimed: creates and migrates the store, and warms the file cache for all three commands.
        $null = Measure-Child $trackArguments
        $null = Measure-Child $bareArguments
        $null = Measure-Child $emptyArguments
        $bare = [Collections.Generic.List[double]]::new()
        $empty = [Collections.Generic.List[double]]::new()
        $tracked = [Collections.Generic.List[double]]::new()
        $children = @(@{ Times = $bare; Arguments = $bareArguments }, @{ Times = $empty; Arguments = $emptyArguments }, @{ Times = $tracked; Arguments = $trackArguments })
        foreach ($run in 1..$Runs) {
            # Rotating which goes first, so a drift of the machine's speed hits all three alike.
            foreach ($i in 0..2) {
                $child = $children[($run + $i) % 3]
                $child.Times.Add((Measure-Child $child.Arguments))
            }
        }
        # Every timed run stored its event (the untimed first one too).
        $count = & $pwsh.Path @($pwsh.Arguments) -Command "Import-Module '$ModulePath'; (Get-Usage -Service api).Events"
        if ("$count" -ne "$($Runs + 1)") { throw "The $Store start-up runs stored $count events, not $($Runs + 1)." }
        if ($Breakdown) { Show-Breakdown $Store }
        $bareMs = Get-Median $bare
        $emptyMs = Get-Median $empty
        $trackMs = Get-Median $tracked
        [pscustomobject]@{
            Store = $Store; BareMs = $bareMs; EmptyModuleMs = $emptyMs; ImportAndTrackMs = $trackMs; Ratio = $trackMs / $bareMs
            EmptyModuleRatio = $emptyMs / $bareMs; OwnShare = ($trackMs - $emptyMs) / $bareMs
            Target = "<= $($Target.ToString([cultureinfo]::InvariantCulture))x"; Met = ($trackMs / $bareMs) -le $Target
            BareRuns = @($bare); EmptyModuleRuns = @($empty); TrackRuns = @($tracked)
        }
    }
    finally {
        foreach ($key in $saved.Keys) { [Environment]::SetEnvironmentVariable($key, $saved[$key]) }
    }
}

try {
    $results = @(Measure-Store 'SQLite' (Join-Path $work 'startup.db') 1.2)
    if ($env:NSELF_TEST_POSTGRES) {
        $database = New-TestPostgresDatabase
        try { $results += Measure-Store 'PostgreSQL' $database 1.4 }
        finally { Remove-TestPostgresDatabase $database }
    }
    else { Write-Warning 'NSELF_TEST_POSTGRES is not set: the PostgreSQL start-up is not measured.' }
    foreach ($result in $results) {
        Write-Host ('Start-up {0,-10}: bare pwsh {1,6:N0} ms, empty module {2,6:N0} ms ({3:N2}x), import + track {4,6:N0} ms, {5:N2}x (target {6}) {7}' -f $result.Store, $result.BareMs,
            $result.EmptyModuleMs, $result.EmptyModuleRatio, $result.ImportAndTrackMs, $result.Ratio, $result.Target, ($result.Met ? 'met' : 'NOT MET'))
    }
    $results
}
finally {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
