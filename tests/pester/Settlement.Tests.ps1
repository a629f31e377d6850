# Issue 19, as a billing clerk meets it: prepaid credit applied when an invoice is finalized (the
# grant expiring first spent first), payments in part and in full, a void that makes the period
# billable again under a new number, the ledger that lists every step, and four pwsh processes
# finalizing invoices of one customer at once without spending the same credit twice. Bad input
# gets one clear error with a stable id and changes nothing. On SQLite and PostgreSQL.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null
    $manifest = Get-ModuleManifestPath


    # A customer on a plan with a base fee of 115.60 USD a month and no tax, subscribed two months
    # ago: New-BillingInvoice drafts its last closed period at 115.60.
    function New-Customer([string] $Customer) {
        if (-not (Get-BillingPlan -Name settle -ErrorAction SilentlyContinue)) { Set-BillingPlan settle -PriceMonthly '115.60' | Out-Null }
        New-BillingSubscription -CustomerId $Customer -Plan settle -Start (Get-Date).AddMonths(-2).AddDays(-1) | Out-Null
    }
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'After the invoice, on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "settlement-$Backend.db")
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'a 115.60 invoice uses 70.00 of credit, the expiring grant first; 20.00 paid, a 5.60 credit note and 20.00 paid leave it paid and the balance 0' {
        New-Customer cus_story
        $forever = Add-BillingCredit -CustomerId cus_story -Amount 20 -Currency USD -Description 'Welcome credit'
        $expiring = Add-BillingCredit cus_story '50.00' usd -ExpiresAt (Get-Date).AddMonths(1) -Description 'Prepaid'
        (Get-BillingBalance cus_story).Balance | Should -Be 70

        $invoice = New-BillingInvoice -CustomerId cus_story | Complete-BillingInvoice -Confirm:$false

        $invoice.Total, $invoice.CreditsApplied, $invoice.AmountDue, $invoice.Status | Should -Be 115.60, 70.00, 45.60, 'Open'
        $applied = @(Get-BillingLedger cus_story -Kind CreditApplied)
        ($applied | ForEach-Object { "$($_.GrantId):$($_.Amount)" }) | Should -Be "$($expiring.GrantId):50.00", "$($forever.GrantId):20.00"

        $partly = Set-BillingInvoice $invoice.InvoiceId -Paid -Amount 20 -PaymentReference 'SEPA-1' -Confirm:$false
        $partly.Status, $partly.AmountPaid, $partly.AmountDue | Should -Be 'Open', 20.00, 25.60
        $note = New-BillingCreditNote -InvoiceId $invoice.InvoiceId -Amount '5.60' -Reason 'Goodwill' -Confirm:$false
        $note.Total, $note.AppliedToInvoice, $note.CreditedToBalance | Should -Be 5.60, 5.60, 0
        $note.CreditNoteNumber | Should -Match '^INV-CN-0000\d\d$'
        (Get-BillingInvoice $invoice.InvoiceId).AmountDue | Should -Be 20.00
        $paid = $invoice | Set-BillingInvoice -Paid -Amount 20 -Confirm:$false
        $paid.Status, $paid.AmountDue, $paid.AmountCredited | Should -Be 'Paid', 0, 5.60
        $paid.PaidAt | Should -Not -BeNullOrEmpty

        (Get-BillingBalance cus_story).Balance | Should -Be 0
        (Get-BillingLedger cus_story).Kind -join ',' | Should -Be 'Grant,Grant,Invoiced,CreditApplied,CreditApplied,Payment,CreditNote,Payment'
        (Get-BillingLedger cus_story -InvoiceId $invoice.InvoiceNumber -Kind Payment).Reference | Should -Be 'SEPA-1', $null
        (Get-BillingCreditNote -InvoiceId $invoice.InvoiceNumber).CreditNoteNumber | Should -Be $note.CreditNoteNumber
        (Get-BillingSummary cus_story).AmountDue | Should -Be 0
        (Get-BillingInvoice -CustomerId cus_story -Status Paid).InvoiceId | Should -Be $invoice.InvoiceId
    }

    It 'voiding an unpaid invoice gives its credit back and lets the period be invoiced again under a new number' {
        New-Customer cus_void
        Add-BillingCredit cus_void 15 USD | Out-Null
        $first = New-BillingInvoice -CustomerId cus_void | Complete-BillingInvoice -Confirm:$false
        $first.CreditsApplied | Should -Be 15

        $void = Set-BillingInvoice $first.InvoiceId -Void -Reason 'Wrong plan' -Confirm:$false

        $void.Status, $void.AmountDue | Should -Be 'Void', 0
        (Get-BillingBalance cus_void).Balance | Should -Be 15
        $again = New-BillingInvoice -CustomerId cus_void | Complete-BillingInvoice -Confirm:$false
        $again.InvoiceId | Should -Be "$($first.InvoiceId)-2"
        $again.InvoiceNumber | Should -Not -Be $first.InvoiceNumber
        [int]($again.InvoiceNumber -replace '\D', '') | Should -BeGreaterThan ([int]($first.InvoiceNumber -replace '\D', ''))
        $again.PeriodStart, $again.PeriodEnd | Should -Be $first.PeriodStart, $first.PeriodEnd
        $again.CreditsApplied, $again.AmountDue | Should -Be 15, 100.60
        (Get-BillingLedger cus_void -InvoiceId $first.InvoiceId).Kind -join ',' | Should -Be 'Invoiced,CreditApplied,CreditReturned,Void'
        @(Test-BillingInvoice -CustomerId cus_void).Count | Should -Be 0
    }

    It 'overdue invoices follow INVOICE_DUE_DAYS' {
        New-Customer cus_due
        $env:INVOICE_DUE_DAYS = '0'
        try { $invoice = New-BillingInvoice -CustomerId cus_due | Complete-BillingInvoice -Confirm:$false }
        finally { Remove-Item Env:INVOICE_DUE_DAYS }
        Start-Sleep -Milliseconds 20
        (Get-BillingInvoice -CustomerId cus_due -Overdue).InvoiceId | Should -Be $invoice.InvoiceId
        (Get-BillingSummary cus_due).OverdueAmount | Should -Be 115.60
        Set-BillingInvoice $invoice.InvoiceId -Paid -Confirm:$false | Out-Null
        @(Get-BillingInvoice -CustomerId cus_due -Overdue).Count | Should -Be 0
        $env:INVOICE_DUE_DAYS = 'two weeks'
        try { Get-Failure { New-BillingInvoice -CustomerId cus_due -Start 2020-01-01 -End 2020-01-02 | Complete-BillingInvoice -Confirm:$false } | Should -Be 'InvalidArgument' }
        finally { Remove-Item Env:INVOICE_DUE_DAYS }
    }

    It 'takes -Amount as int, double, decimal, invariant text and a piped property, and refuses a comma' {
        New-Customer cus_numbers
        $invoice = New-BillingInvoice -CustomerId cus_numbers | Complete-BillingInvoice -Confirm:$false
        foreach ($amount in 1, 1.5, [decimal]'2.25', '3.10') { Set-BillingInvoice $invoice.InvoiceId -Paid -Amount $amount -Confirm:$false | Out-Null }
        [pscustomobject]@{ InvoiceId = $invoice.InvoiceId; Amount = '0.75' } | Set-BillingInvoice -Paid -Confirm:$false | Out-Null
        (Get-BillingInvoice $invoice.InvoiceId).AmountPaid | Should -Be 8.60
        foreach ($amount in 1, 1.5, [decimal]'2.25', '3.10') { New-BillingCreditNote $invoice.InvoiceId -Amount $amount -Reason forms -Confirm:$false | Out-Null }
        (Get-BillingInvoice $invoice.InvoiceId).AmountCredited | Should -Be 7.85
        Get-Failure { New-BillingCreditNote $invoice.InvoiceId -Amount '1,50' -Reason forms -Confirm:$false } | Should -Be 'InvalidAmount'
        Get-Failure { New-BillingCreditNote $invoice.InvoiceId -Line 1 -Quantity '0,5' -Reason forms -Confirm:$false } | Should -Be 'InvalidQuantity'
        $fee = New-BillingCreditNote $invoice.InvoiceId -Line '1' -Quantity '0.25' -Reason forms -Confirm:$false
        $fee.Total, $fee.Lines[0].Quantity | Should -Be 28.90, 0.25
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Paid -Amount '1,50' -Confirm:$false } | Should -Be 'InvalidAmount'
        Get-Failure { Add-BillingCredit cus_numbers '1,50' USD } | Should -Be 'InvalidAmount'
        [pscustomobject]@{ CustomerId = 'cus_numbers'; Amount = 4; Currency = 'EUR'; Priority = '3' } | Add-BillingCredit | ForEach-Object { $_.Amount, $_.Priority } | Should -Be 4.00, 3
    }

    It 'refuses bad input with one clear error and a stable id, and changes nothing' {
        New-Customer cus_bad
        $draft = New-BillingInvoice -CustomerId cus_bad
        $grant = Add-BillingCredit cus_bad 5 USD
        $ledger = Get-BillingLedger -AllCustomers | ConvertTo-Json -Depth 3
        Get-Failure { Set-BillingInvoice $draft.InvoiceId -Paid -Confirm:$false } | Should -Be 'InvoiceNotPayable'
        Get-Failure { Set-BillingInvoice $draft.InvoiceId -Void -Reason x -Confirm:$false } | Should -Be 'InvoiceNotVoidable'
        Get-Failure { Set-BillingInvoice '' -Paid -Confirm:$false } | Should -Be 'InvalidArgument'
        Get-Failure { Set-BillingInvoice INV-missing -Paid -Confirm:$false } | Should -Be 'InvoiceNotFound'
        Get-Failure { Add-BillingCredit cus_bad -5 USD } | Should -Be 'InvalidAmount'
        Get-Failure { Add-BillingCredit cus_bad 1.005 USD } | Should -Be 'InvalidAmount'
        Get-Failure { Add-BillingCredit cus_bad 5 dollars } | Should -Be 'InvalidArgument'
        Get-Failure { Add-BillingCredit cus_bad 5 USD -ExpiresAt 2020-01-01 } | Should -Be 'InvalidTimestamp'
        Get-Failure { Add-BillingCredit cus_nobody 5 USD } | Should -Be 'CustomerNotFound'
        Get-Failure { Add-BillingCredit cus_bad 5 USD -Priority -1 } | Should -Be 'InvalidArgument'
        Get-Failure { Remove-BillingCredit 987654 -Confirm:$false } | Should -Be 'CreditGrantNotFound'
        Get-BillingLedger -AllCustomers | ConvertTo-Json -Depth 3 | Should -Be $ledger

        $invoice = $draft | Complete-BillingInvoice -Confirm:$false
        $ledger = Get-BillingLedger -AllCustomers | ConvertTo-Json -Depth 3
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Paid -Amount 1000 -Confirm:$false } | Should -Be 'AmountExceedsDue'
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Paid -Amount 10 -Currency EUR -Confirm:$false } | Should -Be 'CurrencyMismatch'
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Paid -PaidAt (Get-Date).AddDays(2) -Confirm:$false } | Should -Be 'InvalidTimestamp'
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Void -Reason '' -Confirm:$false } | Should -Be 'InvalidArgument'
        Get-Failure { Remove-BillingCredit $grant.GrantId -Confirm:$false } | Should -Be 'CreditGrantNotActive'
        Set-BillingInvoice $invoice.InvoiceId -Paid -WhatIf | Should -BeNullOrEmpty
        Get-BillingLedger -AllCustomers | ConvertTo-Json -Depth 3 | Should -Be $ledger

        Set-BillingInvoice $invoice.InvoiceId -Paid -Confirm:$false | Out-Null
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Void -Reason 'too late' -Confirm:$false } | Should -Be 'InvoiceNotVoidable'
        Get-Failure { Set-BillingInvoice $invoice.InvoiceId -Paid -Confirm:$false } | Should -Be 'InvoiceAlreadyPaid'
    }

    It 'a credit note of a German consumer''s invoice takes the VAT back at 19 %, and exports as PDF, HTML and JSON' {
        Set-BillingProfile -LegalName 'Beispiel GmbH' -Address 'Musterstraße 1', '10115 Berlin' -Country DE -TaxId DE123456789 -Email rechnung@beispiel.example -Locale de-DE
        Set-BillingTaxRate VAT 19 -Country DE
        New-BillingCustomer cus_de_cn -Name 'Max Mustermann' -Country DE -Address 'Hauptstraße 5', '80331 München' | Out-Null
        Add-UsageRecord -CustomerId cus_de_cn -Service api -Quantity 1000000 -Timestamp '2026-11-10T12:00:00Z'
        $invoice = New-BillingInvoice -CustomerId cus_de_cn -Start 2026-11-01T00:00:00Z -End 2026-12-01T00:00:00Z | Complete-BillingInvoice -Confirm:$false
        $invoice.Subtotal, $invoice.Tax, $invoice.Total | Should -Be 100, 19, 119
        $api = $invoice.Lines | Where-Object Service -eq api

        $note = New-BillingCreditNote -InvoiceId $invoice.InvoiceId -Line $api.LineNumber -Quantity 250000 -Reason 'Doppelt gezählte Anfragen' -Confirm:$false

        $note.Subtotal, $note.Tax, $note.Total | Should -Be 25, 4.75, 29.75
        $note.Lines[0].InvoiceLineNumber, $note.Lines[0].Quantity | Should -Be $api.LineNumber, 250000
        Get-Failure { New-BillingCreditNote -InvoiceId $invoice.InvoiceId -Line $api.LineNumber -Quantity 750001 -Reason 'too many' -Confirm:$false } | Should -Be 'CreditExceedsInvoice'

        $json = $note | Export-BillingCreditNote -Format Json -Path (Join-Path $work "cn-$Backend.json")
        (Get-Content -Raw $json.Path | ConvertFrom-Json).Total | Should -Be 29.75
        $html = Export-BillingCreditNote $note.CreditNoteNumber -Path (Join-Path $work "cn-$Backend.html")
        $html.Content | Should -Be 'CreditNote'
        $page = Get-Content -Raw $html.Path
        $page | Should -Match 'Rechnungskorrektur'
        $page | Should -Match ([regex]::Escape($invoice.InvoiceNumber))
        $pdf = Export-BillingCreditNote $note.CreditNoteId -Format Pdf -Path (Join-Path $work "cn-$Backend.pdf")
        [IO.File]::ReadAllBytes($pdf.Path)[0..4] | Should -Be ([byte[]][char[]]'%PDF-')
        if (-not (Get-Command pdftotext -ErrorAction SilentlyContinue)) {
            if ($env:CI -eq 'true') { throw 'pdftotext is not installed, and CI must read the PDF.' }
            Set-ItResult -Skipped -Because 'no pdftotext (poppler-utils)'
            return
        }
        $text = (& pdftotext -layout -enc UTF-8 $pdf.Path - | Out-String) -replace '[\u00A0\u202F]', ' '
        foreach ($expected in 'Rechnungskorrektur', 'Beispiel GmbH', 'Max Mustermann', $note.CreditNoteNumber, $invoice.InvoiceNumber, 'Doppelt gezählte Anfragen', 'VAT 19 %', '-29,75') {
            $text | Should -Match ([regex]::Escape($expected))
        }
        $artefacts = Join-Path (Get-RepoRoot) 'TestResults/invoices'
        New-Item -ItemType Directory -Path $artefacts -Force | Out-Null
        if (Get-Command pdftoppm -ErrorAction SilentlyContinue) {
            & pdftoppm -png -r 80 -f 1 -l 1 $pdf.Path (Join-Path $artefacts "credit-note-de-$Backend-$(Get-TestCulture)")
            $LASTEXITCODE | Should -Be 0
        }
        $chromium = (Get-Command chromium, chromium-browser, google-chrome -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if ($chromium) {
            foreach ($width in 1280, 390) {
                $shot = Join-Path $artefacts "credit-note-de-$Backend-$(Get-TestCulture)-$width.png"
                & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$(Join-Path $work "cn-chromium-$width")" "--window-size=$width,1400" "--screenshot=$shot" "file://$($html.Path)" 2>$null | Out-Null
                Test-Path -LiteralPath $shot | Should -BeTrue
            }
        }
    }

    It 'four processes finalizing eight invoices of one customer at once spend its 45.00 of credit once' {
        $store = $env:NSELF_USAGE_STORE
        $setup = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
New-BillingCustomer cus_pool -Name Pool | Out-Null
Add-BillingCredit cus_pool 45 USD | Out-Null
0..7 | ForEach-Object {
    `$day = ([datetimeoffset]'2026-10-01T00:00:00Z').AddDays(`$_)
    Add-UsageRecord -CustomerId cus_pool -Service api -Quantity 100000 -Timestamp `$day.AddHours(12)
    (New-BillingInvoice -CustomerId cus_pool -Start `$day -End `$day.AddDays(1)).InvoiceId
}
"@
        $setup.Count | Should -Be 8
        $processes = foreach ($finalizer in 0..3) {
            $ids = for ($i = $finalizer; $i -lt 8; $i += 4) { "'$($setup[$i])'" }
            $file = Join-Path $work "credit-$Backend-$finalizer.ps1"
            Set-Content -LiteralPath $file -Encoding utf8NoBOM -Value @"
Import-Module '$manifest'
foreach (`$id in @($($ids -join ', '))) { `$i = Complete-BillingInvoice -InvoiceId `$id -Confirm:`$false -ErrorAction Stop; '{0} {1} {2}' -f `$i.Total, `$i.CreditsApplied, `$i.AmountDue }
"@
            Start-PwshProcess -File $file -Environment @{ NSELF_USAGE_STORE = $store } -OutputPrefix (Join-Path $work "credit-$Backend-$finalizer")
        }
        $processes | Wait-Process -Timeout 600
        $lines = foreach ($finalizer in 0..3) {
            Get-Content -LiteralPath (Join-Path $work "credit-$Backend-$finalizer.err") -Raw | Should -BeNullOrEmpty
            Get-Content -LiteralPath (Join-Path $work "credit-$Backend-$finalizer.out")
        }
        $lines.Count | Should -Be 8
        $invoices = Get-BillingInvoice -CustomerId cus_pool
        ($invoices | Measure-Object Total -Sum).Sum | Should -Be 80
        ($invoices | Measure-Object CreditsApplied -Sum).Sum | Should -Be 45
        ($invoices | Measure-Object AmountDue -Sum).Sum | Should -Be 35
        (Get-BillingLedger cus_pool -Kind CreditApplied | Measure-Object Amount -Sum).Sum | Should -Be 45
        (Get-BillingBalance cus_pool).Balance | Should -Be 0
    }
}
