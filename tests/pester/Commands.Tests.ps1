# Command behaviour end to end: an unreachable store, -WhatIf, pipelines, customers, services,
# store commands and configuration. Bad input to every writing command is BadInput.Tests.ps1.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    Import-Module $manifest -Force
    $work = New-TestDirectory
    $savedCustomer = $env:NSELF_CUSTOMER_ID

    function Get-EventCount { @(Get-UsageRecord -AllCustomers).Count }
}

AfterAll {
    $env:NSELF_CUSTOMER_ID = $savedCustomer
    Remove-Item Env:NSELF_USAGE_STORE -ErrorAction SilentlyContinue
    Remove-Module NSelf.Usage -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Unreachable store' {
    It 'is StoreUnavailable, and Test-UsageStore says $false' {
        $blocker = Join-Path $work 'a-file'
        Set-Content -LiteralPath $blocker -Value 'not a folder'
        $env:NSELF_USAGE_STORE = Join-Path $blocker 'usage.db'
        $err = Get-SingleError { Add-UsageApiRequest /x -CustomerId cus_x }
        $err.FullyQualifiedErrorId | Should -BeLike 'StoreUnavailable,*'
        $err.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
        Test-UsageStore | Should -BeFalse
        (Test-UsageStore -Detailed).Error | Should -Not -BeNullOrEmpty
    }
}

Describe 'Tracking' {
    BeforeAll {
        $env:NSELF_USAGE_STORE = Join-Path $work 'tracking.db'
        $env:NSELF_CUSTOMER_ID = 'cus_track'
    }

    It 'stores each service in its unit with its metadata' {
        $records = @(
            Add-UsageApiRequest /api/users GET 200 -PassThru
            Add-UsageStorage 5368709120 24 -PassThru
            Add-UsageBandwidth 524288000 egress -PassThru
            Add-UsageCompute 3600 '{"instance":"t3.medium"}' -PassThru
            Add-UsageDatabaseQuery SELECT 45 -PassThru
            Add-UsageFunction sendEmail 120 256 -PassThru
        )
        $records | ForEach-Object { $_ | Should -BeOfType NSelf.Usage.UsageRecord }
        ($records | ForEach-Object { "$($_.Service)=$($_.Quantity) $($_.Unit)" }) | Should -Be @(
            'api=1 requests', 'storage=120 GB-hours', 'bandwidth=0.488281 GB', 'compute=1 CPU-hours', 'database=1 queries', 'functions=1 invocations')
        $records[4].MetadataObject.duration_ms | Should -Be 45
        $records[5].MetadataObject.function | Should -Be 'sendEmail'
    }

    It 'writes nothing under -WhatIf' {
        $before = Get-EventCount
        Add-UsageApiRequest /whatif -WhatIf
        Add-UsageRecord api 1 -WhatIf
        Get-EventCount | Should -Be $before
    }

    It 'takes Import-Csv rows by property name' {
        $csv = Join-Path $work 'events.csv'
        @(
            [pscustomobject]@{ Service = 'api'; Quantity = '1'; CustomerId = 'cus_csv'; Timestamp = '2026-11-02T10:00:00Z'; EventId = 'csv-1'; Metadata = '{"endpoint":"/a"}' }
            [pscustomobject]@{ Service = 'database'; Quantity = '3'; CustomerId = 'cus_csv'; Timestamp = '2026-11-02T10:05:00Z'; EventId = 'csv-2'; Metadata = '' }
            [pscustomobject]@{ Service = 'storage'; Quantity = '2.5'; CustomerId = 'cus_csv'; Timestamp = '2026-11-02 10:10:00'; EventId = 'csv-3'; Metadata = '{}' }
        ) | Export-Csv -LiteralPath $csv -NoTypeInformation
        Import-Csv $csv | Add-UsageRecord
        Import-Csv $csv | Add-UsageRecord   # a retry of the whole file changes nothing
        $usage = Get-Usage 2026-11-02 2026-11-02 -CustomerId cus_csv
        ($usage | ForEach-Object { "$($_.Service)=$($_.Quantity)/$($_.Events)" }) | Should -Be @('api=1/1', 'storage=2.5/1', 'database=3/1')
    }

    It 'records a registered custom service and refuses to change a built-in one' {
        Register-UsageService -Name tokens -Unit tokens -Price 0.000002 -PassThru | Should -BeOfType NSelf.Usage.UsageService
        Add-UsageRecord tokens 1500 -Timestamp '2026-11-03T00:00:00Z'
        (Get-Usage 2026-11-03 2026-11-03 -Service tokens).Cost | Should -Be 0.003
        $err = Get-SingleError { Register-UsageService -Name api -Unit calls -Force }
        $err.FullyQualifiedErrorId | Should -BeLike 'ServiceExists,*'
        (Get-UsageService tokens).Unit | Should -Be 'tokens'
    }

    It 'pages raw records with -First and -Skip' {
        1..5 | ForEach-Object { Add-UsageApiRequest "/page/$_" -CustomerId cus_page -Timestamp ([datetimeoffset]'2026-11-04T00:00:00Z').AddMinutes($_) }
        (Get-UsageRecord -CustomerId cus_page -Skip 1 -First 2).MetadataObject.endpoint | Should -Be @('/page/2', '/page/3')
        $total = Get-UsageRecord -CustomerId cus_page -IncludeTotalCount -First 1 | Select-Object -First 1
        # PowerShell's total-count object wraps the number: compare the number itself, exactly
        # (a pattern '5' would also take 15 or 50).
        $total.PSObject.BaseObject | Should -BeOfType [UInt64]
        [decimal]$total.PSObject.BaseObject | Should -Be ([decimal]5)
        $total.ToString() | Should -BeExactly 'Total count: 5'
    }
}

