# Issue 17 item 2: the pipelines a PowerShell user types. Every per-customer command binds
# -CustomerId from the pipeline by property name and reads it per record, so two customers piped
# in come back as two customers' results; readers take a list (-CustomerId cus_a, cus_b); plain id
# strings pipe into Get-/Remove-BillingCustomer. Runs in this session against a seeded temp SQLite
# store: cus_a with 3 API requests, cus_b with 5, both on starter since two months and a day ago,
# and cus_other (not a billing customer) with 7, which no pipeline of cus_a and cus_b may read.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    # The commands that take -CustomerId, with whether it binds by property name. Not piped, on
    # purpose: Set-UsageConfiguration (the session's default, for no customer), Import-UsageRecord
    # (the customer of file rows that name none: piping file objects must not bind it) and
    # Test-UsageStore (-Verify's scope of a whole-store check).
    $script:unpiped = @('Set-UsageConfiguration', 'Import-UsageRecord', 'Test-UsageStore')
    $commands = @(Get-Command -Module NSelf.Usage | Where-Object { $_.Parameters.ContainsKey('CustomerId') } | Sort-Object Name | ForEach-Object {
            $attributes = @($_.Parameters['CustomerId'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            @{ Name = $_.Name; ByPropertyName = @($attributes | Where-Object ValueFromPipelineByPropertyName).Count -eq $attributes.Count; Exempt = $_.Name -in $script:unpiped }
        })
    Remove-Module NSelf.Usage
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_USAGE_STORE = Join-Path $work 'pipes.db'
    $env:NSELF_CUSTOMER_ID = 'cus_a'
    $start = (Get-Date).ToUniversalTime().AddMonths(-2).AddDays(-1)
    foreach ($customer in 'cus_a', 'cus_b') {
        New-BillingCustomer $customer -Name $customer.ToUpper() | Out-Null
        New-BillingSubscription $customer -Plan starter -Start $start | Out-Null
    }
    # A minute ago: this month, except in a month's first minute.
    $at = (Get-Date).ToUniversalTime().AddMinutes(-1)
    1..3 | ForEach-Object { Add-UsageApiRequest "/a/$_" -CustomerId cus_a -Timestamp $at }
    1..5 | ForEach-Object { Add-UsageApiRequest "/b/$_" -CustomerId cus_b -Timestamp $at }
    # Tracking adds no billing customer on SQLite? It may: then Get-BillingCustomer lists it, so it is removed.
    1..7 | ForEach-Object { Add-UsageApiRequest "/other/$_" -CustomerId cus_other -Timestamp $at }
    if (Get-BillingCustomer cus_other -ErrorAction SilentlyContinue) { Remove-BillingCustomer cus_other -Confirm:$false }

    # Per customer: the sum of Property (or the count of objects) over a command's output.
    function Measure-PerCustomer([object[]] $Output, [string] $Property) {
        $sums = [ordered]@{}
        foreach ($o in $Output) {
            $sums[$o.CustomerId] = $sums[$o.CustomerId] + ($Property ? [decimal] $o.$Property : 1)
        }
        $sums
    }
}

AfterAll {
    Remove-InProcessFixture -Work $work -Saved $saved
}

Describe 'Pipelines a user types' {
    BeforeEach { Push-Location $work }
    AfterEach { Pop-Location }

    # Each gives two customers' results, each right, and nothing of the default customer.
    It '<Pipeline>' -ForEach @(
        @{ Pipeline = 'Get-BillingCustomer | Get-Usage -Service api'; Property = 'Quantity'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-Usage -Service api -Detailed'; Property = 'Quantity'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsageRecord'; Property = ''; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsageAggregate -Service api'; Property = 'Total'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsageStatistic -Service api'; Property = 'Events'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsageTrend -Service api -Days 3'; Property = 'Events'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsagePeak -Service api -Interval Daily'; Property = 'Events'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingSubscription -AllCustomers | Test-UsageQuota -Service api -WhatIf'; Property = 'Used'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-UsageQuota -Service api -IncludeUsage'; Property = 'Used'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingCustomer | Get-BillingSummary'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingCustomer | Get-BillingSubscription'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = "'cus_a', 'cus_b' | Get-BillingCustomer"; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingCustomer | New-BillingInvoice'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingCustomer | Get-BillingInvoice'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingCustomer | Get-BillingInvoice | Complete-BillingInvoice -Confirm:$false'; Property = ''; A = 1; B = 1 }
        # The readers' lists.
        @{ Pipeline = 'Get-Usage -CustomerId cus_a, cus_b -Service api'; Property = 'Quantity'; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsageRecord -CustomerId cus_a, cus_b'; Property = ''; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsageAggregate -CustomerId cus_a, cus_b -Service api'; Property = 'Total'; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsageStatistic -CustomerId cus_a, cus_b -Service api'; Property = 'Total'; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsageTrend -CustomerId cus_a, cus_b -Service api -Days 3'; Property = 'Events'; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsagePeak -CustomerId cus_a, cus_b -Service api'; Property = 'Events'; A = 3; B = 5 }
        @{ Pipeline = 'Test-UsageQuota -CustomerId cus_a, cus_b -Service api -WhatIf'; Property = 'Used'; A = 3; B = 5 }
        @{ Pipeline = 'Get-UsageQuota -CustomerId cus_a, cus_b -Service api -IncludeUsage'; Property = 'Used'; A = 3; B = 5 }
        @{ Pipeline = 'Get-BillingSummary -CustomerId cus_a, cus_b'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingSubscription -CustomerId cus_a, cus_b'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingCustomer -CustomerId cus_a, cus_b'; Property = ''; A = 1; B = 1 }
        @{ Pipeline = 'Get-BillingInvoice -CustomerId cus_a, cus_b'; Property = ''; A = 1; B = 1 }
    ) {
        $output = @(Invoke-Expression $Pipeline -ErrorAction Stop 3>$null)
        $sums = Measure-PerCustomer $output $Property
        @($sums.Keys | Sort-Object) | Should -Be @('cus_a', 'cus_b')
        $sums['cus_a'] | Should -Be $A
        $sums['cus_b'] | Should -Be $B
    }

    It 'Get-BillingCustomer | Export-UsageReport -Path ./reports/ writes one report per customer, named after it' {
        $files = @(Get-BillingCustomer | Export-UsageReport -Path ./reports/ -ErrorAction Stop)
        $files | Should -HaveCount 2
        @($files.Name | ForEach-Object { $_ -replace '_\d{8}_\d{6}\.html$', '' }) | Should -Be @('usage_report_cus_a', 'usage_report_cus_b')
        @(Get-ChildItem ./reports -File) | Should -HaveCount 2
        Get-Content -Raw $files[0].FullName | Should -Match 'cus_a'
        Get-Content -Raw $files[1].FullName | Should -Match 'cus_b'
    }

    It 'Export-Usage -CustomerId cus_a, cus_b -Path ./usage/ writes one file per customer with its own events' {
        $files = @(Export-Usage -CustomerId cus_a, cus_b -Path ./usage/ -ErrorAction Stop)
        $files | Should -HaveCount 2
        $files[0].Name | Should -BeLike 'usage_cus_a_*.csv'
        @(Import-Csv $files[0].FullName) | Should -HaveCount 3
        @(Import-Csv $files[1].FullName) | Should -HaveCount 5
        @(Import-Csv $files[1].FullName).CustomerId | Sort-Object -Unique | Should -Be 'cus_b'
    }

    It 'invoices piped into Export-BillingInvoice write one file each' {
        $files = @(Get-BillingInvoice -CustomerId cus_a, cus_b | Export-BillingInvoice -Format Json -Path ./invoices/ -ErrorAction Stop)
        $files | Should -HaveCount 2
        @($files | ForEach-Object { (Get-Content -Raw $_.FullName | ConvertFrom-Json).CustomerId } | Sort-Object) | Should -Be @('cus_a', 'cus_b')
    }

    It 'an object that binds no parameter is refused by PowerShell (InputObjectNotBound), never read as the default customer' {
        { [pscustomobject]@{ Name = 'no customer here' } | Get-UsageRecord -ErrorAction Stop } | Should -Throw -ErrorId 'InputObjectNotBound,NSelf.Usage.Commands.GetUsageRecordCommand'
    }

    It 'a piped CustomerId of <Given> is InvalidCustomerId, and the other piped customers are still read' -ForEach @(
        @{ Given = '$null'; Value = $null }
        @{ Given = "''"; Value = '' }
        @{ Given = "' '"; Value = ' ' }
    ) {
        $piped = [pscustomobject]@{ CustomerId = 'cus_a' }, [pscustomobject]@{ CustomerId = $Value }, [pscustomobject]@{ CustomerId = 'cus_b' }
        $failures = $null
        $rows = @($piped | Get-UsageRecord -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($failures) | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidCustomerId,*'
        @((Measure-PerCustomer $rows '').Keys | Sort-Object) | Should -Be @('cus_a', 'cus_b')
    }

    It 'an empty element of a -CustomerId list is InvalidCustomerId; the other customers are read' {
        $failures = $null
        $rows = @(Get-Usage -CustomerId cus_a, '', cus_b -Service api -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($failures) | Should -HaveCount 1
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidCustomerId,*'
        @($rows.CustomerId) | Should -Be @('cus_a', 'cus_b')
    }

    It 'a customer piped into a reader with -AllCustomers is refused, as the two together are' {
        $failures = $null
        $rows = @(Get-BillingCustomer | Get-Usage -AllCustomers -ErrorVariable failures -ErrorAction SilentlyContinue)
        $rows | Should -HaveCount 0
        @($failures) | Should -HaveCount 2
        $failures[0].FullyQualifiedErrorId | Should -BeLike 'InvalidArgument,*'
    }

    It 'plain id strings pipe into Remove-BillingCustomer' {
        New-BillingCustomer cus_gone1 | Out-Null
        New-BillingCustomer cus_gone2 | Out-Null
        'cus_gone1', 'cus_gone2' | Remove-BillingCustomer -Confirm:$false -ErrorAction Stop
        @(Get-BillingCustomer -IncludeRemoved | Where-Object CustomerId -like 'cus_gone*' | Where-Object DeletedAt) | Should -HaveCount 2
    }

    # Last: it adds an event of the default customer.
    It 'a piped object without a CustomerId property, binding other parameters, acts for the default customer ($env:NSELF_CUSTOMER_ID, cus_a)' {
        $before = @(Get-UsageRecord -CustomerId cus_a).Count
        [pscustomobject]@{ Endpoint = '/piped'; Method = 'POST' } | Add-UsageApiRequest -ErrorAction Stop
        @(Get-UsageRecord -CustomerId cus_a).Count | Should -Be ($before + 1)
    }
}

Describe 'Every -CustomerId binds from the pipeline' {
    # A new command with -CustomerId is covered without editing this file.
    It '<Name> binds -CustomerId by property name' -ForEach @($commands | Where-Object { -not $_.Exempt }) {
        $ByPropertyName | Should -BeTrue
    }

    # The exempt commands' -CustomerId is not a per-record customer (see BeforeDiscovery): it must
    # stay unbound, or the exemption is stale and the command belongs in the test above.
    It '<Name> (exempt) does not bind -CustomerId from the pipeline' -ForEach @($commands | Where-Object Exempt) {
        $ByPropertyName | Should -BeFalse
    }
}
