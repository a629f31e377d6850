# Many hosts, one store: four separate pwsh processes each send 25,000 events at the same time,
# to one PostgreSQL database and to one SQLite file. Exactly 100,000 are stored and the rollups
# agree with the raw events hour by hour.
BeforeDiscovery {
    $backends = @(@{ Backend = 'SQLite' }; @{ Backend = 'PostgreSQL' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
}

AfterAll {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Four processes writing one <Backend> store at once' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Backend -eq 'PostgreSQL') {
            if (Test-PostgresAvailable) { $database = New-TestPostgresDatabase }
            $store = $database
        }
        else {
            $store = Join-Path $work 'fleet.db'
        }
    }
    AfterAll {
        if ($database) { Remove-TestPostgresDatabase $database }
    }

    It 'store exactly 100,000 events with rollups that match the raw events' {
        if (-not $store) { Set-ItResult -Skipped -Because 'no PostgreSQL test server'; return }
        $jobs = 1..4 | ForEach-Object {
            Start-ThreadJob -ArgumentList $_, $store, $manifest, (Join-Path $PSScriptRoot 'TestSupport.psm1') -ScriptBlock {
                param($n, $store, $manifest, $support)
                Import-Module $support
                Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
`$t = [datetimeoffset]'2026-11-05T00:00:00Z'
`$events = foreach (`$i in 1..25000) { [pscustomobject]@{ Service = ('api', 'database')[`$i % 2]; Quantity = 1; CustomerId = "cus_fleet`$(`$i % 3)"; EventId = "host$n-`$i"; Timestamp = `$t.AddSeconds(`$i) } }
`$events | Add-UsageRecord
"@
            }
        }
        $jobs | Wait-Job | Receive-Job | Out-Null
        $jobs | Where-Object State -NE 'Completed' | Should -BeNullOrEmpty
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
(Get-Usage 2026-11-05 2026-11-05 -AllCustomers | Measure-Object Events -Sum).Sum
(Get-UsageRecord 2026-11-05 2026-11-05 -AllCustomers | Measure-Object).Count
`$fromRollups = Get-UsageAggregate Hourly 2026-11-05 2026-11-05 -AllCustomers | ForEach-Object { '{0:HH} {1} {2} {3}' -f `$_.Period, `$_.CustomerId, `$_.Service, `$_.Events } | Sort-Object
`$fromRecords = Get-UsageRecord 2026-11-05 2026-11-05 -AllCustomers | Group-Object { '{0:HH} {1} {2}' -f `$_.Timestamp, `$_.CustomerId, `$_.Service } | ForEach-Object { '{0} {1}' -f `$_.Name, `$_.Count } | Sort-Object
(Compare-Object `$fromRollups `$fromRecords | Measure-Object).Count
"@
        $lines | Should -Be @('100000', '100000', '0')
    }
}
