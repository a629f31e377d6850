# Billing "Done means", run as a user would in fresh pwsh processes, on SQLite and PostgreSQL:
# quota levels with one alert each, and an invoice that bills overage to the cent, once, with
# late usage as an adjustment on the next invoice.
BeforeDiscovery {
    $backends = @(@{ Backend = 'SQLite' }; @{ Backend = 'PostgreSQL' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
    $databases = [System.Collections.Generic.List[string]]::new()
}

AfterAll {
    foreach ($database in $databases) { Remove-TestPostgresDatabase $database }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Billing on <Backend>' -ForEach $backends {
    BeforeAll {
        function New-BillingStore([string] $Name) {
            if ($Backend -eq 'SQLite') { return Join-Path $work "$Name.db" }
            $database = New-TestPostgresDatabase
            $databases.Add($database)
            $database
        }
    }

    BeforeEach {
        if ($Backend -eq 'PostgreSQL' -and -not (Test-PostgresAvailable)) {
            Set-ItResult -Skipped -Because 'no PostgreSQL test server'
        }
    }

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
`$final = Complete-BillingInvoice `$invoice.InvoiceId
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
}
