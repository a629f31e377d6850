# What the quota commands write (issue 14): Set-UsageQuota -CustomerId registers a customer the
# store has not seen, as tracking does (fix 6), and Test-UsageQuota -WhatIf checks and emits every
# status but records no alert (fix 15). On SQLite, and on PostgreSQL when the test server is there.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null

    function Get-AlertState {
        @(Get-UsageAlert -AllCustomers -Days 30 | Sort-Object CustomerId, Service, Level |
                ForEach-Object { "$($_.CustomerId) $($_.Service) $($_.Level) $($_.PeriodStart.UtcTicks)" }) -join "`n"
    }
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'Quota writes on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work 'quota.db')
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'Set-UsageQuota -CustomerId for a customer the store has not seen registers it and sets the quota' {
        Get-BillingCustomer -CustomerId cus_new -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Set-UsageQuota -CustomerId cus_new -Service api -Limit 5 -ErrorVariable failed -ErrorAction SilentlyContinue
        @($failed | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) | Should -BeNullOrEmpty
        (Get-BillingCustomer -CustomerId cus_new).CustomerId | Should -Be 'cus_new'
        $quota = Get-UsageQuota -CustomerId cus_new | Where-Object Service -eq 'api'
        $quota.Limit | Should -Be 5
        # The override is in force: 4 of 5 requests is 80%, a warning.
        Add-UsageRecord -CustomerId cus_new -Service api -Quantity 4
        (Test-UsageQuota -CustomerId cus_new -Service api -WarningAction SilentlyContinue).Level | Should -Be 'Warning'
    }

    It 'Set-UsageQuota -CustomerId for a removed customer is CustomerRemoved and writes nothing' {
        Add-UsageRecord -CustomerId cus_gone -Service api -Quantity 1
        Remove-BillingCustomer cus_gone -Confirm:$false | Out-Null
        $failure = $null
        Set-UsageQuota -CustomerId cus_gone -Service api -Limit 5 -ErrorVariable failure -ErrorAction SilentlyContinue
        @($failure) | Should -HaveCount 1
        $failure[0].FullyQualifiedErrorId | Should -BeLike 'CustomerRemoved,*'
        $failure[0].TargetObject | Should -Be 'cus_gone'
        Get-UsageQuota -CustomerId cus_gone | Where-Object CustomerId -eq 'cus_gone' | Should -BeNullOrEmpty
    }

    It 'Test-UsageQuota -WhatIf emits the statuses, says which alert it would record, and records none' {
        New-BillingSubscription -CustomerId cus_whatif -Plan free | Out-Null
        Add-UsageRecord -CustomerId cus_whatif -Service api -Quantity 9500
        $before = Get-AlertState
        $statuses = @(Test-UsageQuota -CustomerId cus_whatif -WhatIf -WarningVariable warned -WarningAction SilentlyContinue)
        $statuses.Count | Should -BeGreaterThan 1
        $api = $statuses | Where-Object Service -eq 'api'
        "$($api.Level)" | Should -Be 'Critical'
        $api.Used | Should -Be 9500
        $api.Alerted | Should -BeFalse
        @($warned) | Should -BeNullOrEmpty -Because 'no alert was recorded, so none is announced'
        Get-AlertState | Should -BeExactly $before
        (Get-UsageAlert -CustomerId cus_whatif -Days 30) | Should -BeNullOrEmpty

        # -WhatIf writes its line to the host: a child's output captures it.
        $shown = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $env:NSELF_USAGE_STORE; BILLING_CACHE_DIR = $env:BILLING_CACHE_DIR } -Script @"
Import-Module '$(Get-ModuleManifestPath)'
Test-UsageQuota -CustomerId cus_whatif -Service api -WhatIf | Out-Null
"@
        ($shown -join "`n") | Should -Match 'What if: .*Record a quota alert \(Critical\).*api usage at 95% - 9500/10000.*cus_whatif api'
        Get-AlertState | Should -BeExactly $before

        # Without -WhatIf the same check records the alert and warns, once.
        $recorded = @(Test-UsageQuota -CustomerId cus_whatif -Service api -WarningVariable warnedNow -WarningAction SilentlyContinue)
        $recorded[0].Alerted | Should -BeTrue
        "$warnedNow" | Should -Match 'CRITICAL: api usage at 95%'
        @(Get-UsageAlert -CustomerId cus_whatif -Days 30 | ForEach-Object { "$($_.Service) $($_.Level)" }) | Should -Be @('api Critical')

        # An alert already recorded is not offered again.
        $again = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $env:NSELF_USAGE_STORE; BILLING_CACHE_DIR = $env:BILLING_CACHE_DIR } -Script @"
Import-Module '$(Get-ModuleManifestPath)'
Test-UsageQuota -CustomerId cus_whatif -Service api -WhatIf | Out-Null
'DONE'
"@
        ($again -join "`n") | Should -Not -Match 'What if:'
        $again | Should -Contain 'DONE'
    }

    It 'Test-UsageQuota -Quiet -WhatIf still answers and records nothing' {
        New-BillingSubscription -CustomerId cus_quiet -Plan free | Out-Null
        Add-UsageRecord -CustomerId cus_quiet -Service api -Quantity 10000
        Test-UsageQuota -CustomerId cus_quiet -Service api -Quiet -WhatIf | Should -BeFalse
        Get-UsageAlert -CustomerId cus_quiet -Days 30 | Should -BeNullOrEmpty
        Test-UsageQuota -CustomerId cus_quiet -Service api -Quiet -WarningAction SilentlyContinue | Should -BeFalse
        (Get-UsageAlert -CustomerId cus_quiet -Days 30).Level | Should -Be 'Exceeded'
    }
}
