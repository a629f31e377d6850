# Many hosts, one store: four separate pwsh processes each send 25,000 events at the same time,
# to one PostgreSQL database and to one SQLite file. Exactly 100,000 are stored and the rollups
# agree with the raw events hour by hour.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'Four processes writing one <Backend> store at once' -ForEach $backends {
    BeforeAll {
        # No store where Skip-WithoutPostgres skips the test: there is no server to make one on.
        $store = $null
        if ($Backend -eq 'SQLite' -or (Test-PostgresAvailable)) { $store = New-BackendStore -Backend $Backend -Directory $work -Name 'fleet' -Databases $databases }
    }
    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'store exactly 100,000 events with rollups that match the raw events' {
        # Every writer reports its errors and that it finished: a lost event must come with a
        # reason, or be named by id below.
        $jobs = 1..4 | ForEach-Object {
            Start-ThreadJob -ArgumentList $_, $store, $manifest, (Join-Path $PSScriptRoot 'TestSupport.psm1') -ScriptBlock {
                param($n, $store, $manifest, $support)
                Import-Module $support
                Invoke-Pwsh -AllowFailure -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
`$t = [datetimeoffset]'2026-11-05T00:00:00Z'
`$events = foreach (`$i in 1..25000) { [pscustomobject]@{ Service = ('api', 'database')[`$i % 2]; Quantity = 1; CustomerId = "cus_fleet`$(`$i % 3)"; EventId = "host$n-`$i"; Timestamp = `$t.AddSeconds(`$i) } }
`$events | Add-UsageRecord -ErrorVariable failed -ErrorAction SilentlyContinue
foreach (`$e in `$failed) { "host$n error `$(`$e.FullyQualifiedErrorId): `$e" }
"host$n done"
"@
            }
        }
        $reports = $jobs | Wait-Job | Receive-Job
        $jobs | Where-Object State -NE 'Completed' | Should -BeNullOrEmpty
        $reports | Sort-Object | Should -Be @('host1 done', 'host2 done', 'host3 done', 'host4 done')
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
(Get-Usage 2026-11-05 2026-11-05 -AllCustomers | Measure-Object Events -Sum).Sum
(Get-UsageRecord 2026-11-05 2026-11-05 -AllCustomers | Measure-Object).Count
`$fromRollups = Get-UsageAggregate Hourly 2026-11-05 2026-11-05 -AllCustomers | ForEach-Object { '{0:HH} {1} {2} {3}' -f `$_.Period, `$_.CustomerId, `$_.Service, `$_.Events } | Sort-Object
`$fromRecords = Get-UsageRecord 2026-11-05 2026-11-05 -AllCustomers | Group-Object { '{0:HH} {1} {2}' -f `$_.Timestamp, `$_.CustomerId, `$_.Service } | ForEach-Object { '{0} {1}' -f `$_.Name, `$_.Count } | Sort-Object
(Compare-Object `$fromRollups `$fromRecords | Measure-Object).Count
"@
        if ($lines[1] -ne '100000') {
            # Name the events that are not where they should be, wherever in time they were stored.
            $stored = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
Get-UsageRecord -AllCustomers | ForEach-Object { '{0} {1} {2:o}' -f `$_.EventId, `$_.CustomerId, `$_.Timestamp }
"@
            $have = [Collections.Generic.HashSet[string]]::new([string[]]($stored | ForEach-Object { ($_ -split ' ')[0] }))
            $missing = foreach ($n in 1..4) { foreach ($i in 1..25000) { if (-not $have.Contains("host$n-$i")) { "host$n-$i" } } }
            $outside = $stored | Where-Object { $_ -notmatch ' 2026-11-05T' }
            "missing: $($missing -join ', '); stored outside the day: $($outside -join ', ')" | Should -Be 'missing: ; stored outside the day: '
        }
        $lines | Should -Be @('100000', '100000', '0')
    }
}
