# Test-BillingInvoice, run as a user would in fresh pwsh processes, on SQLite and PostgreSQL: a clean
# store (finalized invoices, late usage billed as an adjustment) reports nothing, and what plain SQL
# does behind the module's back (an event sealed yet on no line, an event on two lines, a billed
# event changed or deleted) is reported with the event's id.
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

Describe 'Test-BillingInvoice on <Backend>' -ForEach $backends {
    BeforeAll {
        # Every row of the store as text: sqlite3 .dump or pg_dump --data-only (sequences included;
        # less the \restrict and \unrestrict lines, whose key pg_dump draws at random on each run).
        function Get-StoreFingerprint([string] $Store) {
            if ($Backend -eq 'SQLite') { $dump = & sqlite3 $Store .dump 2>&1 }
            else {
                $saved = $env:LC_ALL; $env:LC_ALL = 'C.UTF-8'
                try { $dump = & pg_dump --data-only --no-owner (ConvertTo-PostgresUri $Store) 2>&1 } finally { $env:LC_ALL = $saved }
            }
            if ($LASTEXITCODE) { throw "dumping the store failed: $dump" }
            ($dump | Where-Object { "$_" -notmatch '^\\(un)?restrict ' }) -join "`n"
        }
        function Scaled([decimal] $Quantity) { if ($Backend -eq 'SQLite') { [string]($Quantity * 1000000) } else { [string]$Quantity } }

        # Each discrepancy as one invariant line ("$(...)" formats decimals invariantly; G29 drops
        # the trailing zeros PostgreSQL's numeric(20,6) keeps, so both stores print alike).
        $script:Render = @'
function Show([Parameter(ValueFromPipeline)] $d) {
    process {
        $q = if ($null -eq $d.Quantity) { '-' } else { $d.Quantity.ToString('G29', [cultureinfo]::InvariantCulture) }
        $b = if ($null -eq $d.BilledQuantity) { '-' } else { $d.BilledQuantity.ToString('G29', [cultureinfo]::InvariantCulture) }
        "$($d.Kind)|$($d.CustomerId)|$($d.InvoiceId)|$(if ($d.EventId) { $d.EventId } else { '-' })|$($d.Service)|$q|$b|$($d.Lines -join ',')"
    }
}
'@

        if ($Backend -eq 'PostgreSQL' -and -not (Test-PostgresAvailable)) { return }
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'reconcile' -Databases $databases
        # Two months ago (UTC) a period A is invoiced and finalized: api events evt_1..evt_3 and one
        # bandwidth event. evt_late arrives after, for A's period: pending late usage first, then an
        # Adjustment on B, the next period's invoice, once that is finalized.
        $script:setup = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_recon' } -Script @"
Import-Module '$manifest' -ErrorAction Stop
$Render
`$ErrorActionPreference = 'Stop'
`$now = [datetimeoffset]::UtcNow
`$a = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero).AddMonths(-2)
`$b = `$a.AddMonths(1)
New-BillingSubscription -Plan starter -Start `$a | Out-Null
New-BillingSubscription -CustomerId cus_other -Plan starter -Start `$a | Out-Null
Add-UsageRecord api 100 -Timestamp `$a.AddDays(3) -EventId evt_1
Add-UsageRecord api 250.5 -Timestamp `$a.AddDays(4) -EventId evt_2
Add-UsageRecord api 100 -Timestamp `$a.AddDays(5) -EventId evt_3
Add-UsageRecord bandwidth 2 -Timestamp `$a.AddDays(6) -EventId evt_b1
Add-UsageRecord api 40 -CustomerId cus_other -Timestamp `$a.AddDays(6) -EventId evt_o1
`$first = New-BillingInvoice -Start `$a -End `$b | Complete-BillingInvoice -Confirm:`$false
New-BillingInvoice -CustomerId cus_other -Start `$a -End `$b | Complete-BillingInvoice -Confirm:`$false | Out-Null
"invoice `$(`$first.InvoiceId)"
"bandwidth line `$((`$first.Lines | Where-Object { `$_.Kind -eq 'Usage' -and `$_.Service -eq 'bandwidth' }).LineNumber)"
Add-UsageRecord api 7 -Timestamp `$a.AddDays(10) -EventId evt_late
"pending `$(@(Test-BillingInvoice).Count)"
`$next = New-BillingInvoice -Start `$b -End `$b.AddMonths(1) | Complete-BillingInvoice -Confirm:`$false
"adjustment `$((`$next.Lines | Where-Object Kind -EQ Adjustment | ForEach-Object { "`$(`$_.Service) `$(`$_.Quantity)" }) -join ';')"
"clean `$(@(Test-BillingInvoice).Count) `$(@(Test-BillingInvoice -AllCustomers).Count)"
Test-BillingInvoice -AllCustomers | Show
"@
        $script:invoice = ($setup | Where-Object { $_ -like 'invoice *' }) -replace '^invoice ', ''
        $script:bandwidthLine = ($setup | Where-Object { $_ -like 'bandwidth line *' }) -replace '^bandwidth line ', ''
        $script:store = $store
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'reports nothing on a clean store: late usage pending, then billed once as an adjustment' {
        $invoice | Should -Match '^INV-\d{8}-[0-9A-F]{10}$'
        $setup | Should -Be @(
            "invoice $invoice"
            "bandwidth line $bandwidthLine"
            'pending 0'
            'adjustment api 7'
            'clean 0 0'
        )
    }

    It 'reports an event sealed but unbilled, one billed twice, and billed ones changed or deleted, planted with plain SQL' {
        # Unbilled: a row for A's period carrying A's seal (sealed by its finalization), on no line.
        # BilledTwice: evt_1's ledger row copied onto A's bandwidth line, which then bills more than it says.
        # AmountMismatch: evt_2's quantity changed after billing; evt_3 deleted after billing.
        Invoke-StoreSql $store @"
INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at, billing_seal)
SELECT 'evt_planted', customer_id, service_name, $(Scaled 9), unit, metadata, recorded_at, ingested_at,
       (SELECT billing_seal FROM billing_invoices WHERE invoice_id = '$invoice')
FROM billing_usage_records WHERE customer_id = 'cus_recon' AND event_id = 'evt_1';
INSERT INTO billing_line_events (customer_id, event_id, invoice_id, line_number, quantity)
SELECT customer_id, event_id, invoice_id, $bandwidthLine, quantity FROM billing_line_events
WHERE customer_id = 'cus_recon' AND event_id = 'evt_1' AND invoice_id = '$invoice';
UPDATE billing_usage_records SET quantity = $(Scaled 300.25) WHERE customer_id = 'cus_recon' AND event_id = 'evt_2';
DELETE FROM billing_usage_records WHERE customer_id = 'cus_recon' AND event_id = 'evt_3';
"@ | Out-Null

        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_recon' } -Script @"
Import-Module '$manifest' -ErrorAction Stop
$Render
Test-BillingInvoice | Show
'piped'
@(Get-BillingCustomer | Test-BillingInvoice).Count
@(Get-BillingInvoice -InvoiceId '$invoice' | Test-BillingInvoice).Count
# Two invoices of cus_recon piped in: its discrepancies once, not once per invoice.
@(Get-BillingInvoice -AllCustomers | Test-BillingInvoice).Count
'other customer'
@(Test-BillingInvoice -CustomerId cus_other).Count
'outside the range'
@(Test-BillingInvoice -Start ([datetimeoffset]::UtcNow.AddDays(1))).Count
'completion'
`$line = 'Test-BillingInvoice -CustomerId cus_o'
(TabExpansion2 -inputScript `$line -cursorColumn `$line.Length).CompletionMatches.CompletionText
# A removed customer's finalized invoices are still checked by -AllCustomers.
Remove-BillingCustomer cus_recon -Confirm:`$false | Out-Null
'removed'
@(Test-BillingInvoice -AllCustomers).Count
"@
        $i = $invoice
        $lines | Should -Be @(
            "AmountMismatch|cus_recon|$i|-|bandwidth|-|-|$i#$bandwidthLine"
            "BilledTwice|cus_recon|$i|evt_1|api|100|200|$i#2,$i#$bandwidthLine"
            "AmountMismatch|cus_recon|$i|evt_2|api|300.25|250.5|$i#2"
            "AmountMismatch|cus_recon|$i|evt_3|api|-|100|$i#2"
            "Unbilled|cus_recon|$i|evt_planted|api|9|-|"
            'piped', '5', '5', '5'
            'other customer', '0'
            'outside the range', '0'
            'completion', 'cus_other'
            'removed', '5'
        )
    }

    It 'writes nothing to the store' {
        $before = Get-StoreFingerprint $store
        $before | Should -Match 'evt_planted'
        Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_recon' } -Script @"
Import-Module '$manifest' -ErrorAction Stop
@(Test-BillingInvoice -AllCustomers).Count
@(Test-BillingInvoice -CustomerId cus_recon, cus_other).Count
@(Test-BillingInvoice -Start 2000-01-01 -End 2100-01-01).Count
"@ | Should -Be @('5', '5', '5')
        Get-StoreFingerprint $store | Should -BeExactly $before
        # The fingerprint sees a write: one event recorded changes it.
        Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script "Import-Module '$manifest' -ErrorAction Stop; Add-UsageRecord api 1 -CustomerId cus_other -EventId evt_write" | Out-Null
        Get-StoreFingerprint $store | Should -Not -BeExactly $before
    }

    It 'passes an unreachable store through as StoreUnavailable' {
        $unreachable = if ($Backend -eq 'SQLite') {
            $blocker = Join-Path $work 'not-a-folder'
            Set-Content -LiteralPath $blocker -Value 'a file, so no store can be made under it'
            Join-Path $blocker 'usage.db'
        }
        else { ($env:NSELF_TEST_POSTGRES -replace 'Port=[^;]*', 'Port=1') + ';Timeout=3' }
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $unreachable; NSELF_CUSTOMER_ID = 'cus_recon' } -Script @"
Import-Module '$manifest' -ErrorAction Stop
function Id([scriptblock] `$call) { try { & `$call | Out-Null; 'no error' } catch { "`$(`$_.FullyQualifiedErrorId -replace ',.*', '') `$(`$_.CategoryInfo.Category)" } }
Id { Test-BillingInvoice -ErrorAction Stop }
Id { Test-BillingInvoice -CustomerId cus_recon -ErrorAction Stop }
Id { Test-BillingInvoice -AllCustomers -ErrorAction Stop }
"@
        $lines | Should -Be @('StoreUnavailable ResourceUnavailable', 'StoreUnavailable ResourceUnavailable', 'StoreUnavailable ResourceUnavailable')
    }

    It 'refuses bad input with stable error ids, before reading anything' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_recon' } -Script @"
