# Issue 15: Test-UsageStore -Verify finds rollups that differ from the stored events after plain-SQL
# surgery (psql or the sqlite3 shell), -Repair -WhatIf changes nothing, -Repair rebuilds them and
# reads equal the raw rows again; bad input is refused with a stable id. On both stores.
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

Describe 'Test-UsageStore -Verify on <Backend>' -ForEach $backends {
    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'reports tampered rollups as objects, repairs them (not under -WhatIf), and refuses a blank customer and a bad start' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'verify' -Databases $databases
        $environment = @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_a' }
        Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
Add-UsageRecord -Record 'api:10' -Timestamp '2026-10-10T10:00:00Z'
Add-UsageRecord -Record 'api:5' -Timestamp '2026-10-10T10:05:00Z'
Add-UsageRecord -Record 'api:7' -Timestamp '2026-10-12T08:00:00Z' -CustomerId cus_b
"@ | Out-Null
        # An operator's surgery: one more unit in cus_a's quarter hour, cus_b's day deleted.
        $one = $Backend -eq 'PostgreSQL' ? '1' : '1000000'
        Invoke-StoreSql $store "UPDATE usage_rollups SET quantity = quantity + $one WHERE customer_id = 'cus_a'" | Out-Null
        Invoke-StoreSql $store "DELETE FROM usage_rollups_daily WHERE customer_id = 'cus_b'" | Out-Null

        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
function Row { process { "`$(`$_.Kind) `$(`$_.Rollup) `$(`$_.CustomerId) `$(`$_.Service) `$(`$_.BucketStart.ToString('yyyy-MM-dd HH:mm', [cultureinfo]::InvariantCulture)) `$(`$_.ExpectedEvents)/`$(`$_.StoredEvents) `$(`$_.ExpectedQuantity)/`$(`$_.StoredQuantity) `$(`$_.Repaired)" } }
Test-UsageStore -Verify | Row | ForEach-Object { "verify: `$_" }
Test-UsageStore -Verify -CustomerId cus_b | Row | ForEach-Object { "customer: `$_" }
Test-UsageStore -Verify -Start 2026-10-10T12:00:00Z -End 2026-10-11 | Row | ForEach-Object { "period: `$_" }
`$whatIf = @(Test-UsageStore -Verify -Repair -WhatIf)
"whatif: `$(`$whatIf.Count) emitted, `$(@(Test-UsageStore -Verify).Count) still differ"
Test-UsageStore -Verify -Repair | Row | ForEach-Object { "repair: `$_" }
"after: `$(@(Test-UsageStore -Verify).Count)"
Test-UsageStore -Verify -Verbose 4>&1 | ForEach-Object { "verbose: `$_" }
"usage: " + ((Get-Usage -Start 2026-10-01 -End 2026-11-01 -AllCustomers | Sort-Object CustomerId | ForEach-Object { "`$(`$_.CustomerId)=`$(`$_.Quantity)" }) -join ',')
Test-UsageStore -Verify -CustomerId '' -ErrorVariable blank -ErrorAction SilentlyContinue | Row | ForEach-Object { "blank emitted: `$_" }
"blank: `$(`$blank[0].FullyQualifiedErrorId) `$(`$blank[0].CategoryInfo.Category) [`$(`$blank[0].TargetObject)]"
Test-UsageStore -Verify -Start 'last tuesday' -ErrorVariable badStart -ErrorAction SilentlyContinue | Row | ForEach-Object { "bad start emitted: `$_" }
"bad start: `$(`$badStart[0].FullyQualifiedErrorId) [`$(`$badStart[0].TargetObject)]"
"@
        $lines | Where-Object { $_ -like 'verify: *' } | Should -Be @(
            'verify: Different QuarterHour cus_a api 2026-10-10 10:00 2/2 15/16 False'
            'verify: Missing Day cus_b api 2026-10-12 00:00 1/ 7/ False')
        $lines | Where-Object { $_ -like 'customer: *' } | Should -Be 'customer: Missing Day cus_b api 2026-10-12 00:00 1/ 7/ False'
        # The period is widened to the whole UTC day of 2026-10-10 only.
        $lines | Where-Object { $_ -like 'period: *' } | Should -Be 'period: Different QuarterHour cus_a api 2026-10-10 10:00 2/2 15/16 False'
        $lines | Should -Contain 'whatif: 0 emitted, 2 still differ'
        ($lines | Where-Object { $_ -like 'What if:*' }) -join "`n" | Should -Match "cus_a' on 2026-10-10"
        $lines | Where-Object { $_ -like 'repair: *' } | Should -Be @(
            'repair: Different QuarterHour cus_a api 2026-10-10 10:00 2/2 15/16 True'
            'repair: Missing Day cus_b api 2026-10-12 00:00 1/ 7/ True')
        $lines | Should -Contain 'after: 0'
        # -Verbose also names the store and the time taken (issue 17 item 7): one of its lines says no difference.
        (@($lines | Where-Object { $_ -like 'verbose: *' }) -join "`n") | Should -Match 'no difference'
        $lines | Should -Contain 'usage: cus_a=15,cus_b=7'
        $lines | Where-Object { $_ -like '*emitted: *' } | Should -BeNullOrEmpty
        $lines | Should -Contain 'blank: InvalidCustomerId,NSelf.Usage.Commands.TestUsageStoreCommand InvalidArgument []'
        $lines | Where-Object { $_ -like 'bad start: *' } | Should -Match '^bad start: InvalidTimestamp,NSelf\.Usage\.Commands\.TestUsageStoreCommand \[last tuesday\]$'
        # Plain SQL agrees: the rollups equal the stored rows again.
        Invoke-StoreSql $store "SELECT sum(quantity) FROM usage_rollups_daily WHERE customer_id = 'cus_b'" | Should -Be ($Backend -eq 'PostgreSQL' ? '7.000000' : '7000000')
    }
}