Describe 'Customers' {
    BeforeAll { $env:NSELF_USAGE_STORE = Join-Path $work 'customers.db' }

    It 'are created, read, changed and removed' {
        $customer = New-BillingCustomer cus_acme -Name 'Acme Corp' -Email billing@acme.example -Metadata @{ tier = 'gold' }
        $customer | Should -BeOfType NSelf.Usage.BillingCustomer
        $customer.MetadataObject.tier | Should -Be 'gold'
        Set-BillingCustomer cus_acme -Company 'Acme Holdings' -PassThru | ForEach-Object Company | Should -Be 'Acme Holdings'
        (Get-BillingCustomer 'cus_ac*').CustomerId | Should -Be 'cus_acme'
        Remove-BillingCustomer cus_acme -Confirm:$false
        Get-BillingCustomer | Should -BeNullOrEmpty
        (Get-BillingCustomer cus_acme -IncludeRemoved).DeletedAt | Should -Not -BeNullOrEmpty
    }

    It 'refuse usage once removed' {
        New-BillingCustomer cus_gone | Out-Null
        Remove-BillingCustomer cus_gone -Confirm:$false
        $err = Get-SingleError { Add-UsageApiRequest /x -CustomerId cus_gone }
        $err.FullyQualifiedErrorId | Should -BeLike 'CustomerRemoved,*'
    }

    It 'report a second customer with the same id as CustomerExists' {
        New-BillingCustomer cus_twice | Out-Null
        (Get-SingleError { New-BillingCustomer cus_twice }).FullyQualifiedErrorId | Should -BeLike 'CustomerExists,*'
    }
}

Describe 'Store and configuration commands' {
    It 'connect, describe, test, initialize and disconnect a SQLite store' {
        $path = Join-Path $work 'connected.db'
        $store = Connect-UsageStore -Path $path -PassThru
        $store | Should -BeOfType NSelf.Usage.UsageStore
        $store.Backend | Should -Be 'Sqlite'
        $store.Source | Should -Be 'Connected'
        $store.SchemaVersion | Should -Be $store.LatestSchemaVersion
        Test-UsageStore | Should -BeTrue
        (Test-UsageStore -Detailed).Writable | Should -BeTrue
        Initialize-UsageStore | Should -BeNullOrEmpty   # already current: nothing to apply
        (Get-UsageStore).Location | Should -Be $path
        Disconnect-UsageStore
        (Get-UsageStore).Source | Should -Not -Be 'Connected'
    }

    It 'carry batch mode over to the store Connect-UsageStore or Disconnect-UsageStore switches to' {
        $savedCache = $env:BILLING_CACHE_DIR
        $savedStore = $env:NSELF_USAGE_STORE
        try {
            $env:BILLING_CACHE_DIR = Join-Path $work 'follow-cache'
            $env:NSELF_USAGE_STORE = Join-Path $work 'follow-default.db'
            $first = Join-Path $work 'follow-first.db'
            $second = Join-Path $work 'follow-second.db'
            Connect-UsageStore -Path $first
            Start-UsageBatch -Size 1000 -FlushInterval 3600 | Out-Null
            1..3 | ForEach-Object { Add-UsageApiRequest /first -CustomerId cus_follow }
            Connect-UsageStore -Path $second
            (Get-UsageBatch).Store | Should -BeLike '*follow-second.db'
            1..2 | ForEach-Object { Add-UsageApiRequest /second -CustomerId cus_follow }
            Disconnect-UsageStore
            (Get-UsageBatch).Store | Should -BeLike '*follow-default.db'
            Add-UsageApiRequest /default -CustomerId cus_follow
            (Stop-UsageBatch).Pending | Should -Be 0

            # Each store holds what was tracked while it was current, and nothing else.
            @(Get-UsageRecord -CustomerId cus_follow).Metadata | Should -Be @('{"endpoint":"/default","method":"GET","status":200}')
            Connect-UsageStore -Path $second
            @(Get-UsageRecord -CustomerId cus_follow).Count | Should -Be 2
            Connect-UsageStore -Path $first
            @(Get-UsageRecord -CustomerId cus_follow).Count | Should -Be 3
        }
        finally {
            Stop-UsageBatch -ErrorAction SilentlyContinue | Out-Null
            Disconnect-UsageStore
            $env:BILLING_CACHE_DIR = $savedCache
            $env:NSELF_USAGE_STORE = $savedStore
        }
    }

    It 'set a session customer id and time zone that Get-UsageConfiguration reports' {
        $env:NSELF_CUSTOMER_ID = 'cus_env'
        Set-UsageConfiguration -CustomerId cus_session -TimeZone Europe/Berlin
        $configuration = Get-UsageConfiguration
        $configuration.CustomerId | Should -Be 'cus_session'
        $configuration.CustomerIdSource | Should -Be 'Set-UsageConfiguration'
        $configuration.TimeZone | Should -Be 'Europe/Berlin'
        Set-UsageConfiguration -CustomerId '' -TimeZone ''
        (Get-UsageConfiguration).CustomerIdSource | Should -Be '$env:NSELF_CUSTOMER_ID'
    }
}