Import-Module '$manifest' -ErrorAction Stop
function Id([scriptblock] `$call) { try { & `$call | Out-Null; 'no error' } catch { `$_.FullyQualifiedErrorId -replace ',.*', '' } }
Id { Test-BillingInvoice -CustomerId cus_nobody -ErrorAction Stop }
Id { Test-BillingInvoice -CustomerId '' -ErrorAction Stop }
Id { Test-BillingInvoice -CustomerId `$null -ErrorAction Stop }
Id { Test-BillingInvoice -CustomerId @() -ErrorAction Stop }
Id { Test-BillingInvoice -Start `$null -ErrorAction Stop }
Id { Test-BillingInvoice -Start '' -ErrorAction Stop }
Id { Test-BillingInvoice -Start '01/02/2026' -ErrorAction Stop }
Id { Test-BillingInvoice -Start 2026-02-01 -End 2026-01-01 -ErrorAction Stop }
Id { Test-BillingInvoice -CustomerId cus_recon -AllCustomers -ErrorAction Stop }
# One unknown customer among others: an error for it, the others still checked.
`$found = Test-BillingInvoice -CustomerId cus_nobody, cus_other -ErrorVariable failed -ErrorAction SilentlyContinue
"`$(@(`$found).Count) `$(`$failed.Count) `$(`$failed[0].TargetObject)"
"@
        $lines | Should -Be @(
            'CustomerNotFound'
            'InvalidCustomerId'
            'InvalidCustomerId'
            'InvalidCustomerId'
            'InvalidTimestamp'
            'InvalidTimestamp'
            'InvalidTimestamp'
            'InvalidDateRange'
            'AmbiguousParameterSet'
            '0 1 cus_nobody'
        )
    }
}
