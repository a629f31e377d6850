# Issue 17 item 6: Ctrl+C within 100 ms everywhere, nothing partial. Each long command runs in a
# PowerShell instance ([powershell]::Create(), BeginInvoke) in a fresh pwsh against a store of a
# million events written by plain SQL (with their rollups), is stopped once
# it has run for a while, and the time Stop() takes is measured: what a user waits for after Ctrl+C.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
    # What Ctrl+C may take: the issue's 100 ms, for every command on both stores. The slow stops
    # this suite once allowed (up to 281 ms) were rows read on after a cancel, work in memory no
    # statement interrupt reaches, and an import finishing the chunk it was reading; each now looks
    # at the stop per row (docs/decisions.md, "Ctrl+C is heard per row"). Two later ones on
    # PostgreSQL: a report whose read the server was compiling with LLVM (JIT is off, decision 248:
    # up to 317 ms before), and an import waiting for the server to insert a chunk already sent
    # (its COPY now completes under the stop token, decision 249: up to 300 ms before).
    $bound = 100
    $events = 1000000
    $customers = 200
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'Ctrl+C on <Backend>' -ForEach $backends {
    BeforeAll {
        if ($Backend -eq 'PostgreSQL' -and -not (Test-PostgresAvailable)) { return }
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'big' -Databases $databases
        $second = New-BackendStore -Backend $Backend -Directory $work -Name 'import' -Databases $databases
        $exports = Join-Path $work "$Backend-exports"
        $files = Join-Path $work "$Backend-files"
        New-Item -ItemType Directory -Path $exports, $files -Force | Out-Null
        $environment = @{ NSELF_USAGE_STORE = $store; BILLING_EXPORT_DIR = $exports; BILLING_CACHE_DIR = (Join-Path $work "$Backend-cache"); NSELF_USAGE_TIMEZONE = $null }

        # Both stores made by the module (migrated), then a million events of this month written
        # by plain SQL, spread over the customers, with one quota each so a check has work to do.
        $now = [datetimeoffset]::UtcNow
        $month = [datetimeoffset]::new($now.Year, $now.Month, 1, 0, 0, 0, [timespan]::Zero)
        if (($now - $month).TotalHours -lt 2) { $month = $month.AddMonths(-1) }
        $spanSeconds = [long](($now - $month).TotalSeconds - 3600)
        $setup = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
`$null = Get-UsageService
Connect-UsageStore $(if ($Backend -eq 'SQLite') { "-Path '$second'" } else { "-ConnectionString '$second'" })
`$null = Get-UsageService
Disconnect-UsageStore
'READY'
"@
        $setup | Should -Contain 'READY'
        if ($Backend -eq 'SQLite') {
            $startMicros = $month.ToUnixTimeMilliseconds() * 1000
            Invoke-StoreSql $store @"
INSERT INTO billing_customers (customer_id, project_name, metadata, created_at, updated_at)
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $customers)
SELECT printf('cus_%03d', i), printf('cus_%03d', i), '{}', $startMicros, $startMicros FROM c WHERE true
ON CONFLICT DO NOTHING;
INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $events)
SELECT 'seed-' || i, printf('cus_%03d', 1 + i % $customers), 'api', 1000000, 'requests', '{"region":"r' || (i % 7) || '"}',
       $startMicros + (i * $spanSeconds / $events) * 1000000, $startMicros FROM n;
-- The module keeps SQLite's rollups as it writes (no insert trigger there): written here as it would.
INSERT INTO usage_rollups (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
SELECT customer_id, recorded_at - recorded_at % 900000000, service_name, count(*), sum(quantity), min(quantity), max(quantity)
FROM billing_usage_records GROUP BY 1, 2, 3;
INSERT INTO usage_rollups_daily (customer_id, bucket_start, service_name, events, quantity, min_quantity, max_quantity)
SELECT customer_id, recorded_at - recorded_at % 86400000000, service_name, count(*), sum(quantity), min(quantity), max(quantity)
FROM billing_usage_records GROUP BY 1, 2, 3;
"@ | Out-Null
        }
        else {
            $start = $month.ToString('yyyy-MM-ddTHH:mm:ssZ')
            Invoke-Psql $store @"
INSERT INTO billing_customers (customer_id, project_name) SELECT format('cus_%s', lpad(i::text, 3, '0')), format('cus_%s', lpad(i::text, 3, '0')) FROM generate_series(1, $customers) i ON CONFLICT DO NOTHING;
INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at)
SELECT 'seed-' || i, format('cus_%s', lpad((1 + i % $customers)::text, 3, '0')), 'api', 1, 'requests', jsonb_build_object('region', 'r' || (i % 7)),
       TIMESTAMPTZ '$start' + (i::bigint * $spanSeconds / $events) * interval '1 second' FROM generate_series(1, $events) i;
ANALYZE;
"@ | Out-Null
        }

        # Each long command, stopped after it has run for a while, in one fresh pwsh; then what
        # each stop left behind. One line per command: NAME=<json>.
        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
