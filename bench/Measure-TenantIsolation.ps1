#Requires -Version 7.4
<#
.SYNOPSIS
    Measures what tenant isolation costs a tracking call: a mapped tenant role scoped with
    -CustomerScope against the tables' owner unscoped, isolation enabled, in the same run.
.DESCRIPTION
    With Enable-UsageTenantIsolation on, every row a tenant role inserts passes the restrictive
    policy of each customer table (is the role mapped to the row's customer, does the session's
    scope allow it); the owner bypasses row-level security. Issue 22's target: a scoped tracking
    call costs at most 10 % more than an unscoped one in the same bench run.
    One PostgreSQL database, migrated, with a least-privileged role mapped to the customer; then
    $Repeat rounds, alternating which session goes first, each timing $Calls unbatched calls
    (Add-UsageApiRequest in a foreach, as a web handler tracks requests) after a warm-up, on
    connections that are already pooled. Reports the median time per call of each. Appends a dated
    section to the results file. Run by build.ps1 Bench (Invoke-Benchmarks.ps1) or alone:
.EXAMPLE
    $env:NSELF_TEST_POSTGRES = & ./eng/TestPostgres.ps1 -Start -WorkDirectory ./out/pg
    dotnet pwsh ./bench/Measure-TenantIsolation.ps1 -ModulePath ./NSelf.Usage.psd1 -ResultsPath ./bench/results.md
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultsPath,
    [int] $Calls = 2000,
    [int] $Repeat = 5
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1')
Import-Module (Join-Path (Split-Path $PSScriptRoot) 'tests/pester/TestSupport.psm1')
if (-not $env:NSELF_TEST_POSTGRES) { throw 'Tenant isolation is PostgreSQL row-level security: set NSELF_TEST_POSTGRES (eng/TestPostgres.ps1 -Start).' }
Import-Module $ModulePath

