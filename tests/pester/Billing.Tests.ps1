# Billing "Done means", run as a user would in fresh pwsh processes, on SQLite and PostgreSQL:
# quota levels with one alert each, and an invoice that bills overage to the cent, once, with
# late usage as an adjustment on the next invoice.
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

Describe 'Billing on <Backend>' -ForEach $backends {
    BeforeAll {
        function New-BillingStore([string] $Name) { New-BackendStore -Backend $Backend -Directory $work -Name $Name -Databases $databases }
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'warns at 8,000, 9,500 and 10,500 requests on the free plan, one alert each, and refuses more past the hard limit' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'quota'); NSELF_CUSTOMER_ID = 'cus_free' } -Script @"
Import-Module '$manifest'
New-BillingSubscription -Plan free | Out-Null
function Use([int] `$count) { Add-UsageRecord -Record ([string[]]::new(`$count).ForEach({ 'api:1' })) }
function Check { Test-UsageQuota -Service api 3>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.WarningRecord]) { 'warning: ' + `$_.Message } else { 'level: ' + `$_.Level } } }
Use 8000; Check; Check
Use 1500; Check
Use 1000; Check
Test-UsageQuota -Service api -Quantity 1 -Quiet
(Get-UsageAlert -Days 1).Level -join ','
"@
        $lines | Should -Be @(
            'warning: api usage at 80% - 8000/10000', 'level: Warning'
            'level: Warning'
            'warning: CRITICAL: api usage at 95% - 9500/10000', 'level: Critical'
            'warning: QUOTA EXCEEDED: api - 10500/10000 (105%)', 'level: Exceeded'
            'False'
            'Warning,Critical,Exceeded'
        )
    }

    It 'invoices a starter customer''s overage to the cent, never twice, and late usage as an adjustment' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'invoice'); NSELF_CUSTOMER_ID = 'cus_starter' } -Script @"
