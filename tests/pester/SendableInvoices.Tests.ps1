# Issue 18, as a seller meets it: a German seller with a profile, VAT rates and reverse charge
# invoices a French business (reverse charge) and a German consumer (19 %), and finalizing gives
# consecutive numbers; four pwsh processes finalizing 50 invoices each get 1..200 with no gap and
# no duplicate; bad input gives one clear error with a stable id and changes nothing. On SQLite and
# PostgreSQL.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null
    $manifest = Get-ModuleManifestPath
    # A whole 1x1 PNG, and a file that only says it is one.
    $logo = Join-Path $work 'logo.png'
    [IO.File]::WriteAllBytes($logo, [Convert]::FromBase64String('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='))
    $fake = Join-Path $work 'fake.png'
    Set-Content -LiteralPath $fake -Value 'not an image'

}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'Invoices a business can send, on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "sendable-$Backend.db")
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'a German seller reverse charges a French business, charges a German consumer 19 %, and numbers them in turn' {
        Set-BillingProfile -LegalName 'Beispiel GmbH' -Address 'Musterstraße 1', '10115 Berlin' -Country de -TaxId DE123456789 `
            -Email rechnung@beispiel.example -LogoPath $logo -InvoicePrefix BSP- -Locale de-DE -ReverseCharge -PaymentInstructions 'IBAN DE89 3704 0044 0532 0130 00'
        Set-BillingTaxRate -Name VAT -Rate 19 -Country DE
        Set-BillingTaxRate VAT '20' -Country fr
        $profile = Get-BillingProfile
        $profile.LegalName, $profile.Address, $profile.Country, $profile.LogoType, $profile.ReverseCharge | Should -Be 'Beispiel GmbH', "Musterstraße 1`n10115 Berlin", 'DE', 'image/png', $true
        (Get-BillingTaxRate | ForEach-Object { "$($_.Country) $($_.Name) $($_.Rate)" }) | Should -Be 'DE VAT 19', 'FR VAT 20'

        New-BillingCustomer cus_fr -Company 'Exemple SARL' -Name 'Marie Dupont' -Country FR -TaxId FR40303265045 -Address '1 rue de la Paix', '75002 Paris' -Locale fr-FR | Out-Null
        New-BillingCustomer cus_de -Name 'Max Mustermann' -Country DE -Address 'Hauptstraße 5', '80331 München' | Out-Null
        (Get-BillingTaxRate -CustomerId cus_de).Rate | Should -Be 19
        $start = [datetimeoffset]'2026-11-01T00:00:00Z'; $end = [datetimeoffset]'2026-12-01T00:00:00Z'
        foreach ($customer in 'cus_fr', 'cus_de') {
            Add-UsageRecord -CustomerId $customer -Service api -Quantity 10000 -Timestamp '2026-11-10T12:00:00Z'
        }
        # Service api at its display price: the invoice is in USD.
        $drafts = 'cus_fr', 'cus_de' | ForEach-Object { New-BillingInvoice -CustomerId $_ -Start $start -End $end }
        @($drafts | Where-Object InvoiceNumber).Count | Should -Be 0 -Because 'a draft has no number'
        $fr, $de = $drafts | Complete-BillingInvoice -Confirm:$false
        $fr.InvoiceNumber, $fr.TaxTreatment, $fr.TaxName, $fr.Tax | Should -Be 'BSP-000001', 'ReverseCharge', 'VAT', 0
        $de.InvoiceNumber, $de.TaxTreatment, $de.TaxName, $de.TaxRate | Should -Be 'BSP-000002', 'Standard', 'VAT', 19
        $de.Tax | Should -Be ([decimal]::Round($de.Subtotal * 0.19, 2, 'AwayFromZero'))
        $de.Total | Should -Be ($de.Subtotal + $de.Tax)
        $fr.Seller.Name, $fr.Buyer.Name, $fr.Buyer.Attention, $fr.Buyer.TaxId | Should -Be 'Beispiel GmbH', 'Exemple SARL', 'Marie Dupont', 'FR40303265045'
        (Get-BillingInvoice -InvoiceId $de.InvoiceId | Format-Table | Out-String -Width 120) | Should -Match 'BSP-000002'
    }

    It 'the customer''s copy as PDF holds the seller, the buyer, the number, the total and the note, in the buyer''s language' {
        $fr = Get-BillingInvoice -CustomerId cus_fr
        $de = Get-BillingInvoice -CustomerId cus_de
        $pdf = Export-BillingInvoice $fr.InvoiceId -Format Pdf -Path (Join-Path $work "fr-$Backend.pdf")
        $pdf.Format | Should -Be 'Pdf'
        [IO.File]::ReadAllBytes($pdf.FullName)[0..4] | Should -Be ([byte[]][char[]]'%PDF-')
        if (-not (Get-Command pdftotext -ErrorAction SilentlyContinue)) {
            if ($env:CI -eq 'true') { throw 'pdftotext is not installed, and CI must read the PDF.' }
            Set-ItResult -Skipped -Because 'no pdftotext (poppler-utils)'
            return
        }
        $text = (& pdftotext -layout -enc UTF-8 $pdf.FullName - | Out-String) -replace '[\u00A0\u202F]', ' '
        foreach ($expected in 'Facture', 'Beispiel GmbH', 'Exemple SARL', 'FR40303265045', 'DE123456789', 'BSP-000001', 'Autoliquidation', 'IBAN DE89 3704 0044 0532 0130 00') {
            $text | Should -Match ([regex]::Escape($expected))
        }
        $total = $fr.Total.ToString('N2', [cultureinfo]'fr-FR') -replace '[\u00A0\u202F]', ' '
        $text | Should -Match "Total TTC\s+$([regex]::Escape($total))"
        # The German consumer's copy is German, with 19 % VAT and no reverse-charge note.
        $dePdf = Export-BillingInvoice $de.InvoiceId -Format Pdf -Path (Join-Path $work "de-$Backend.pdf")
        $deText = (& pdftotext -layout -enc UTF-8 $dePdf.FullName - | Out-String) -replace '[\u00A0\u202F]', ' '
        $deText | Should -Match 'Rechnung'
        $deText | Should -Match 'VAT 19 %'
        $deText | Should -Not -Match 'Reverse|Autoliquidation|Steuerschuldnerschaft'
        # The audit data stays out of the customer's copy.
        $text | Should -Not -Match '[0-9a-f]{64}|sha256|exclusive'
        # A page rendered as an image, kept with the test results.
        $artefacts = Join-Path (Get-RepoRoot) 'TestResults/invoices'
        New-Item -ItemType Directory -Path $artefacts -Force | Out-Null
        if (Get-Command pdftoppm -ErrorAction SilentlyContinue) {
            & pdftoppm -png -r 80 -f 1 -l 1 $pdf.FullName (Join-Path $artefacts "invoice-fr-$Backend-$(Get-TestCulture)")
            $LASTEXITCODE | Should -Be 0
        }
    }

    It 'the customer''s copy as HTML fits a 390 px phone and a 1280 px screen, and leaves screenshots' {
        $chromium = (Get-Command chromium, chromium-browser, google-chrome -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if (-not $chromium) {
            if ($env:CI -eq 'true') { throw 'chromium is not installed, and CI must render the invoice.' }
            Set-ItResult -Skipped -Because 'no chromium'
            return
        }
        $fr = Get-BillingInvoice -CustomerId cus_fr
        $html = Export-BillingInvoice $fr.InvoiceId -Path (Join-Path $work "fr-$Backend.html")
        $page = Get-Content -LiteralPath $html.FullName -Raw
        $page | Should -Not -Match '(src|href)\s*=\s*"(https?:)?//' -Because 'the page is self-contained'
        $page | Should -Not -Match '<script'
        $artefacts = Join-Path (Get-RepoRoot) 'TestResults/invoices'
        New-Item -ItemType Directory -Path $artefacts -Force | Out-Null
        foreach ($width in 1280, 390) {
            # The page in a frame of that width; the frame's script measures it: how far it
            # overflows sideways, and which amount cells are cut or wrapped.
            $frame = Join-Path $work "frame-$width.html"
            Set-Content -LiteralPath $frame -Encoding utf8NoBOM -Value @"
<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="file://$($html.FullName)" style="width:${width}px;height:2500px;border:0"></iframe>
<script>document.getElementById('f').onload = function () {
  var d = this.contentDocument, w = this.contentWindow.innerWidth, bad = [];
  d.querySelectorAll('td.amount, table.totals td.n').forEach(function (c) {
    var range = d.createRange(); range.selectNodeContents(c);
    var tops = {}; Array.prototype.forEach.call(range.getClientRects(), function (q) { if (q.width > 0) tops[Math.round(q.top)] = 1; });
    if (c.scrollWidth > c.clientWidth + 1 || c.getBoundingClientRect().right > w + 1 || Object.keys(tops).length > 1) bad.push(c.textContent.trim());
  });
  document.body.setAttribute('data-measured', (d.documentElement.scrollWidth - w) + '|' + bad.join(';'));
};</script></body></html>
"@
            $profileDir = Join-Path $work "chromium-profile-$width"
            $dom = & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$profileDir" --allow-file-access-from-files --window-size=1400,2600 --virtual-time-budget=5000 --dump-dom "file://$frame" 2>$null | Out-String
            $dom -match 'data-measured="([^"]*)"' | Should -BeTrue -Because 'the frame measured the page'
            $overflow, $cut = ($Matches[1] -split '\|', 2)
            [int]$overflow | Should -BeLessOrEqual 0 -Because "the page must not scroll sideways at $width px"
            $cut | Should -BeNullOrEmpty -Because "no amount may be cut or wrapped at $width px"
            $shot = Join-Path $artefacts "invoice-fr-$Backend-$(Get-TestCulture)-$width.png"
            & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$profileDir" "--window-size=$width,1400" "--screenshot=$shot" "file://$($html.FullName)" 2>$null | Out-Null
            Test-Path -LiteralPath $shot | Should -BeTrue
        }
    }

    It 'four processes finalizing 50 invoices each get numbers 1 to 200, with no gap and no duplicate' {
        $store = $env:NSELF_USAGE_STORE
        $setup = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest'
Set-BillingProfile -InvoicePrefix RACE-
`$start = [datetimeoffset]'2026-10-01T00:00:00Z'
0..199 | ForEach-Object {
    `$customer = 'cus_race_{0:D3}' -f `$_
    Add-UsageRecord -CustomerId `$customer -Service api -Quantity (`$_ + 1) -Timestamp '2026-10-15T00:00:00Z'
    (New-BillingInvoice -CustomerId `$customer -Start `$start -End `$start.AddMonths(1) -ErrorAction Stop).InvoiceId
}
"@
        $setup.Count | Should -Be 200
        $processes = foreach ($finalizer in 0..3) {
            $ids = for ($i = $finalizer; $i -lt 200; $i += 4) { "'$($setup[$i])'" }
            $file = Join-Path $work "finalizer-$Backend-$finalizer.ps1"
            Set-Content -LiteralPath $file -Encoding utf8NoBOM -Value @"
Import-Module '$manifest'
foreach (`$id in @($($ids -join ', '))) { (Complete-BillingInvoice -InvoiceId `$id -Confirm:`$false -ErrorAction Stop).InvoiceNumber }
"@
            Start-PwshProcess -File $file -Environment @{ NSELF_USAGE_STORE = $store } -OutputPrefix (Join-Path $work "finalizer-$Backend-$finalizer")
        }
        $processes | Wait-Process -Timeout 600
        $numbers = foreach ($finalizer in 0..3) {
            Get-Content -LiteralPath (Join-Path $work "finalizer-$Backend-$finalizer.err") -Raw | Should -BeNullOrEmpty
            Get-Content -LiteralPath (Join-Path $work "finalizer-$Backend-$finalizer.out")
        }
        $numbers.Count | Should -Be 200
        ($numbers | Sort-Object) -join ',' | Should -Be ((1..200 | ForEach-Object { 'RACE-{0:D6}' -f $_ }) -join ',')
    }

    It 'refuses bad input with one clear error and a stable id, and changes nothing' {
        $before = Get-BillingProfile | ConvertTo-Json -Depth 3
        Get-Failure { Set-BillingProfile -Country XX } | Should -Be 'InvalidCountry'
        Get-Failure { Set-BillingProfile -LogoPath $fake } | Should -Be 'InvalidLogo'
        Get-Failure { Set-BillingProfile -LogoPath (Join-Path $work 'missing.png') } | Should -Be 'PathNotFound'
        Get-Failure { Set-BillingProfile -LegalName '' } | Should -Be 'InvalidArgument'
        Get-Failure { Set-BillingProfile -Locale 'xx-nonsense' } | Should -Be 'InvalidLocale'
        Get-Failure { Set-BillingProfile -InvoicePrefix 'A B' } | Should -Be 'InvalidArgument'
        Get-Failure { Set-BillingProfile -Country US -ReverseCharge } | Should -Be 'InvalidCountry'
        Get-BillingProfile | ConvertTo-Json -Depth 3 | Should -Be $before

        $rates = (Get-BillingTaxRate | Out-String)
        Get-Failure { Set-BillingTaxRate VAT -1 -Country DE } | Should -Be 'InvalidTaxRate'
        Get-Failure { Set-BillingTaxRate VAT 101 -Country DE } | Should -Be 'InvalidTaxRate'
        Get-Failure { Set-BillingTaxRate VAT '19,5' -Country DE } | Should -Be 'InvalidTaxRate'
        Get-Failure { Set-BillingTaxRate VAT 'abc' -Country DE } | Should -Be 'InvalidTaxRate'
        Get-Failure { Set-BillingTaxRate VAT 19 -Country XX } | Should -Be 'InvalidCountry'
        Get-Failure { Set-BillingTaxRate VAT 19 -Country DE -Region 'US-CA' } | Should -Be 'InvalidRegion'
        Get-Failure { Set-BillingTaxRate '' 19 -Country DE } | Should -Be 'InvalidTaxRate'
        (Get-BillingTaxRate | Out-String) | Should -Be $rates

        $customer = Get-BillingCustomer cus_fr | ConvertTo-Json
        Get-Failure { Set-BillingCustomer cus_fr -Country XX } | Should -Be 'InvalidCountry'
        Get-Failure { Set-BillingCustomer cus_fr -TaxId '!' } | Should -Be 'InvalidTaxId'
        Get-Failure { Set-BillingCustomer cus_fr -Locale 'nonsense-culture' } | Should -Be 'InvalidLocale'
        Get-Failure { Set-BillingCustomer cus_fr -InvoiceEmail 'nobody' } | Should -Be 'InvalidArgument'
        Get-Failure { Set-BillingCustomer cus_fr -Country '' } | Should -Be 'InvalidCountry'
        Get-BillingCustomer cus_fr | ConvertTo-Json | Should -Be $customer
    }

    It 'takes a rate as an int, a double, a decimal, invariant text and a piped property, in any culture' {
        $culture = [cultureinfo]::CurrentCulture
        try {
            [cultureinfo]::CurrentCulture = 'de-DE'
            Set-BillingTaxRate 'Sales tax' 7 -Country US -Region NY -PassThru | ForEach-Object Rate | Should -Be 7
            Set-BillingTaxRate 'Sales tax' 7.25 -Country US -Region CA -PassThru | ForEach-Object Rate | Should -Be 7.25
            Set-BillingTaxRate 'Sales tax' 8.875d -Country US -Region NJ -PassThru | ForEach-Object Rate | Should -Be 8.875
            Set-BillingTaxRate 'Sales tax' '6.35' -Country US -Region CT -PassThru | ForEach-Object Rate | Should -Be 6.35
            [pscustomobject]@{ Name = 'GST'; Rate = '10'; Country = 'au' } | Set-BillingTaxRate -PassThru | ForEach-Object { "$($_.Country) $($_.Name) $($_.Rate)" } | Should -Be 'AU GST 10'
            # The view shows the rate whole (in the session's culture), in any width.
            (Get-BillingTaxRate -Country US | Out-String -Width 80) | Should -Match '8,875'
        }
        finally { [cultureinfo]::CurrentCulture = $culture }
    }

    It '-WhatIf writes nothing' {
        $before = Get-BillingProfile | ConvertTo-Json -Depth 3
        Set-BillingProfile -LegalName 'Other GmbH' -WhatIf
        Set-BillingTaxRate VAT 7 -Country IT -WhatIf
        Get-BillingProfile | ConvertTo-Json -Depth 3 | Should -Be $before
        Get-BillingTaxRate -Country IT | Should -BeNullOrEmpty
    }
}
