# The PostgreSQL store through the cmdlets: every way of choosing it, credentials that never
# show, customer scope through row-level security, and nself's summary view.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $available = Test-PostgresAvailable
    if ($available) {
        $database = New-TestPostgresDatabase
        $parts = @{}
        foreach ($pair in $database -split ';' | Where-Object { $_ }) { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
    }
    $work = New-TestDirectory
}

AfterAll {
    if ($available) { Remove-TestPostgresDatabase $database }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'PostgreSQL through the cmdlets' {
    BeforeEach {
        if (-not $available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (run build.ps1 Test with the postgresql package installed)' }
    }

    It 'is chosen by -ConnectionString, -Server/-Credential, NSELF_USAGE_STORE and BILLING_DB_*, never showing the password' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'unused.db'); PG_PASSWORD = $parts.Password } -Script @"
Import-Module '$manifest'
`$uri = 'postgres://$($parts.Username):' + [uri]::EscapeDataString(`$env:PG_PASSWORD) + '@$($parts.Host):$($parts.Port)/$($parts.Database)'
Connect-UsageStore -ConnectionString `$uri
Add-UsageApiRequest /uri -CustomerId cus_pg
`$credential = [pscredential]::new('$($parts.Username)', (ConvertTo-SecureString `$env:PG_PASSWORD -AsPlainText -Force))
Connect-UsageStore -Server $($parts.Host) -Port $($parts.Port) -Database $($parts.Database) -Credential `$credential
Add-UsageApiRequest /server -CustomerId cus_pg
Disconnect-UsageStore
`$env:NSELF_USAGE_STORE = '$database'
Add-UsageApiRequest /env -CustomerId cus_pg
`$env:NSELF_USAGE_STORE = `$null
`$env:BILLING_DB_HOST = '$($parts.Host)'; `$env:BILLING_DB_PORT = '$($parts.Port)'; `$env:BILLING_DB_NAME = '$($parts.Database)'
`$env:BILLING_DB_USER = '$($parts.Username)'; `$env:BILLING_DB_PASSWORD = `$env:PG_PASSWORD
Add-UsageApiRequest /bash -CustomerId cus_pg
`$store = Get-UsageStore
'{0} {1} {2} {3}' -f `$store.Backend, `$store.Location, `$store.Source, (`$store.SchemaVersion -eq `$store.LatestSchemaVersion)
(Get-Usage -CustomerId cus_pg).Events
(Get-UsageStore | Out-String) + (Get-UsageConfiguration | Out-String) + (Test-UsageStore -Detailed | Out-String)
"@
        $lines[0] | Should -Be "PostgreSql $($parts.Host):$($parts.Port)/$($parts.Database) BillingEnvironment True"
        $lines[1] | Should -Be '4'
        ($lines -join "`n") | Should -Not -Match ([regex]::Escape($parts.Password))
    }

    It 'reports a wrong password as StoreUnavailable naming host, port and database, quickly and without the password' {
        $wrong = $database -replace 'Password=[^;]*', 'Password=Not-The-Pa55word'
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $wrong } -Script @"
Import-Module '$manifest'
Add-UsageApiRequest /x -CustomerId cus_pg -ErrorVariable failure -ErrorAction SilentlyContinue
`$failure[0].FullyQualifiedErrorId
`$failure[0].CategoryInfo.Category
`$failure[0].Exception.Message
Test-UsageStore
"@
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 30
        $lines[0] | Should -BeLike 'StoreUnavailable,*'
        $lines[1] | Should -Be 'ResourceUnavailable'
        $lines[2] | Should -Match ([regex]::Escape("$($parts.Host):$($parts.Port)/$($parts.Database)"))
        ($lines -join "`n") | Should -Not -Match 'Not-The-Pa55word'
        $lines[-1] | Should -Be 'False'
    }

    It 'takes the password from PGPASSFILE when the connection string has none' {
        $passfile = Join-Path $work 'pgpass'
        Set-Content -LiteralPath $passfile -Value "$($parts.Host):$($parts.Port):*:$($parts.Username):$($parts.Password)" -NoNewline
        if (-not $IsWindows) { chmod 600 $passfile }
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = ($database -replace 'Password=[^;]*;?', ''); PGPASSFILE = $passfile } -Script @"
Import-Module '$manifest'
Add-UsageApiRequest /passfile -CustomerId cus_passfile
(Get-Usage -CustomerId cus_passfile).Events
"@
        $lines | Should -Be '1'
    }

    It 'limits a -CustomerScope session to its own customer (warning once that, before tenant isolation, the database does not enforce it)' {
        $role = 'billing_app_' + [guid]::NewGuid().ToString('n').Substring(0, 8)
        Invoke-Psql $database "CREATE ROLE $role LOGIN PASSWORD 'app-secret'; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO $role; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO $role;" | Out-Null
        try {
            $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'unused2.db') } -Script @"