Import-Module '$manifest'
`$now = [datetimeoffset]::UtcNow
`$start = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-2)
New-BillingSubscription -Plan starter -Start `$start | Out-Null
`$last = `$start.AddMonths(1)
# 150,000 requests and 12.5 GB of bandwidth in the last closed period.
`$events = foreach (`$i in 1..1500) { [pscustomobject]@{ Service = 'api'; Quantity = 100; Timestamp = `$last.AddMinutes(`$i) } }
`$events | Add-UsageRecord
Add-UsageBandwidth -Bytes 13421772800 -Timestamp `$last.AddDays(3)
`$invoice = New-BillingInvoice
# "`$(...)" writes numbers in the invariant culture (-f would use the session culture's 29,00).
`$invoice.Lines | ForEach-Object { "`$(`$_.Kind)|`$(`$_.Service)|`$(`$_.Billable)|`$(`$_.Amount)|`$(`$_.Events)" }
"total `$(`$invoice.Total)"
`$again = New-BillingInvoice -Force
'same {0}' -f (`$again.InvoiceId -eq `$invoice.InvoiceId)
`$final = Complete-BillingInvoice `$invoice.InvoiceId -Confirm:`$false
'status {0}' -f `$final.Status
'invoices {0}' -f @(Get-BillingInvoice).Count
# A request backdated into the invoiced period, after it was finalized.
Add-UsageRecord api 1000 -Timestamp `$last.AddDays(10)
"unchanged `$((Get-BillingInvoice `$invoice.InvoiceId).Total)"
`$next = New-BillingInvoice -Start `$last.AddMonths(1).ToString('yyyy-MM-dd') -End `$now.ToString('yyyy-MM-dd')
`$adjustment = `$next.Lines | Where-Object Kind -EQ Adjustment
"adjustment `$(`$adjustment.Service) `$(`$adjustment.Quantity) `$(`$adjustment.Amount) `$(`$adjustment.PeriodStart -eq `$invoice.PeriodStart)"
`$file = Export-BillingInvoice `$invoice.InvoiceId -Path ./
'html {0}' -f ((Get-Content `$file.FullName -Raw) -match 'INV-')
"@ -WorkingDirectory $work
        $lines | Should -Be @(
            'BaseFee||1|29.00|0'
            'Usage|api|50000|5.00|1500'
            'Usage|bandwidth|0|0.00|1'
            'total 34.00'
            'same True'
            'status Open'
            'invoices 1'
            'unchanged 34.00'
            'adjustment api 1000 0.10 True'
            'html True'
        )
    }
    # Issue 14, fix 2: a to-date figure prices as the invoice will.
    It 'prices storage in Get-BillingSummary over the whole period, as the invoice will, from the first hour' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'summary'); NSELF_CUSTOMER_ID = 'cus_early' } -Script @"
Import-Module '$manifest'
New-BillingSubscription -Plan starter | Out-Null
Add-UsageStorage 5368709120 24 | Out-Null
# 120 GB-hours over a month of 672 to 744 hours is well under the starter plan's 10 GB on average.
[string]::Format([cultureinfo]::InvariantCulture, 'summary {0}', @((Get-BillingSummary).UsageCost))
[string]::Format([cultureinfo]::InvariantCulture, 'usage {0}', @((Get-Usage -Period BillingPeriod -Service storage).Cost))
"@
        $lines | Should -Be @('summary 0.00', 'usage 0')
    }

    # Issue 14, fix 5: a period invoiced in parts bills the margin of the period's usage.
    It 'bills a period split in two as the whole period would: allowance once, tiers and flat fees not restarted' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'split') } -Script @"
Import-Module '$manifest'
`$now = [datetimeoffset]::UtcNow
`$start = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-1)
`$end = `$start.AddMonths(1)
`$split = `$start.AddDays(15)
Set-BillingPlan metered -PriceMonthly 0 -PriceYearly 0 | Out-Null
Set-UsageQuota -Plan metered -Service api -Limit 0 -OveragePrice 0 | Out-Null
function Split([string] `$customer, [decimal] `$before, [decimal] `$after) {
    Add-UsageRecord api `$before -CustomerId `$customer -Timestamp `$start.AddDays(4)
    Add-UsageRecord api `$after -CustomerId `$customer -Timestamp `$start.AddDays(19)
    `$parts = (New-BillingInvoice -CustomerId `$customer -Start `$start -End `$split), (New-BillingInvoice -CustomerId `$customer -Start `$split -End `$end)
    [string]::Format([cultureinfo]::InvariantCulture, '{0} {1}', @(`$customer, ((`$parts | ForEach-Object { (`$_.Lines | Where-Object Service -EQ api).Amount.ToString([cultureinfo]::InvariantCulture) }) -join ' + ')))
}
foreach (`$customer in 'cus_unit', 'cus_grad', 'cus_vol', 'cus_pkg') { New-BillingSubscription -CustomerId `$customer -Plan metered -Start `$start | Out-Null }
# 10 free, then 1.00 each: 5 + 15 used, 10 billable.
Set-UsageQuota -CustomerId cus_unit -Service api -Limit 10 -OveragePrice 1 | Out-Null
Split cus_unit 5 15
# The first 10 at 1.00, beyond at 0.50 plus 5.00 once: 8 + 6 = 8.00 + (17.00 - 8.00).
Set-UsageQuota -CustomerId cus_grad -Service api -Limit 0 -PricingModel Graduated -Tier @{ UpTo = 10; UnitPrice = 1 }, @{ UnitPrice = 0.5; FlatFee = 5 } | Out-Null
Split cus_grad 8 6
# Up to 10 at 1.00, more all at 0.80: 8 = 8.00, 14 = 11.20.
Set-UsageQuota -CustomerId cus_vol -Service api -Limit 0 -PricingModel Volume -Tier @{ UpTo = 10; UnitPrice = 1 }, @{ UnitPrice = 0.8 } | Out-Null
Split cus_vol 8 6
# 2 free, packages of 5 at 3.00: 6 = 1 package, 8 = 2 packages.
Set-UsageQuota -CustomerId cus_pkg -Service api -Limit 2 -PricingModel Package -PackageSize 5 -PackagePrice 3 | Out-Null
Split cus_pkg 6 2
"@
        $lines | Should -Be @('cus_unit 0.00 + 10.00', 'cus_grad 8.00 + 9.00', 'cus_vol 8.00 + 3.20', 'cus_pkg 3.00 + 3.00')
    }

    It 'bills the base fee of a period in thirds as 9.67 + 9.66 + 9.67, not 29.01' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'thirds'); NSELF_CUSTOMER_ID = 'cus_thirds' } -Script @"
Import-Module '$manifest'
`$now = [datetimeoffset]::UtcNow
`$start = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-1)
`$third = [timespan]::FromTicks((`$start.AddMonths(1) - `$start).Ticks / 3)
New-BillingSubscription -Plan starter -Start `$start | Out-Null
`$fees = foreach (`$i in 0..2) { (New-BillingInvoice -Start `$start.Add(`$third * `$i) -End `$start.Add(`$third * (`$i + 1))).Lines[0].Amount }
(`$fees | ForEach-Object { `$_.ToString([cultureinfo]::InvariantCulture) }) -join ' '
[string]::Format([cultureinfo]::InvariantCulture, 'sum {0}', @((`$fees[0] + `$fees[1] + `$fees[2])))
"@
        $lines | Should -Be @('9.67 9.66 9.67', 'sum 29.00')
    }

    # Issue 14, fix 13: a daily allowance covers each day.
    It 'gives a daily allowance to each day of a monthly invoice' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'daily'); NSELF_CUSTOMER_ID = 'cus_daily' } -Script @"
Import-Module '$manifest'
`$now = [datetimeoffset]::UtcNow
`$start = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-1)
Set-BillingPlan metered -PriceMonthly 0 -PriceYearly 0 | Out-Null
Set-UsageQuota -Plan metered -Service api -Limit 10 -ResetPeriod Daily -OveragePrice 1 | Out-Null
New-BillingSubscription -Plan metered -Start `$start | Out-Null
# 10 on each of three days: each day's 10 are free.
foreach (`$day in 1..3) { Add-UsageRecord api 10 -Timestamp `$start.AddDays(`$day).AddHours(12) }
[string]::Format([cultureinfo]::InvariantCulture, 'three days {0}', @(((New-BillingInvoice -Start `$start -End `$start.AddDays(10)).Lines | Where-Object Service -EQ api).Amount))
# 12 on a fourth day: 2 over that day's allowance.
Add-UsageRecord api 12 -Timestamp `$start.AddDays(12).AddHours(12)
`$line = (New-BillingInvoice -Start `$start.AddDays(10) -End `$start.AddMonths(1)).Lines | Where-Object Service -EQ api
[string]::Format([cultureinfo]::InvariantCulture, 'fourth day {0} {1} {2}', @(`$line.Quantity, `$line.Billable, `$line.Amount))
"@
        $lines | Should -Be @('three days 0.00', 'fourth day 12 2 2.00')
    }

    # Issue 14, fix 2 follow-up: a past month costs what its invoice bills after a plan change.
    It 'prices last month under the plan it had after the customer moves to another plan, in the report, Get-Usage and the invoice alike' {
        $folder = Join-Path $work "$Backend-plan-change"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment @{ NSELF_USAGE_STORE = (New-BillingStore 'planchange'); NSELF_CUSTOMER_ID = 'cus_up' } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
`$now = [datetimeoffset]::UtcNow
`$thisMonth = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero)
`$lastMonth = `$thisMonth.AddMonths(-1)
New-BillingSubscription -Plan starter -Start `$lastMonth -TimeZone UTC | Out-Null
# 120,000 requests last month: 20,000 over starter's 100,000, 2.00 USD; pro includes them all.
1..10 | ForEach-Object { Add-UsageRecord -Service api -Quantity 12000 -Timestamp `$lastMonth.AddDays(3).AddMinutes(`$_) }
Set-BillingSubscription -Plan pro | Out-Null
`$from = `$lastMonth.ToString('yyyy-MM-dd'); `$to = `$thisMonth.AddDays(-1).ToString('yyyy-MM-dd')
Export-UsageReport -Path ./report.html -Start `$from -End `$to -TimeZone UTC | Out-Null
`$html = Get-Content -LiteralPath ./report.html -Raw
if (`$html -notmatch '<div class="muted">Cost</div><div class="value">(.*?)</div><div class="detail">(.*?)</div>') { throw 'no cost card' }
'report {0}: {1}' -f (`$Matches[1] -replace '<[^>]+>'), [System.Net.WebUtility]::HtmlDecode((`$Matches[2] -replace '<[^>]+>'))
[string]::Format([cultureinfo]::InvariantCulture, 'usage {0}', @((Get-Usage -Start `$from -End `$to -Service api -TimeZone UTC).Cost))
`$invoice = New-BillingInvoice -Start `$from -End `$to -TimeZone UTC
[string]::Format([cultureinfo]::InvariantCulture, 'invoice {0} {1}', @(`$invoice.Plan, `$invoice.Total))
"@
        $lines | Should -Be @('report 31.00 USD: 29.00 USD base fee + 2.00 USD usage', 'usage 2', 'invoice starter 31.00')
    }
}