$database = New-TestPostgresDatabase
# Roles are cluster-wide: a unique name, dropped at the end.
$role = 'bench_tenant_' + [guid]::NewGuid().ToString('n').Substring(0, 8)
$password = 'bench-secret'
$tenantConnection = ($database -replace 'Username=[^;]*', "Username=$role") -replace 'Password=[^;]*', "Password=$password"
try {
    # The owner migrates the store, creates the customer, maps the role to it and enables isolation.
    Connect-UsageStore -ConnectionString $database
    New-BillingCustomer cus_bench | Out-Null
    Invoke-Psql $database ("CREATE ROLE $role LOGIN PASSWORD '$password'; " +
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $role; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO $role;") | Out-Null
    Grant-UsageCustomerAccess -Role $role -CustomerId cus_bench | Out-Null
    if (-not (Enable-UsageTenantIsolation -Confirm:$false -PassThru -WarningAction SilentlyContinue).Enabled) { throw 'Tenant isolation is not enabled.' }

    # Scoped: the mapped tenant with -CustomerScope; TenantUnscoped: the same role without a scope
    # (its policies take the unscoped branch); Unscoped: the owner (not subject to row-level security).
    $sessions = [ordered]@{
        Scoped         = { Connect-UsageStore -ConnectionString $tenantConnection -CustomerScope cus_bench -WarningAction SilentlyContinue }
        TenantUnscoped = { Connect-UsageStore -ConnectionString $tenantConnection }
        Unscoped       = { Connect-UsageStore -ConnectionString $database }
    }
    # One timed round for a session: connect (pooled after the first round) and warm up outside the timing.
    function Measure-Session([string] $Name) {
        & $sessions[$Name]
        foreach ($i in 1..20) { Add-UsageApiRequest /warmup -CustomerId cus_bench }
        $watch = [Diagnostics.Stopwatch]::StartNew()
        foreach ($i in 1..$Calls) { Add-UsageApiRequest /api/bench GET 200 -CustomerId cus_bench }
        $watch.Stop()
        $watch.Elapsed.TotalMilliseconds * 1000 / $Calls
    }

    # Enabled first, then disabled: the same sessions, so the policies' cost stands apart from the path's.
    $medians = [ordered]@{}
    foreach ($state in 'Enabled', 'Disabled') {
        if ($state -eq 'Disabled') {
            Connect-UsageStore -ConnectionString $database
            Disable-UsageTenantIsolation -Confirm:$false | Out-Null
        }
        $times = @{}
        foreach ($name in $sessions.Keys) { $times[$name] = [System.Collections.Generic.List[double]]::new() }
        $names = @($sessions.Keys)
        foreach ($run in 1..$Repeat) {
            # Rotate which session goes first, so a machine that slows down mid-run favours none.
            $order = foreach ($i in 0..($names.Count - 1)) { $names[($i + $run) % $names.Count] }
            foreach ($name in $order) { $times[$name].Add((Measure-Session $name)) }
        }
        $medians[$state] = [ordered]@{}
        foreach ($name in $names) { $medians[$state][$name] = Get-Median $times[$name] }
    }
    # Every call was stored, and the tenant's calls went through its policies (not around them).
    $expected = 2 * $sessions.Count * $Repeat * ($Calls + 20)
    $stored = [int](Invoke-Psql $database "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_bench'")
    if ($stored -ne $expected) { throw "Stored $stored events, expected $expected." }
    $scoped = $medians.Enabled.Scoped
    $unscoped = $medians.Enabled.Unscoped
}
finally {
    Disconnect-UsageStore
    Remove-Module NSelf.Usage
    Invoke-Psql $database "DROP OWNED BY $role;" | Out-Null
    Remove-TestPostgresDatabase $database
    Invoke-Psql $env:NSELF_TEST_POSTGRES "DROP ROLE IF EXISTS $role;" | Out-Null
}

$ratio = $scoped / $unscoped
Write-Host ('One tracking call, isolation enabled: {0:N1} us scoped tenant, {1:N1} us unscoped owner: {2:P0}' -f $scoped, $unscoped, $ratio)
foreach ($state in $medians.Keys) {
    Write-Host ('  {0}: scoped tenant {1:N1} us, same tenant unscoped {2:N1} us, owner unscoped {3:N1} us' -f $state, $medians[$state].Scoped, $medians[$state].TenantUnscoped, $medians[$state].Unscoped)
}
$lines = @(
    ''
    "## $(Get-Date -Format 'yyyy-MM-dd HH:mm') UTC: a tracking call under tenant isolation, scoped tenant against unscoped owner, $([Environment]::ProcessorCount) cores"
    ''
    "PostgreSQL, Enable-UsageTenantIsolation on. Scoped: a least-privileged role mapped to the customer with Grant-UsageCustomerAccess, connected with -CustomerScope (every row passes the restrictive policies). Unscoped: the tables' owner, no scope (not subject to row-level security). Median of $Repeat alternating rounds of $Calls unbatched calls (Add-UsageApiRequest in a foreach) on pooled connections."
    ''
    '| Benchmark | Store | Scoped tenant | Unscoped owner (limit, same run) | Ratio | Target | |'
    '|---|---|---:|---:|---:|---|---|'
    ('| One tracking call, isolation enabled | PostgreSQL | {0:N1} us/call | {1:N1} us/call | {2:P0} | <= 110% | {3} |' -f $scoped, $unscoped, $ratio, ($ratio -le 1.1 ? 'met' : '**not met**'))
    ('| Same, against the same tenant role unscoped | PostgreSQL | {0:N1} us/call | {1:N1} us/call | {2:P0} | | |' -f $scoped, $medians.Enabled.TenantUnscoped, ($scoped / $medians.Enabled.TenantUnscoped))
    ('| One tracking call, isolation disabled | PostgreSQL | {0:N1} us/call | {1:N1} us/call | {2:P0} | | |' -f $medians.Disabled.Scoped, $medians.Disabled.Unscoped, ($medians.Disabled.Scoped / $medians.Disabled.Unscoped))
    ('| Same, against the same tenant role unscoped, disabled | PostgreSQL | {0:N1} us/call | {1:N1} us/call | {2:P0} | | |' -f $medians.Disabled.Scoped, $medians.Disabled.TenantUnscoped, ($medians.Disabled.Scoped / $medians.Disabled.TenantUnscoped))
)
Add-Content -LiteralPath $ResultsPath -Value $lines
Write-Host "Results appended to $ResultsPath" -ForegroundColor Green