Import-Module '$manifest'
`$app = [pscredential]::new('$role', (ConvertTo-SecureString 'app-secret' -AsPlainText -Force))
Connect-UsageStore -Server $($parts.Host) -Port $($parts.Port) -Database $($parts.Database) -Credential `$app
Add-UsageApiRequest /admin -CustomerId cus_other -Timestamp 2026-11-20T10:00:00Z
Connect-UsageStore -Server $($parts.Host) -Port $($parts.Port) -Database $($parts.Database) -Credential `$app -CustomerScope cus_mine -WarningVariable unenforced -WarningAction SilentlyContinue
`$unenforced.Count
(Get-UsageStore).CustomerScope
Add-UsageApiRequest /mine -CustomerId cus_mine -Timestamp 2026-11-20T10:00:00Z
Add-UsageApiRequest /theirs -CustomerId cus_other -ErrorVariable denied -ErrorAction SilentlyContinue
`$denied[0].FullyQualifiedErrorId
(Get-Usage 2026-11-20 2026-11-20 -AllCustomers).CustomerId -join ','
@(Get-UsageRecord -CustomerId cus_other).Count
"@
            $lines | Should -Be @('1', 'cus_mine', "AccessDenied,NSelf.Usage.Commands.AddUsageApiRequestCommand", 'cus_mine', '0')
        }
        finally {
            Invoke-Psql $database "DROP OWNED BY $role; DROP ROLE $role;" | Out-Null
        }
    }

    It 'stores a long pipeline exactly once while two chunks are written at a time, repeats included' {
        # 30,000 objects in chunks of 5,000, each odd chunk a repeat of the one before it: chunks
        # with the same ids are in flight together, and the rollups must count each event once.
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $database } -Script @"
Import-Module '$manifest'
`$t0 = [datetimeoffset]'2026-11-02T00:00:00Z'
`$rows = foreach (`$i in 0..29999) { `$n = [math]::Floor(`$i / 5000) % 2 ? `$i - 5000 : `$i; [pscustomobject]@{ Service = 'api'; Quantity = 1; CustomerId = 'cus_chunks'; Timestamp = `$t0.AddSeconds(`$n); EventId = "chunk-`$n" } }
`$rows | Add-UsageRecord
(Get-Usage -CustomerId cus_chunks 2026-11-01 2026-11-30).Events
@(Get-UsageRecord -CustomerId cus_chunks 2026-11-01 2026-11-30).Count
"@
        $lines | Should -Be @('15000', '15000')
        Invoke-Psql $database "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_chunks'" | Should -Be '15000'
    }

    It 'refreshes nself''s daily summary view with Update-UsageSummary' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $database } -Script @"
Import-Module '$manifest'
Add-UsageApiRequest /view -CustomerId cus_view -Timestamp 2026-11-21T10:00:00Z
`$refresh = Update-UsageSummary
`$refresh.GetType().FullName
`$refresh.Summary
"@
        $lines | Should -Be @('NSelf.Usage.UsageSummaryRefresh', 'billing_usage_daily_summary')
        Invoke-Psql $database "SELECT event_count FROM billing_usage_daily_summary WHERE customer_id = 'cus_view'" | Should -Be '1'
    }
}
