# Send-BillingInvoice, as a seller meets it: a German seller mails a reverse-charged French business
# and a German consumer their invoices through a real SMTP server (tests/tools/SmtpSink, on a free
# loopback port), in the buyer's language, the PDF attached; the sending is recorded and not repeated
# without -Force; -To and -Cc, the pipeline, an SMTP login that is never shown, the BILLING_SMTP_*
# override; and each failure with its stable error id, leaving the invoice unsent. On SQLite and
# PostgreSQL.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null
    # The host's own SMTP override must not leak in; the tests set it where they mean to.
    $smtpVariables = 'BILLING_SMTP_SERVER', 'BILLING_SMTP_PORT', 'BILLING_SMTP_USER', 'BILLING_SMTP_PASSWORD', 'BILLING_SMTP_USE_TLS', 'BILLING_SMTP_CERTIFICATE_SHA256'
    $savedSmtp = @{}
    foreach ($name in $smtpVariables) { $savedSmtp[$name] = [Environment]::GetEnvironmentVariable($name); [Environment]::SetEnvironmentVariable($name, $null) }

    # One sink of each kind for the whole file (both backends): each test counts only what arrives after it starts.
    $password = 'hunter2-7f3c9a51'
    $sink = Start-SmtpSink -Directory (Join-Path $work 'sink')
    $loginSink = Start-SmtpSink -Directory (Join-Path $work 'sink-login') -Login "billing:$password"
    $refusingSink = Start-SmtpSink -Directory (Join-Path $work 'sink-refusing') -RefuseRecipient 'nobody@exemple.example'
    $rejectingSink = Start-SmtpSink -Directory (Join-Path $work 'sink-rejecting') -RefuseMessages
    $sinks = $sink, $loginSink, $refusingSink, $rejectingSink
    # A port where nothing listens: bound by the OS a moment ago, then let go.
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $deadPort = ([Net.IPEndPoint]$listener.LocalEndpoint).Port
    $listener.Stop()


    # The profile's SMTP server: the given sink, without a login, TLS setting or pinned certificate.
    function Use-Sink($Sink) {
        Set-BillingProfile -SmtpServer 127.0.0.1 -SmtpPort $Sink.Port -Clear SmtpCredential, SmtpUseTls, SmtpCertificateSha256
    }

    function New-Login([string] $UserName, [string] $Secret) {
        [pscredential]::new($UserName, (ConvertTo-SecureString $Secret -AsPlainText -Force))
    }

    # A customer with one usage event in the month from Start, invoiced and finalized (-Draft: left a draft).
    function New-TestInvoice {
        param([string] $CustomerId, [hashtable] $Customer = @{}, [datetimeoffset] $Start = '2026-11-01T00:00:00Z', [switch] $Draft, [switch] $Existing)
        if (-not $Existing) { New-BillingCustomer $CustomerId @Customer | Out-Null }
        Add-UsageRecord -CustomerId $CustomerId -Service api -Quantity 10000 -Timestamp $Start.AddDays(9)
        $invoice = New-BillingInvoice -CustomerId $CustomerId -Start $Start -End $Start.AddMonths(1) -ErrorAction Stop
        if ($Draft) { return $invoice }
        $invoice | Complete-BillingInvoice -Confirm:$false -ErrorAction Stop
    }

    # How many messages each sink has taken so far, as one text to compare.
    function Get-SinkCounts { ($sinks | ForEach-Object { @(Get-SmtpSinkMessage $_).Count }) -join ',' }

    # The messages a sink took after it had taken After.
    function Get-NewMessage($Sink, [int] $After, [int] $Count = 0) {
        @(Get-SmtpSinkMessage $Sink -Count ($After + $Count) | Where-Object Number -GT $After)
    }

    # An invoice as Get-BillingInvoice shows it, as text: what "nothing changed" compares.
    function Get-InvoiceText([string] $InvoiceId) { Get-BillingInvoice -InvoiceId $InvoiceId | ConvertTo-Json -Depth 6 }

    # After a failed sending: the invoice as before (no SentAt, no SentTo) and no sink took anything.
    function Assert-NothingSent([string] $InvoiceId, [string] $Before, [string] $Counts) {
        Get-InvoiceText $InvoiceId | Should -Be $Before
        $invoice = Get-BillingInvoice -InvoiceId $InvoiceId
        $invoice.SentAt | Should -BeNullOrEmpty
        @($invoice.SentTo).Count | Should -Be 0
        Get-SinkCounts | Should -Be $Counts -Because 'no SMTP server took a message'
    }

    # The text of a PDF (pdftotext), or $null where poppler-utils is missing outside CI.
    function Get-PdfText([string] $Path) {
        if (-not (Get-Command pdftotext -ErrorAction SilentlyContinue)) {
            if ($env:CI -eq 'true') { throw 'pdftotext is not installed, and CI must read the PDF.' }
            return $null
        }
        (& pdftotext -layout -enc UTF-8 $Path - | Out-String) -replace '[\u00A0\u202F]', ' '
    }
}