function Stop-While([string] `$Name, [string] `$Command, [string] `$Setup = '', [int] `$RunMs = 700) {
    `$ps = [powershell]::Create()
    try {
        `$null = `$ps.AddScript("Import-Module '$manifest'; Get-UsageService | Out-Null; `$Setup").Invoke()
        `$ps.Commands.Clear()
        `$null = `$ps.AddScript(`$Command)
        `$in = [System.Management.Automation.PSDataCollection[psobject]]::new(); `$in.Complete()
        `$out = [System.Management.Automation.PSDataCollection[psobject]]::new()
        `$async = `$ps.BeginInvoke(`$in, `$out)
        `$clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not `$async.IsCompleted -and `$clock.ElapsedMilliseconds -lt `$RunMs) { Start-Sleep -Milliseconds 5 }
        `$ranToEnd = `$async.IsCompleted
        `$stop = [Diagnostics.Stopwatch]::StartNew()
        # A stop that hangs is reported (StopMs from the 10 s given up after), not waited for.
        `$stopping = `$ps.BeginStop(`$null, `$null)
        `$null = `$stopping.AsyncWaitHandle.WaitOne(10000)
        `$stop.Stop()
        `$result = [ordered]@{
            StopMs = [math]::Round(`$stop.Elapsed.TotalMilliseconds, 1); RanToEnd = `$ranToEnd; State = "`$(`$ps.InvocationStateInfo.State)"
            Errors = @(`$ps.Streams.Error | ForEach-Object { "`$(`$_.FullyQualifiedErrorId): `$_" }); Progress = @(`$ps.Streams.Progress).Count
            ProgressDone = @(`$ps.Streams.Progress | Where-Object RecordType -eq Completed).Count; Output = `$out.Count
        }
        "`$Name=`$(`$result | ConvertTo-Json -Compress)"
    }
    finally { `$ps.Dispose() }
}
function Stored { [long](Get-Usage -AllCustomers -Start 2000-01-01 | Measure-Object Events -Sum).Sum }
function Left { "LEFT=`$((Get-ChildItem -LiteralPath '$exports' -Force | ForEach-Object Name) -join ',')" }
1..$customers | ForEach-Object { Set-UsageQuota -CustomerId ('cus_{0:d3}' -f `$_) -Service api -Limit 100000 }
"STORED=`$(Stored)"
Stop-While 'EXPORT' "Export-Usage -AllCustomers -Start 2000-01-01 -Path '$exports/stopped.csv'"
Left
Stop-While 'REPORT' "Export-UsageReport -AllCustomers -Path '$exports/stopped.html'" -RunMs 300
Left
Stop-While 'AGGREGATE' "Get-UsageAggregate -AllCustomers -Start '$($month.ToString('yyyy-MM-ddTHH:mm:ssZ'))' -Interval Hourly -GroupBy region"
Stop-While 'STATISTIC' "Get-UsageStatistic -AllCustomers -Days 3660"
Stop-While 'RECORDS' "Get-UsageRecord -AllCustomers -Start 2000-01-01 | ForEach-Object { ```$_ }"
`$first = [Diagnostics.Stopwatch]::StartNew()
`$one = @(Get-UsageRecord -AllCustomers -Start 2000-01-01 | Select-Object -First 1)
"FIRST=`$(`$one.Count)|`$([math]::Round(`$first.Elapsed.TotalMilliseconds))"
Stop-While 'INVOICE' "1..$customers | ForEach-Object { [pscustomobject]@{ CustomerId = 'cus_{0:d3}' -f ```$_ } } | New-BillingInvoice -Start '$($month.ToString('yyyy-MM-ddTHH:mm:ssZ'))' -End '$($now.ToString('yyyy-MM-ddTHH:mm:ssZ'))' -Confirm:```$false" -RunMs 1500
`$invoices = @(Get-BillingInvoice -AllCustomers)
"INVOICES=`$(`$invoices.Count)|`$(@(`$invoices | Where-Object { `$_.Lines.Count -eq 0 -or `$_.Subtotal -ne (`$_.Lines | Measure-Object Amount -Sum).Sum }).Count)"
Stop-While 'MOVE' "Move-UsageRecord -AllCustomers -OlderThanDays 0 -Path '$exports/archive.csv' -Confirm:```$false" -RunMs 1000
Left
"STORED=`$(Stored)"
`$file = Export-Usage -AllCustomers -Start 2000-01-01 -Path '$files/all.csv'
"EXPORTED=`$((Get-Item `$file).Length -gt 0)"
Stop-While 'IMPORT' "Import-UsageRecord -Path '$files/all.csv'" -Setup "Connect-UsageStore $(if ($Backend -eq 'SQLite') { "-Path '$second'" } else { "-ConnectionString '$second'" })" -RunMs 1500
Connect-UsageStore $(if ($Backend -eq 'SQLite') { "-Path '$second'" } else { "-ConnectionString '$second'" })
"IMPORTED=`$(Stored)"
"VERIFYIMPORT=`$(@(Test-UsageStore -Verify).Count)"
Disconnect-UsageStore
"VERIFY=`$(@(Test-UsageStore -Verify).Count)"
"@
        $results = @{}
        foreach ($line in $lines) {
            if ($line -match '^([A-Z]+)=(\{.*\})$') { $results[$Matches[1]] = $Matches[2] | ConvertFrom-Json }
        }
        Write-Host ($lines -join "`n")
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'stops <_> within the bound, as a stopped pipeline with no error record, after it really ran' -ForEach @('EXPORT', 'REPORT', 'AGGREGATE', 'STATISTIC', 'RECORDS', 'INVOICE', 'MOVE', 'IMPORT') {
        # Not Test-UsageQuota -AllCustomers: it reads the rollups and ends in tens of milliseconds at
        # this size, before a stop can reach it; it stops through the same per-step token as these.
        $result = $results[$_]
        $result | Should -Not -BeNullOrEmpty -Because ($lines -join "`n")
        $result.RanToEnd | Should -BeFalse -Because "$_ must still run when it is stopped (make the store bigger otherwise)"
        $result.State | Should -Be 'Stopped'
        $result.Errors | Should -BeNullOrEmpty -Because 'a stop is not a store failure'
        $result.StopMs | Should -BeLessThan $bound
    }

    It 'leaves no file, temporary or final, of a stopped export, report or archive' {
        @($lines | Where-Object { $_ -like 'LEFT=*' }) | Should -Be @('LEFT=', 'LEFT=', 'LEFT=')
    }

    It 'shows progress on the exports, the archive, the import and an invoice run over many customers' {
        foreach ($name in 'EXPORT', 'REPORT', 'MOVE', 'IMPORT', 'INVOICE') { $results[$name].Progress | Should -BeGreaterThan 0 -Because $name }
    }

    It 'keeps every event through a stopped archive, and the rollups equal the events' {
        @($lines | Where-Object { $_ -like 'STORED=*' }) | Should -Be @("STORED=$events", "STORED=$events")
        $lines | Should -Contain 'VERIFY=0'
    }

    It 'keeps the invoices made before the stop, each one whole, none half written' {
        $count, $broken = (($lines | Where-Object { $_ -like 'INVOICES=*' }) -replace '^INVOICES=') -split '\|'
        [int] $count | Should -BeGreaterThan 0
        [int] $count | Should -BeLessThan $customers
        [int] $count | Should -BeIn @($results['INVOICE'].Output, ($results['INVOICE'].Output + 1))
        [int] $broken | Should -Be 0
    }

    It 'keeps whole chunks of a stopped import, and the rollups equal the events' {
        $imported = [long](($lines | Where-Object { $_ -like 'IMPORTED=*' }) -replace '^IMPORTED=')
        $imported % 5000 | Should -Be 0
        $imported | Should -BeLessThan $events
        $lines | Should -Contain 'VERIFYIMPORT=0'
    }

    It 'returns the first record of a million promptly through Select-Object -First 1' {
        $count, $ms = (($lines | Where-Object { $_ -like 'FIRST=*' }) -replace '^FIRST=') -split '\|'
        [int] $count | Should -Be 1
        # The first row comes after the query has ordered the million (about a second here); the
        # rest is never read (a read of every row takes far longer).
        [int] $ms | Should -BeLessThan 3000
    }
}
