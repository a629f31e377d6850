# Issue 14, the store's edges, end to end in fresh pwsh processes: a mistyped store path is an
# error that creates nothing (only the default data folder is created on first use), and
# Test-UsageStore -Detailed tells stored events from archived ones on both stores.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
    # No store from the calling environment may leak into these processes.
    function Get-CleanEnvironment([hashtable] $With = @{}) {
        $environment = @{ NSELF_USAGE_STORE = $null; BILLING_DB_HOST = $null; NSELF_USAGE_HOME = (Join-Path $work 'home'); NSELF_CUSTOMER_ID = 'cus_store' }
        foreach ($key in $With.Keys) { $environment[$key] = $With[$key] }
        $environment
    }
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'A mistyped store path' {
    It 'Connect-UsageStore -Path into a missing folder is StoreUnavailable naming the folder, and creates nothing' {
        $root = Join-Path $work 'connect'
        New-Item -ItemType Directory -Path $root | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $root -Environment (Get-CleanEnvironment) -Script @"
Import-Module '$manifest'
`$failed = @(try { Connect-UsageStore -Path ./typo/dir/usage.db } catch { `$_ })
"ERROR=`$(`$failed[0].FullyQualifiedErrorId)"
"CATEGORY=`$(`$failed[0].CategoryInfo.Category)"
"NAMED=`$(`$failed[0].Exception.Message.Contains('$(Join-Path $root 'typo/dir')'))"
"TARGET=`$(`$failed[0].TargetObject)"
"SOURCE=`$((Get-UsageStore).Source)"
"@
        $lines | Should -Contain 'ERROR=StoreUnavailable,NSelf.Usage.Commands.ConnectUsageStoreCommand'
        $lines | Should -Contain 'CATEGORY=ResourceUnavailable'
        $lines | Should -Contain 'NAMED=True'
        $lines | Should -Contain "TARGET=$(Join-Path $root 'typo/dir')"
        $lines | Should -Not -Contain 'SOURCE=Connected' -Because 'the session keeps its previous store'
        Test-Path -LiteralPath (Join-Path $root 'typo') | Should -BeFalse -Because 'a typo must not create folders'
    }

    It 'NSELF_USAGE_STORE into a missing folder fails a scheduled report instead of exporting an empty one, and creates nothing' {
        $root = Join-Path $work 'scheduled'
        New-Item -ItemType Directory -Path $root | Out-Null
        $missing = Join-Path $root 'stroes/billing/usage.db'
        $lines = Invoke-Pwsh -WorkingDirectory $root -AllowFailure -Environment (Get-CleanEnvironment @{ NSELF_USAGE_STORE = $missing }) -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
try {
    Get-UsageRecord -AllCustomers | Export-Csv ./report.csv
    'EXPORTED'
}
catch {
    "ERROR=`$(`$_.FullyQualifiedErrorId)"
    "NAMED=`$(`$_.Exception.Message.Contains('$(Split-Path $missing)'))"
}
Add-UsageApiRequest /x -ErrorAction SilentlyContinue -ErrorVariable tracked
"TRACK=`$(`$tracked[0].FullyQualifiedErrorId)"
"HEALTHY=`$(Test-UsageStore)"
"@
        $lines | Should -Not -Contain 'EXPORTED'
        $lines | Should -Contain 'ERROR=StoreUnavailable,NSelf.Usage.Commands.GetUsageRecordCommand'
        $lines | Should -Contain 'NAMED=True'
        $lines | Should -Contain 'TRACK=StoreUnavailable,NSelf.Usage.Commands.AddUsageApiRequestCommand'
        $lines | Should -Contain 'HEALTHY=False'
        # The scheduled job itself: the process fails instead of exiting 0.
        { Invoke-Pwsh -WorkingDirectory $root -Environment (Get-CleanEnvironment @{ NSELF_USAGE_STORE = $missing }) -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
Get-UsageRecord -AllCustomers | Export-Csv ./scheduled.csv
"@ } | Should -Throw '*exited with 1*'
        Test-Path -LiteralPath (Join-Path $root 'stroes') | Should -BeFalse -Because 'a typo must not create folders'
    }

    It 'the default store still creates its data folder on first use, and a new file in an existing folder starts a store' {
        $dataHome = Join-Path $work 'first-use/NSelf.Usage'
        $existing = Join-Path $work 'existing'
        New-Item -ItemType Directory -Path $existing | Out-Null
        $lines = Invoke-Pwsh -Environment (Get-CleanEnvironment @{ NSELF_USAGE_HOME = $dataHome }) -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
Add-UsageApiRequest /x
"DEFAULT=`$((Get-UsageRecord | Measure-Object).Count)|`$((Get-UsageStore).Source)"
Connect-UsageStore -Path '$(Join-Path $existing 'new.db')'
Add-UsageApiRequest /y
"NEW=`$((Get-UsageRecord | Measure-Object).Count)"
"@
        $lines | Should -Contain 'DEFAULT=1|Default'
        $lines | Should -Contain 'NEW=1'
        Test-Path -LiteralPath (Join-Path $dataHome 'usage.db') | Should -BeTrue
    }
}

Describe 'Test-UsageStore -Detailed on <Backend>' -ForEach $backends {
    BeforeEach { Skip-WithoutPostgres $Backend -Because 'no PostgreSQL test server (run through build.ps1 Test)' }

    It 'reports stored and archived events apart after Move-UsageRecord' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'health' -Databases $databases
        $folder = Join-Path $work "$Backend-health"
        New-Item -ItemType Directory -Path $folder | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment (Get-CleanEnvironment @{ NSELF_USAGE_STORE = $store }) -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
1..6 | ForEach-Object { Add-UsageRecord api 1 -Timestamp "2026-01-0`$_" }
1..4 | ForEach-Object { Add-UsageRecord api 1 }
"BEFORE=`$((Test-UsageStore -Detailed | ForEach-Object { "`$(`$_.StoredEvents)|`$(`$_.ArchivedEvents)" }))"
Move-UsageRecord -OlderThanDays ((Get-Date) - [datetime]'2026-02-01').Days -Path ./january.csv -Confirm:`$false | Out-Null
`$health = Test-UsageStore -Detailed
"AFTER=`$(`$health.StoredEvents)|`$(`$health.ArchivedEvents)"
"LISTED=`$((`$health | Out-String) -match 'StoredEvents\s*:\s*4' -and (`$health | Out-String) -match 'ArchivedEvents\s*:\s*6')"
"EVENTS=`$((Get-Usage 2026-01-01 2026-01-31).Events)"
"@
        $lines | Should -Contain 'BEFORE=10|0'
        $lines | Should -Contain 'AFTER=4|6' -Because 'archived events are no longer stored'
        $lines | Should -Contain 'LISTED=True' -Because 'the format view shows both, by their names'
        $lines | Should -Contain 'EVENTS=6' -Because 'usage totals still count the archived events'
    }
}