AfterAll {
    # Each by name: a BeforeAll that failed half-way may have started only some.
    $sink, $loginSink, $refusingSink, $rejectingSink | Stop-SmtpSink
    foreach ($name in $savedSmtp.Keys) { [Environment]::SetEnvironmentVariable($name, $savedSmtp[$name]) }
    Remove-InProcessFixture $work $saved
}

Describe 'Send-BillingInvoice on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "send-$Backend.db")
            Set-BillingProfile -LegalName 'Beispiel GmbH' -Address 'Musterstraße 1', '10115 Berlin' -Country de -TaxId DE123456789 `
                -Email rechnung@beispiel.example -InvoicePrefix BSP- -Locale de-DE -ReverseCharge -PaymentInstructions 'IBAN DE89 3704 0044 0532 0130 00' `
                -SmtpServer 127.0.0.1 -SmtpPort $sink.Port
            Set-BillingTaxRate -Name VAT -Rate 19 -Country DE
            Set-BillingTaxRate VAT 20 -Country FR
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'mails a French business and a German consumer their invoices, in their language, with the PDF, and records it' {
        $profile = Get-BillingProfile
        $profile.SmtpServer, $profile.SmtpPort, $profile.SmtpUseTls, $profile.SmtpUserName, $profile.SmtpPasswordSet | Should -Be '127.0.0.1', $sink.Port, $null, $null, $false
        New-BillingCustomer cus_fr -Company 'Exemple SARL' -Name 'Marie Dupont' -Country FR -TaxId FR40303265045 -Address '1 rue de la Paix', '75002 Paris' -Locale fr-FR `
            -Email marie.dupont@exemple.example -InvoiceEmail factures@exemple.example | Out-Null
        New-BillingCustomer cus_de -Name 'Max Mustermann' -Country DE -Address 'Hauptstraße 5', '80331 München' -Email max@mustermann.example | Out-Null
        $start = [datetimeoffset]'2026-11-01T00:00:00Z'
        foreach ($customer in 'cus_fr', 'cus_de') {
            Add-UsageRecord -CustomerId $customer -Service api -Quantity 10000 -Timestamp '2026-11-10T12:00:00Z'
        }
        $fr, $de = 'cus_fr', 'cus_de' | ForEach-Object { New-BillingInvoice -CustomerId $_ -Start $start -End $start.AddMonths(1) } | Complete-BillingInvoice -Confirm:$false
        $fr.InvoiceNumber, $fr.TaxTreatment, $de.InvoiceNumber, $de.TaxRate | Should -Be 'BSP-000001', 'ReverseCharge', 'BSP-000002', 19
        $fr.SentAt | Should -BeNullOrEmpty
        $de.SentAt | Should -BeNullOrEmpty

        $mark = @(Get-SmtpSinkMessage $sink).Count
        $before = [datetimeoffset]::UtcNow.AddSeconds(-1)
        $sentFr = Send-BillingInvoice $fr.InvoiceId -Confirm:$false
        $sentDe = Send-BillingInvoice -InvoiceId $de.InvoiceId -Confirm:$false
        $after = [datetimeoffset]::UtcNow.AddSeconds(1)

        # What the command says it did.
        $sentFr.PSObject.TypeNames[0] | Should -Be 'NSelf.Usage.BillingInvoiceDelivery'
        $sentFr.InvoiceId, $sentFr.InvoiceNumber, $sentFr.CustomerId, $sentFr.Server | Should -Be $fr.InvoiceId, 'BSP-000001', 'cus_fr', "127.0.0.1:$($sink.Port)"
        @($sentFr.To) | Should -Be @('factures@exemple.example') -Because 'the invoice e-mail address wins over the e-mail address'
        @($sentFr.Cc).Count | Should -Be 0
        $sentDe.InvoiceId, $sentDe.InvoiceNumber, $sentDe.CustomerId | Should -Be $de.InvoiceId, 'BSP-000002', 'cus_de'
        @($sentDe.To) | Should -Be @('max@mustermann.example') -Because 'without an invoice e-mail address, the e-mail address'
        foreach ($sent in $sentFr, $sentDe) {
            $sent.SentAt | Should -BeGreaterThan $before
            $sent.SentAt | Should -BeLessThan $after
            $sent.MessageId | Should -Not -BeNullOrEmpty
            $sent.MessageId | Should -Not -Match '[<>]'
        }

        # What the server took.
        $messages = Get-NewMessage $sink $mark -Count 2
        $messages.Count | Should -Be 2
        $mailFr, $mailDe = $messages
        foreach ($mail in $mailFr, $mailDe) {
            $mail.From, $mail.FromName, $mail.EnvelopeFrom | Should -Be 'rechnung@beispiel.example', 'Beispiel GmbH', 'rechnung@beispiel.example'
            $mail.AuthenticatedUser | Should -BeNullOrEmpty
            $mail.HasHtml | Should -BeTrue
            $mail.TextBody | Should -Not -BeNullOrEmpty -Because 'a plain-text alternative'
            @($mail.Attachments).Count | Should -Be 1
            $mail.Attachments[0].ContentType | Should -Be 'application/pdf'
            [IO.File]::ReadAllBytes($mail.Attachments[0].Path)[0..4] | Should -Be ([byte[]][char[]]'%PDF-')
        }
        $mailFr.Subject | Should -BeExactly 'Facture BSP-000001 de Beispiel GmbH'
        @($mailFr.To) | Should -Be @('factures@exemple.example')
        @($mailFr.EnvelopeTo) | Should -Be @('factures@exemple.example')
        @($mailFr.Cc).Count | Should -Be 0
        $mailFr.MessageId | Should -Be $sentFr.MessageId
        $mailFr.Attachments[0].FileName | Should -Be 'BSP-000001.pdf'
        $mailDe.Subject | Should -BeExactly 'Rechnung BSP-000002 von Beispiel GmbH'
        @($mailDe.To) | Should -Be @('max@mustermann.example')
        @($mailDe.EnvelopeTo) | Should -Be @('max@mustermann.example')
        $mailDe.MessageId | Should -Be $sentDe.MessageId
        $mailDe.Attachments[0].FileName | Should -Be 'BSP-000002.pdf'
        # The HTML body is the customer's copy; the text alternative names the invoice too.
        foreach ($expected in 'BSP-000001', 'Beispiel GmbH', 'Exemple SARL', 'FR40303265045', 'Facture') { $mailFr.HtmlBody | Should -Match ([regex]::Escape($expected)) }
        foreach ($expected in 'BSP-000002', 'Beispiel GmbH', 'Max Mustermann', 'Rechnung') { $mailDe.HtmlBody | Should -Match ([regex]::Escape($expected)) }
        $mailFr.TextBody | Should -Match 'BSP-000001'
        $mailDe.TextBody | Should -Match 'BSP-000002'

        # The store remembers when and to whom.
        $storedFr = Get-BillingInvoice -InvoiceId $fr.InvoiceId
        [Math]::Abs(($storedFr.SentAt - $sentFr.SentAt).TotalMilliseconds) | Should -BeLessThan 1
        @($storedFr.SentTo) | Should -Be @('factures@exemple.example')
        $storedDe = Get-BillingInvoice -InvoiceId $de.InvoiceId
        [Math]::Abs(($storedDe.SentAt - $sentDe.SentAt).TotalMilliseconds) | Should -BeLessThan 1
        @($storedDe.SentTo) | Should -Be @('max@mustermann.example')

        # The attached PDFs, read back: seller, buyer, number and total, in the buyer's language.
        $textFr = Get-PdfText $mailFr.Attachments[0].Path
        if ($null -eq $textFr) { Set-ItResult -Skipped -Because 'no pdftotext (poppler-utils) to read the attached PDF'; return }
        $textDe = Get-PdfText $mailDe.Attachments[0].Path
        foreach ($expected in 'Facture', 'Beispiel GmbH', 'Exemple SARL', 'BSP-000001', ($fr.Total.ToString('N2', [cultureinfo]'fr-FR') -replace '[\u00A0\u202F]', ' ')) {
            $textFr | Should -Match ([regex]::Escape($expected))
        }
        foreach ($expected in 'Rechnung', 'Beispiel GmbH', 'Max Mustermann', 'BSP-000002', $de.Total.ToString('N2', [cultureinfo]'de-DE')) {
            $textDe | Should -Match ([regex]::Escape($expected))
        }
    }

    It 'refuses to send an invoice a second time without -Force, and sends it again with it' {
        $invoice = Get-BillingInvoice -CustomerId cus_fr
        $invoice.SentAt | Should -Not -BeNullOrEmpty -Because 'the first test sent it'
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        Get-Failure { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false } | Should -Be 'InvoiceAlreadySent'
        Get-InvoiceText $invoice.InvoiceId | Should -Be $before
        Get-SinkCounts | Should -Be $counts

        $mark = @(Get-SmtpSinkMessage $sink).Count
        $again = Send-BillingInvoice $invoice.InvoiceId -Force -PaperSize Letter -Confirm:$false
        $again.InvoiceNumber | Should -Be $invoice.InvoiceNumber
        $again.SentAt | Should -BeGreaterThan $invoice.SentAt
        $messages = Get-NewMessage $sink $mark -Count 1
        $messages.Count | Should -Be 1
        $messages[0].MessageId | Should -Be $again.MessageId
        @($messages[0].To) | Should -Be @('factures@exemple.example')
        $stored = Get-BillingInvoice -InvoiceId $invoice.InvoiceId
        [Math]::Abs(($stored.SentAt - $again.SentAt).TotalMilliseconds) | Should -BeLessThan 1
        if (Get-Command pdfinfo -ErrorAction SilentlyContinue) {
            (& pdfinfo $messages[0].Attachments[0].Path | Out-String) | Should -Match 'Page size:\s+612 x 792' -Because '-PaperSize Letter'
        }
    }

    It 'sends the open invoices piped from Get-BillingInvoice, and refuses them when the script runs again' {
        try {
            $env:NSELF_CUSTOMER_ID = 'cus_pipe'
            $october = New-TestInvoice cus_pipe @{ Company = 'Pipe Ltd'; Country = 'GB'; Email = 'accounts@pipe.example'; Locale = 'en-GB' } -Start '2026-10-01T00:00:00Z'
            $november = New-TestInvoice cus_pipe -Existing
            $mark = @(Get-SmtpSinkMessage $sink).Count
            $sent = @(Get-BillingInvoice -Status Open | Send-BillingInvoice -Confirm:$false)
            $sent.Count | Should -Be 2
            ($sent.InvoiceId | Sort-Object) | Should -Be (@($october.InvoiceId, $november.InvoiceId) | Sort-Object)
            $messages = Get-NewMessage $sink $mark -Count 2
            $messages.Count | Should -Be 2
            ($messages.Subject | Sort-Object) | Should -Be (@($october, $november) | ForEach-Object { "Invoice $($_.InvoiceNumber) from Beispiel GmbH" } | Sort-Object)
            @(Get-BillingInvoice -Status Open | Where-Object { -not $_.SentAt }).Count | Should -Be 0

            # Run again: each invoice is refused, one error each, and nothing is sent.
            $counts = Get-SinkCounts
            $again = @(Get-BillingInvoice -Status Open | Send-BillingInvoice -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable refused)
            $again.Count | Should -Be 0
            $refused.Count | Should -Be 2
            $refused | ForEach-Object { $_.FullyQualifiedErrorId -replace ',.*$', '' } | Should -Be 'InvoiceAlreadySent', 'InvoiceAlreadySent'
            Get-SinkCounts | Should -Be $counts
        }
        finally { $env:NSELF_CUSTOMER_ID = $null }
    }

    It 'sends to -To instead of the customer''s address, with -Cc copies, in English for an English buyer' {
        $invoice = New-TestInvoice cus_en @{ Company = 'Example Inc'; Country = 'US'; Email = 'ap@example-inc.example'; Locale = 'en-US' }
        $mark = @(Get-SmtpSinkMessage $sink).Count
        $sent = Send-BillingInvoice $invoice.InvoiceId -To 'boss@example-inc.example', 'Books <books@example-inc.example>' -Cc 'accountant@example.org' -Confirm:$false
        @($sent.To) -join ',' | Should -Match '^boss@example-inc\.example,.*books@example-inc\.example'
        @($sent.Cc) -join ',' | Should -Match 'accountant@example\.org'
        $mail = Get-NewMessage $sink $mark -Count 1
        $mail.Count | Should -Be 1
        $mail[0].Subject | Should -BeExactly "Invoice $($invoice.InvoiceNumber) from Beispiel GmbH"
        @($mail[0].To) | Should -Be 'boss@example-inc.example', 'books@example-inc.example'
        @($mail[0].Cc) | Should -Be @('accountant@example.org')
        (@($mail[0].EnvelopeTo) | Sort-Object) | Should -Be 'accountant@example.org', 'books@example-inc.example', 'boss@example-inc.example'
        @($mail[0].EnvelopeTo) | Should -Not -Contain 'ap@example-inc.example'
        @((Get-BillingInvoice -InvoiceId $invoice.InvoiceId).SentTo) -join ',' | Should -Match '^boss@example-inc\.example,.*books@example-inc\.example'
    }

    It 'logs in with -SmtpCredential, and never shows the password' {
        $invoice = New-TestInvoice cus_login @{ Name = 'Lena Login'; Country = 'DE'; Email = 'lena@login.example' }
        $pin = (1..32 | ForEach-Object { 'ab' }) -join ':'
        try {
            $shown = Set-BillingProfile -SmtpServer 127.0.0.1 -SmtpPort $loginSink.Port -SmtpCredential (New-Login billing $password) -SmtpUseTls:$false -SmtpCertificateSha256 $pin -PassThru
            $profile = Get-BillingProfile
            $profile.SmtpServer, $profile.SmtpPort, $profile.SmtpUseTls, $profile.SmtpUserName, $profile.SmtpPasswordSet | Should -Be '127.0.0.1', $loginSink.Port, $false, 'billing', $true
            ($profile.SmtpCertificateSha256 -replace ':', '') | Should -Be ($pin -replace ':', '')
            foreach ($shownProfile in $profile, $shown) {
                foreach ($property in $shownProfile.PSObject.Properties) { "$($property.Value)" | Should -Not -Match $password -Because "$($property.Name) must not hold the password" }
            }
            (Get-BillingProfile | Format-List * | Out-String -Width 300) | Should -Not -Match $password
            (Get-BillingProfile | ConvertTo-Json -Depth 5) | Should -Not -Match $password

            $mark = @(Get-SmtpSinkMessage $loginSink).Count
            $sent = Send-BillingInvoice $invoice.InvoiceId -Confirm:$false
            $sent.Server | Should -Be "127.0.0.1:$($loginSink.Port)"
            $mail = Get-NewMessage $loginSink $mark -Count 1
            $mail.Count | Should -Be 1
            $mail[0].AuthenticatedUser | Should -Be 'billing'
            @($mail[0].To) | Should -Be @('lena@login.example')
            (Get-BillingProfile | Format-List * | Out-String -Width 300) | Should -Not -Match $password
        }
        finally { Use-Sink $sink }
        $cleared = Get-BillingProfile
        $cleared.SmtpUserName, $cleared.SmtpPasswordSet, $cleared.SmtpUseTls, $cleared.SmtpCertificateSha256 | Should -Be $null, $false, $null, $null
    }

    It 'takes every SMTP setting from BILLING_SMTP_* when BILLING_SMTP_SERVER is set, and none from the profile' {
        $invoice = New-TestInvoice cus_env @{ Name = 'Emil Env'; Country = 'DE'; Email = 'emil@env.example' }
        $second = New-TestInvoice cus_env2 @{ Name = 'Erna Env'; Country = 'DE'; Email = 'erna@env.example' }
        try {
            # Any of the profile's settings used would fail: nothing listens there, TLS is required, the login is wrong.
            Set-BillingProfile -SmtpServer 127.0.0.1 -SmtpPort $deadPort -SmtpCredential (New-Login seller 'not-the-password') -SmtpUseTls
            $env:BILLING_SMTP_SERVER = '127.0.0.1'
            $env:BILLING_SMTP_PORT = "$($loginSink.Port)"
            $env:BILLING_SMTP_USER = 'billing'
            $env:BILLING_SMTP_PASSWORD = $password
            $env:BILLING_SMTP_USE_TLS = 'false'
            # A pinned certificate is only checked on a TLS connection: this one is taken and not used.
            $env:BILLING_SMTP_CERTIFICATE_SHA256 = 'AB' * 32
            $mark = @(Get-SmtpSinkMessage $loginSink).Count
            $sent = Send-BillingInvoice $invoice.InvoiceId -Confirm:$false
            $sent.Server | Should -Be "127.0.0.1:$($loginSink.Port)"
            $mail = Get-NewMessage $loginSink $mark -Count 1
            $mail.Count | Should -Be 1
            $mail[0].AuthenticatedUser | Should -Be 'billing'
            @($mail[0].To) | Should -Be @('emil@env.example')

            # Without a login in the environment, the profile's login (and its TLS) is not used either.
            $env:BILLING_SMTP_PORT = "$($sink.Port)"
            $env:BILLING_SMTP_USER = $null; $env:BILLING_SMTP_PASSWORD = $null; $env:BILLING_SMTP_USE_TLS = $null; $env:BILLING_SMTP_CERTIFICATE_SHA256 = $null
            # A value that cannot be used is refused before anything is sent.
            $before = Get-InvoiceText $second.InvoiceId
            $counts = Get-SinkCounts
            $env:BILLING_SMTP_PORT = 'smtp'
            Get-Failure { Send-BillingInvoice $second.InvoiceId -Confirm:$false } | Should -Be 'SmtpNotConfigured'
            Assert-NothingSent $second.InvoiceId $before $counts
            $env:BILLING_SMTP_PORT = "$($sink.Port)"
            $mark = @(Get-SmtpSinkMessage $sink).Count
            $sent = Send-BillingInvoice $second.InvoiceId -Confirm:$false
            $sent.Server | Should -Be "127.0.0.1:$($sink.Port)"
            $mail = Get-NewMessage $sink $mark -Count 1
            $mail.Count | Should -Be 1
            $mail[0].AuthenticatedUser | Should -BeNullOrEmpty
            @($mail[0].To) | Should -Be @('erna@env.example')
        }
        finally {
            foreach ($name in $smtpVariables) { [Environment]::SetEnvironmentVariable($name, $null) }
            Use-Sink $sink
        }
    }

    It '-WhatIf sends nothing and records nothing' {
        $invoice = New-TestInvoice cus_whatif @{ Name = 'Wanda Whatif'; Country = 'DE'; Email = 'wanda@whatif.example' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        Send-BillingInvoice $invoice.InvoiceId -WhatIf | Should -BeNullOrEmpty
        Assert-NothingSent $invoice.InvoiceId $before $counts
    }

    It 'refuses a draft (InvoiceNotSendable) and an unknown invoice (InvoiceNotFound), sending nothing' {
        $draft = New-TestInvoice cus_draft @{ Name = 'Dora Draft'; Country = 'DE'; Email = 'dora@draft.example' } -Draft
        $draft.Status | Should -Be 'Draft'
        $before = Get-InvoiceText $draft.InvoiceId
        $counts = Get-SinkCounts
        Get-Failure { Send-BillingInvoice $draft.InvoiceId -Confirm:$false } | Should -Be 'InvoiceNotSendable'
        Assert-NothingSent $draft.InvoiceId $before $counts
        Get-Failure { Send-BillingInvoice 'inv_does_not_exist' -Confirm:$false } | Should -Be 'InvoiceNotFound'
        Get-SinkCounts | Should -Be $counts
        # Finalized, it is sent.
        $open = Complete-BillingInvoice -InvoiceId $draft.InvoiceId -Confirm:$false
        (Send-BillingInvoice $open.InvoiceId -Confirm:$false).InvoiceNumber | Should -Be $open.InvoiceNumber
    }

    It 'refuses a customer without an e-mail address and no -To (NoRecipient), then sends to -To' {
        $invoice = New-TestInvoice cus_nomail @{ Name = 'Nils Nomail'; Country = 'DE' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        Get-Failure { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false } | Should -Be 'NoRecipient'
        Assert-NothingSent $invoice.InvoiceId $before $counts
        @((Send-BillingInvoice $invoice.InvoiceId -To nils@nomail.example -Confirm:$false).To) | Should -Be @('nils@nomail.example')
    }

    It 'refuses to send without an SMTP server (SmtpNotConfigured), then sends once one is set' {
        $invoice = New-TestInvoice cus_noserver @{ Name = 'Nora Noserver'; Country = 'DE'; Email = 'nora@noserver.example' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        try {
            Set-BillingProfile -Clear SmtpServer, SmtpPort
            (Get-BillingProfile).SmtpServer | Should -BeNullOrEmpty
            (Get-BillingProfile).SmtpPort | Should -BeNullOrEmpty
            Get-Failure { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false } | Should -Be 'SmtpNotConfigured'
            Assert-NothingSent $invoice.InvoiceId $before $counts
        }
        finally { Use-Sink $sink }
        (Send-BillingInvoice $invoice.InvoiceId -Confirm:$false).Server | Should -Be "127.0.0.1:$($sink.Port)"
    }

    It 'fails with SmtpUnreachable where nothing listens, then sends' {
        $invoice = New-TestInvoice cus_unreachable @{ Name = 'Udo Unreachable'; Country = 'DE'; Email = 'udo@unreachable.example' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        try {
            Set-BillingProfile -SmtpPort $deadPort
            $record = Get-SingleError { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false }
            $record.FullyQualifiedErrorId -replace ',.*$', '' | Should -Be 'SmtpUnreachable'
            "$record" | Should -Match ([regex]::Escape("127.0.0.1:$deadPort"))
            Assert-NothingSent $invoice.InvoiceId $before $counts
        }
        finally { Use-Sink $sink }
        Send-BillingInvoice $invoice.InvoiceId -Confirm:$false | Should -Not -BeNullOrEmpty
    }

    It 'fails with SmtpAuthenticationFailed on a wrong login or none, without showing the password, then sends' {
        $invoice = New-TestInvoice cus_badlogin @{ Name = 'Bea Badlogin'; Country = 'DE'; Email = 'bea@badlogin.example' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        $wrong = 'wrong-5d1e0c77'
        try {
            Set-BillingProfile -SmtpPort $loginSink.Port -SmtpCredential (New-Login billing $wrong) -SmtpUseTls:$false
            $record = Get-SingleError { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false }
            $record.FullyQualifiedErrorId -replace ',.*$', '' | Should -Be 'SmtpAuthenticationFailed'
            "$record $($record.ErrorDetails) $($record.TargetObject)" | Should -Not -Match $wrong
            Assert-NothingSent $invoice.InvoiceId $before $counts
            # A server that requires a login, and none given.
            Set-BillingProfile -Clear SmtpCredential
            Get-Failure { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false } | Should -Be 'SmtpAuthenticationFailed'
            Assert-NothingSent $invoice.InvoiceId $before $counts
            # The right one.
            Set-BillingProfile -SmtpCredential (New-Login billing $password)
            $mark = @(Get-SmtpSinkMessage $loginSink).Count
            Send-BillingInvoice $invoice.InvoiceId -Confirm:$false | Should -Not -BeNullOrEmpty
            (Get-NewMessage $loginSink $mark -Count 1)[0].AuthenticatedUser | Should -Be 'billing'
        }
        finally { Use-Sink $sink }
    }

    It 'fails with SmtpRecipientRefused when the server refuses an address, sending nothing, then sends' {
        $invoice = New-TestInvoice cus_refused @{ Company = 'Refus SA'; Country = 'FR'; Email = 'nobody@exemple.example'; Locale = 'fr-FR' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        try {
            Set-BillingProfile -SmtpPort $refusingSink.Port
            # The refused one among accepted ones: the message goes to none of them.
            $record = Get-SingleError { Send-BillingInvoice $invoice.InvoiceId -Cc 'copie@exemple.example' -Confirm:$false }
            $record.FullyQualifiedErrorId -replace ',.*$', '' | Should -Be 'SmtpRecipientRefused'
            "$record" | Should -Match 'nobody@exemple\.example'
            Assert-NothingSent $invoice.InvoiceId $before $counts
            $mark = @(Get-SmtpSinkMessage $refusingSink).Count
            @((Send-BillingInvoice $invoice.InvoiceId -To 'factures@refus.example' -Confirm:$false).To) | Should -Be @('factures@refus.example')
            (Get-NewMessage $refusingSink $mark -Count 1).Count | Should -Be 1
        }
        finally { Use-Sink $sink }
    }

    It 'fails with SmtpRejected when the server refuses the message, then sends' {
        $invoice = New-TestInvoice cus_rejected @{ Name = 'Rita Rejected'; Country = 'DE'; Email = 'rita@rejected.example' }
        $before = Get-InvoiceText $invoice.InvoiceId
        $counts = Get-SinkCounts
        try {
            Set-BillingProfile -SmtpPort $rejectingSink.Port
            Get-Failure { Send-BillingInvoice $invoice.InvoiceId -Confirm:$false } | Should -Be 'SmtpRejected'
            Assert-NothingSent $invoice.InvoiceId $before $counts
        }
        finally { Use-Sink $sink }
        $mark = @(Get-SmtpSinkMessage $sink).Count
        Send-BillingInvoice $invoice.InvoiceId -Confirm:$false | Should -Not -BeNullOrEmpty
        (Get-NewMessage $sink $mark -Count 1).Count | Should -Be 1
    }
}
