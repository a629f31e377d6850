#Requires -Version 7.4
<#
.SYNOPSIS
    Starts or stops the throwaway PostgreSQL cluster the tests and benchmarks run against.
.DESCRIPTION
    -Start: initdb a new cluster in a temporary folder, start it on a free loopback port with
    password authentication, and write its admin connection string to the output. initdb refuses
    to run as root, so as root the cluster belongs to the 'postgres' user.
    When the server binaries are missing the tests that need them are skipped locally, but when
    $env:CI is 'true' that is an error: CI must prove the PostgreSQL store.
    -Stop: stop the cluster started from the same work directory and delete it.
    -Pause / -Resume: stop the server as a crash would (immediate mode) and start it again on the
    same port and data (the fault tests take the store away in the middle of a run).
    -Durable: keep fsync and synchronous commit on. The fast settings lose the last commits a
    client was told about when the server crashes, which is right for speed and wrong for a test
    that crashes the server and counts what it stored.
#>
[CmdletBinding()]
param(
    [switch] $Start,
    [switch] $Stop,
    [switch] $Pause,
    [switch] $Resume,
    [switch] $Durable,
    [Parameter(Mandatory)] [string] $WorkDirectory
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$marker = Join-Path $WorkDirectory 'cluster.json'

function Find-PostgresBin {
    $candidates = @()
    $onPath = Get-Command pg_ctl -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { $candidates += Split-Path (Resolve-Path $onPath.Source).Path }
    if (Test-Path '/usr/lib/postgresql') {
        $candidates += Get-ChildItem '/usr/lib/postgresql' -Directory | Sort-Object { [int]$_.Name } -Descending | ForEach-Object { Join-Path $_.FullName 'bin' }
    }
    $candidates | Where-Object { (Test-Path (Join-Path $_ 'initdb')) -and (Test-Path (Join-Path $_ 'pg_ctl')) } | Select-Object -First 1
}

function Invoke-AsOwner([string] $Owner, [string] $File, [string[]] $Arguments) {
    $output = if ($Owner) { & runuser -u $Owner -- $File @Arguments 2>&1 } else { & $File @Arguments 2>&1 }
    if ($LASTEXITCODE -ne 0) { throw "$File failed ($LASTEXITCODE): $($output -join "`n")" }
}

if ($Stop) {
    if (-not (Test-Path $marker)) { return }
    $cluster = Get-Content $marker -Raw | ConvertFrom-Json
    try { Invoke-AsOwner $cluster.Owner (Join-Path $cluster.Bin 'pg_ctl') @('stop', '-D', $cluster.Data, '-m', 'fast', '-w') }
    catch { Write-Warning "Stopping the test PostgreSQL cluster: $_" }
    Remove-Item -LiteralPath $cluster.Root -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $marker -Force
    return
}

if ($Pause -or $Resume) {
    $cluster = Get-Content $marker -Raw | ConvertFrom-Json
    $pgCtl = Join-Path $cluster.Bin 'pg_ctl'
    if ($Pause) { Invoke-AsOwner $cluster.Owner $pgCtl @('stop', '-D', $cluster.Data, '-m', 'immediate', '-w') }
    else { Invoke-AsOwner $cluster.Owner $pgCtl @('start', '-D', $cluster.Data, '-w', '-t', '60', '-l', (Join-Path $cluster.Root 'server.log'), '-o', $cluster.Options) }
    return
}

if (-not $Start) { throw 'Use -Start, -Stop, -Pause or -Resume.' }
$bin = Find-PostgresBin
if (-not $bin) {
    if ($env:CI -eq 'true') { throw 'PostgreSQL server binaries (initdb, pg_ctl) were not found, and CI must run the PostgreSQL tests. Install the postgresql package.' }
    Write-Warning 'PostgreSQL server binaries were not found: the PostgreSQL tests will be skipped (they fail instead when CI=true). Install the postgresql package to run them.'
    return
}

$owner = $null
if (-not $IsWindows -and (id -u) -eq '0') {
    if (-not (Get-Command runuser -ErrorAction SilentlyContinue)) { throw 'Running as root needs runuser to start PostgreSQL as the postgres user.' }
    $owner = 'postgres'
}
# The cluster lives under the system temp folder, which the postgres user can reach even when
# the repository sits in a folder only root may enter.
$clusterRoot = Join-Path ([IO.Path]::GetTempPath()) ('nself-usage-pg-' + [guid]::NewGuid().ToString('n').Substring(0, 10))
$data = Join-Path $clusterRoot 'data'
New-Item -ItemType Directory -Path $clusterRoot | Out-Null
$password = [Convert]::ToHexString([Security.Cryptography.RandomNumberGenerator]::GetBytes(12)).ToLowerInvariant()
$passwordFile = Join-Path $clusterRoot 'pw'
Set-Content -LiteralPath $passwordFile -Value $password -NoNewline
if ($owner) { & chown -R "${owner}:" $clusterRoot; if ($LASTEXITCODE) { throw 'chown failed' } }

$listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
$listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()

Invoke-AsOwner $owner (Join-Path $bin 'initdb') @('-D', $data, '-U', 'postgres', '--pwfile', $passwordFile, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync')
Remove-Item -LiteralPath $passwordFile -Force
$speed = $Durable ? '' : ' -c fsync=off -c synchronous_commit=off -c full_page_writes=off'
$options = "-c listen_addresses=127.0.0.1 -p $port -k $clusterRoot$speed -c max_connections=200 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min"
Invoke-AsOwner $owner (Join-Path $bin 'pg_ctl') @('start', '-D', $data, '-w', '-t', '60', '-l', (Join-Path $clusterRoot 'server.log'), '-o', $options)

New-Item -ItemType Directory -Force -Path $WorkDirectory | Out-Null
[pscustomobject]@{ Bin = $bin; Data = $data; Root = $clusterRoot; Owner = $owner; Port = $port; Options = $options } | ConvertTo-Json | Set-Content -LiteralPath $marker
Write-Host "Test $(& (Join-Path $bin 'postgres') --version) on 127.0.0.1:$port" -ForegroundColor Cyan
"Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres"
