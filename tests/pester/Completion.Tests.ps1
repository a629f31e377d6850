# Issue 17 item 8: tab completion of -TimeZone (IANA ids), -InvoiceId (the store's invoices, of
# the -CustomerId typed), -GroupBy (the metadata keys of the store's recent events) and the names
# of alert actions (issue 20: -Name of Get-/Remove-UsageAlertAction, -Action of
# Get-UsageAlertDelivery), through
# TabExpansion2 in a fresh pwsh against a seeded SQLite store; and a completer never fails or hangs:
# a store that is missing or does not answer completes nothing, quickly, and is not created.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture

    # Runs Body in a fresh pwsh with the module; NSELF_USAGE_STORE is Store. Returns its lines.
    function Invoke-Fresh([string] $Store, [string] $Body) {
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$manifest'
function Complete([string] `$line) {
    (TabExpansion2 -inputScript `$line -cursorColumn `$line.Length).CompletionMatches.CompletionText -join ','
}
$Body
"@
        Invoke-Pwsh -Script $script -Environment @{ NSELF_USAGE_STORE = $Store; NSELF_CUSTOMER_ID = 'cus_a'; BILLING_CACHE_DIR = (Join-Path $work 'cache') } -WorkingDirectory $work
    }

    function Get-Line([string[]] $Lines, [string] $Label) {
        ($Lines | Where-Object { $_ -like "${Label}: *" -or $_ -eq "${Label}:" } | Select-Object -First 1) -replace "^${Label}: ?", ''
    }

    $seeded = Join-Path $work 'seeded.db'
    $output = Invoke-Fresh $seeded @'
foreach ($c in 'cus_a', 'cus_b') {
    New-BillingSubscription $c -Plan starter -Start (Get-Date).AddMonths(-2).AddDays(-1) | Out-Null
    Add-UsageRecord -CustomerId $c -Service api -Quantity 1 -Metadata @{ region = 'eu'; "tier $c" = 'x' }
    $invoice = New-BillingInvoice -CustomerId $c
    "invoice ${c}: " + $invoice.InvoiceId
}
Add-UsageApiRequest /x -CustomerId cus_a
$finalized = Get-BillingInvoice -CustomerId cus_b | Complete-BillingInvoice -Confirm:$false
'credit note: ' + (New-BillingCreditNote $finalized.InvoiceId -Amount 1 -Reason completion -Confirm:$false).CreditNoteNumber
'timezone: ' + (Complete 'Get-Usage -TimeZone europe/ber')
'timezone utc: ' + (Complete 'Add-UsageApiRequest /x -TimeZone UT')
'timezone statistic: ' + (Complete 'Get-UsageStatistic -Start 2026-01-01 -TimeZone America/New_')
'invoices: ' + (Complete 'Complete-BillingInvoice -InvoiceId ')
'invoices of cus_b: ' + (Complete 'Get-BillingInvoice -CustomerId cus_b -InvoiceId ')
'credit notes: ' + (Complete 'Export-BillingCreditNote -CreditNoteId ')
'credit notes of cus_a: ' + (Complete 'Get-BillingCreditNote -CustomerId cus_a -CreditNoteId ')
'groupby: ' + (Complete 'Get-Usage -GroupBy ')
'groupby prefix: ' + (Complete 'Get-UsageAggregate -GroupBy RE')
'groupby of cus_b: ' + (Complete 'Get-Usage -CustomerId cus_b -GroupBy ')
'groupby quoted: ' + (Complete 'Get-Usage -GroupBy tier')
$secret = ConvertTo-SecureString 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' -AsPlainText -Force
Register-UsageAlertAction ops-webhook -Webhook http://127.0.0.1:9/hook -Secret $secret | Out-Null
Register-UsageAlertAction ops-mail -Email ops@example.com | Out-Null
Register-UsageAlertAction 'Billing team' -Email billing@example.com -Level Exceeded | Out-Null
'actions: ' + (Complete 'Get-UsageAlertAction ')
'actions prefix: ' + (Complete 'Remove-UsageAlertAction -Name OPS-')
'actions tooltip: ' + ((TabExpansion2 -inputScript 'Get-UsageAlertAction ops-w' -cursorColumn 26).CompletionMatches.ToolTip -join ',')
'delivery actions: ' + (Complete 'Get-UsageAlertDelivery -Action b')
'@
}

AfterAll {
    Remove-SuiteFixture -Work $work -Databases $databases
}

Describe 'Completion' {
    It '-TimeZone completes IANA ids, prefix-matched without regard to case' {
        Get-Line $output 'timezone' | Should -Be 'Europe/Berlin'
        (Get-Line $output 'timezone utc') -split ',' | Should -Contain 'UTC'
        (Get-Line $output 'timezone statistic') -split ',' | Should -Be 'America/New_York'
    }

    It '-InvoiceId completes the store''s invoices, only the -CustomerId''s when one is typed' {
        $a = Get-Line $output 'invoice cus_a'
        $b = Get-Line $output 'invoice cus_b'
        $a | Should -Not -BeNullOrEmpty
        @((Get-Line $output 'invoices') -split ',' | Sort-Object) | Should -Be @($a, $b | Sort-Object)
        Get-Line $output 'invoices of cus_b' | Should -Be $b
    }

    It '-CreditNoteId completes the store''s credit notes by number, only the -CustomerId''s when one is typed' {
        $number = Get-Line $output 'credit note'
        $number | Should -Match '^INV-CN-\d{6}$'
        Get-Line $output 'credit notes' | Should -Be $number
        Get-Line $output 'credit notes of cus_a' | Should -BeNullOrEmpty
    }

    It '-GroupBy completes the metadata keys of the stored events, of the -CustomerId when one is typed, quoted when needed' {
        @((Get-Line $output 'groupby') -split ',') | Should -Be @('endpoint', 'method', 'region', 'status', "'tier cus_a'", "'tier cus_b'")
        Get-Line $output 'groupby prefix' | Should -Be 'region'
        Get-Line $output 'groupby of cus_b' | Should -Be "region,'tier cus_b'"
        Get-Line $output 'groupby quoted' | Should -Be "'tier cus_a','tier cus_b'"
    }

    It '-Name of Get-/Remove-UsageAlertAction and -Action of Get-UsageAlertDelivery complete the store''s alert actions, prefix-matched without regard to case, quoted when needed' {
        Get-Line $output 'actions' | Should -Be "'Billing team',ops-mail,ops-webhook"
        Get-Line $output 'actions prefix' | Should -Be 'ops-mail,ops-webhook'
        Get-Line $output 'actions tooltip' | Should -Be 'ops-webhook (Webhook: http://127.0.0.1:9/hook)'
        Get-Line $output 'delivery actions' | Should -Be "'Billing team'"
    }

    It 'a missing SQLite store completes nothing and is not created' {
        $missing = Join-Path $work 'missing/usage.db'
        $lines = Invoke-Fresh $missing @'
'invoices: ' + (Complete 'Complete-BillingInvoice -InvoiceId ')
'credit notes: ' + (Complete 'Export-BillingCreditNote -CreditNoteId ')
'credit notes of cus_a: ' + (Complete 'Get-BillingCreditNote -CustomerId cus_a -CreditNoteId ')
'groupby: ' + (Complete 'Get-Usage -GroupBy ')
'actions: ' + (Complete 'Remove-UsageAlertAction ')
'timezone: ' + (Complete 'Get-Usage -TimeZone Europe/Ber')
'@
        Get-Line $lines 'invoices' | Should -BeNullOrEmpty
        Get-Line $lines 'groupby' | Should -BeNullOrEmpty
        Get-Line $lines 'actions' | Should -BeNullOrEmpty
        Get-Line $lines 'timezone' | Should -Be 'Europe/Berlin'
        Test-Path -LiteralPath $missing | Should -BeFalse
    }

    It 'a PostgreSQL server that does not answer completes nothing, quickly' {
        # 10.255.255.1 is not routed: the connection attempt hangs until its 30-second timeout.
        $lines = Invoke-Fresh 'Host=10.255.255.1;Port=5432;Username=nobody;Password=x;Database=nothing;Timeout=30' @'
$watch = [Diagnostics.Stopwatch]::StartNew()
'credit notes: ' + (Complete 'Export-BillingCreditNote -CreditNoteId ')
'credit notes of cus_a: ' + (Complete 'Get-BillingCreditNote -CustomerId cus_a -CreditNoteId ')
'groupby: ' + (Complete 'Get-Usage -GroupBy ')
'invoices: ' + (Complete 'Complete-BillingInvoice -InvoiceId ')
'milliseconds: ' + [int]$watch.Elapsed.TotalMilliseconds
'@
        Get-Line $lines 'groupby' | Should -BeNullOrEmpty
        Get-Line $lines 'invoices' | Should -BeNullOrEmpty
        # Two completions of at most 1.5 s each, and some slack for a loaded machine.
        [int](Get-Line $lines 'milliseconds') | Should -BeLessThan 4000
    }
}
