# Issue 14, the edges the differential suite found, as a user meets them in fresh pwsh processes on
# SQLite and PostgreSQL: an archived event at the ragged start of a read, and an invoice beyond
# nself's numeric(10,2) invoice columns.
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

Describe 'Edges on <Backend>' -ForEach $backends {
    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'counts an archived event in the partial quarter hour at the start of a read' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'archived-edge' -Databases $databases
        $archive = Join-Path $work "archived-edge-$Backend.csv"
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_edge' } -Script @"
Import-Module '$manifest'
# A quarter hour 40 days ago: the read starts 2 minutes into it, the event is 5 minutes into it.
`$quarter = [datetimeoffset]::UtcNow.AddDays(-40)
`$quarter = `$quarter.AddTicks(-(`$quarter.UtcTicks % [timespan]::FromMinutes(15).Ticks))
Add-UsageRecord -Service api -Quantity 5 -Timestamp `$quarter.AddMinutes(5)
(Get-Usage -Start `$quarter.AddMinutes(2) -Service api).Quantity
(Move-UsageRecord 30 '$archive' -Confirm:`$false).Deleted
(Get-Usage -Start `$quarter.AddMinutes(2) -Service api).Quantity
(Get-Usage -Start `$quarter.AddMinutes(2) -End `$quarter.AddMinutes(6) -Service api).Quantity
"@
        $lines | Should -Be @('5', '1', '5', '5')
    }

    It 'refuses an invoice beyond 99,999,999.99 with InvoiceTooLarge, naming the amount and the limit, and saves nothing' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'invoice-size' -Databases $databases
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_big' } -Script @"
Import-Module '$manifest'
Set-BillingPlan metered -PriceMonthly 0 -PriceYearly 0 | Out-Null
Set-UsageQuota -Plan metered -Service api -Limit 0 -OveragePrice 1 | Out-Null
New-BillingSubscription -Plan metered -Start 2026-01-01 | Out-Null
Add-UsageRecord -Service api -Quantity 100000000 -Timestamp '2026-02-05 12:00'
New-BillingInvoice -Start 2026-02-01 -End 2026-03-01 -WhatIf -ErrorAction SilentlyContinue -ErrorVariable preview
New-BillingInvoice -Start 2026-02-01 -End 2026-03-01 -ErrorAction SilentlyContinue -ErrorVariable refused | Out-Null
`$preview[0].Exception.ErrorId
`$refused[0].FullyQualifiedErrorId
`$refused[0].CategoryInfo.Category
`$refused[0].TargetObject.CustomerId
`$refused[0].Exception.Message
@(Get-BillingInvoice).Count
"@
        $lines[0..3] | Should -Be @('InvoiceTooLarge', 'InvoiceTooLarge,NSelf.Usage.Commands.NewBillingInvoiceCommand', 'InvalidData', 'cus_big')
        $lines[4] | Should -Match ([regex]::Escape('its subtotal would be 100,000,000.00 USD, beyond the largest amount an invoice holds (99,999,999.99'))
        $lines[5] | Should -Be '0'
    }
}
