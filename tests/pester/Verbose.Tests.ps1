# -Verbose says what happened, on every command (issue 17 item 7): every exported command, run
# once with -Verbose on a seeded store, writes a verbose line that names the store (backend and
# location, never a password) and one with the time taken; the commands that read or write rows
# say how many. The table has one valid invocation per command and must cover every exported
# command: a new command fails the first test until it has a row. The commands of row-level
# security run on PostgreSQL (they refuse a SQLite file); the others on a SQLite file.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $postgres = Test-PostgresAvailable

    # Name: the command. Run: one valid invocation with -Verbose. Rows: a pattern one verbose line
    # must match, for the commands whose row counts are part of the contract. Postgres: run on
    # PostgreSQL. Rows run in this order, on one store per backend: later rows see earlier ones.
    $table = @(
        @{ Name = 'Initialize-UsageStore'; Run = 'Initialize-UsageStore -Verbose' }
        @{ Name = 'Test-UsageStore'; Run = 'Test-UsageStore -Verbose' }
        @{ Name = 'Get-UsageStore'; Run = 'Get-UsageStore -Verbose' }
        @{ Name = 'Connect-UsageStore'; Run = 'Connect-UsageStore -Path $store -Verbose' }
        @{ Name = 'Disconnect-UsageStore'; Run = 'Disconnect-UsageStore -Verbose' }
        @{ Name = 'Get-UsageConfiguration'; Run = 'Get-UsageConfiguration -Verbose' }
        @{ Name = 'Set-UsageConfiguration'; Run = 'Set-UsageConfiguration -TimeZone UTC -Verbose' }
        @{ Name = 'Get-UsageService'; Run = 'Get-UsageService -Verbose' }
        @{ Name = 'Register-UsageService'; Run = 'Register-UsageService -Name tokens -Unit tokens -Price 0.000002 -Verbose' }
        @{ Name = 'Add-UsageApiRequest'; Run = 'Add-UsageApiRequest /verbose GET 200 -Verbose'; Rows = '^Stored 1 new event' }
        @{ Name = 'Add-UsageBandwidth'; Run = 'Add-UsageBandwidth 1048576 egress -Verbose' }
        @{ Name = 'Add-UsageCompute'; Run = 'Add-UsageCompute 60 -Verbose' }
        @{ Name = 'Add-UsageDatabaseQuery'; Run = 'Add-UsageDatabaseQuery SELECT 5 -Verbose' }
        @{ Name = 'Add-UsageFunction'; Run = 'Add-UsageFunction sendEmail 10 128 -Verbose' }
        @{ Name = 'Add-UsageStorage'; Run = 'Add-UsageStorage 1048576 1 -Verbose' }
        @{ Name = 'Add-UsageRecord'; Run = '1..3 | ForEach-Object { [pscustomobject]@{ Service = ''api''; Quantity = 1; EventId = "piped-$_" } } | Add-UsageRecord -Verbose'; Rows = '^Stored 3 new event' }
        @{ Name = 'Get-Usage'; Run = 'Get-Usage -Start 2000-01-02 -Verbose'; Rows = ' [1-9][0-9]* object\(s\) written' }
        @{ Name = 'Get-UsageRecord'; Run = 'Get-UsageRecord -First 5 -Verbose'; Rows = ' 5 object\(s\) written' }
        @{ Name = 'Get-UsageAggregate'; Run = 'Get-UsageAggregate Daily 2000-01-02 -Verbose' }
        @{ Name = 'Get-UsagePeak'; Run = 'Get-UsagePeak api hourly 10 -Verbose' }
        @{ Name = 'Get-UsageStatistic'; Run = 'Get-UsageStatistic api 30 -Verbose' }
        @{ Name = 'Get-UsageTrend'; Run = 'Get-UsageTrend api 7 -Verbose' }
        @{ Name = 'Get-UsageAlert'; Run = 'Get-UsageAlert 7 -Verbose' }
        @{ Name = 'Set-UsageQuota'; Run = 'Set-UsageQuota -CustomerId cus_verbose -Service api -Limit 1000 -Verbose' }
        @{ Name = 'Get-UsageQuota'; Run = 'Get-UsageQuota -Verbose' }
        @{ Name = 'Test-UsageQuota'; Run = 'Test-UsageQuota -Verbose' }
        @{ Name = 'Register-UsageAlertAction'; Run = 'Register-UsageAlertAction verbose-hook -Webhook http://127.0.0.1:9/hook -Secret (ConvertTo-SecureString ''whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'' -AsPlainText -Force) -Level Exceeded -Verbose'; Rows = '^Alert action ''verbose-hook'' \(Webhook\) saved in ' }
        @{ Name = 'Get-UsageAlertAction'; Run = 'Get-UsageAlertAction -Verbose'; Rows = '^1 alert action\(s\) in ' }
        @{ Name = 'Submit-UsageAlertDelivery'; Run = 'Submit-UsageAlertDelivery -Verbose'; Rows = '^0 alert deliveries attempted, 0 delivered' }
        @{ Name = 'Get-UsageAlertDelivery'; Run = 'Get-UsageAlertDelivery -Verbose'; Rows = '^0 alert deliveries in ' }
        @{ Name = 'Remove-UsageAlertAction'; Run = 'Remove-UsageAlertAction verbose-hook -Confirm:$false -Verbose'; Rows = '^Alert action ''verbose-hook'' removed from ' }
        @{ Name = 'Get-UsageForecast'; Run = 'Get-UsageForecast -Verbose'; Rows = '^\d+ forecast\(s\) for 1 customer\(s\)' }
        @{ Name = 'Update-UsageSummary'; Run = 'Update-UsageSummary -Verbose' }
        @{ Name = 'Export-Usage'; Run = 'Export-Usage csv (Join-Path $work ''verbose.csv'') -Verbose'; Rows = '^Read [1-9][0-9]* event\(s\) from the store' }
        @{ Name = 'Import-UsageRecord'; Run = 'Import-UsageRecord $importFile -Verbose'; Rows = '^Imported 1 file\(s\): 2 row\(s\) read, 2 event\(s\) stored' }
        @{ Name = 'Export-UsageReport'; Run = 'Export-UsageReport -Path (Join-Path $work ''verbose.html'') -Verbose' }
        @{ Name = 'Move-UsageRecord'; Run = 'Move-UsageRecord 90 -Path (Join-Path $work ''archive.csv'') -Confirm:$false -Verbose' }
        @{ Name = 'Get-BillingPlan'; Run = 'Get-BillingPlan -Verbose' }
        @{ Name = 'Set-BillingPlan'; Run = 'Set-BillingPlan team -PriceMonthly 11 -Verbose' }
        @{ Name = 'Get-BillingCustomer'; Run = 'Get-BillingCustomer -Verbose' }
        @{ Name = 'New-BillingCustomer'; Run = 'New-BillingCustomer -CustomerId cus_verbose_new -Name New -Verbose' }
        @{ Name = 'Set-BillingCustomer'; Run = 'Set-BillingCustomer -CustomerId cus_verbose_new -Name Renamed -Verbose' }
        @{ Name = 'New-BillingSubscription'; Run = 'New-BillingSubscription -CustomerId cus_verbose_new -Plan team -Verbose' }
        @{ Name = 'Get-BillingSubscription'; Run = 'Get-BillingSubscription -Verbose' }
        @{ Name = 'Set-BillingSubscription'; Run = 'Set-BillingSubscription -CustomerId cus_verbose_new -Plan starter -Verbose' }
        @{ Name = 'Remove-BillingCustomer'; Run = 'Remove-BillingCustomer -CustomerId cus_verbose_gone -Confirm:$false -Verbose' }
        @{ Name = 'New-BillingInvoice'; Run = 'New-BillingInvoice -Start $lastMonth -End $lastMonthEnd -Verbose'; Rows = '^Invoice \S+ for cus_verbose, .*: [1-9][0-9]* line\(s\) written' }
        @{ Name = 'Get-BillingInvoice'; Run = 'Get-BillingInvoice -Verbose' }
        @{ Name = 'Test-BillingInvoice'; Run = 'Test-BillingInvoice -Verbose' }
        @{ Name = 'Get-BillingSummary'; Run = 'Get-BillingSummary -Verbose' }
        @{ Name = 'Export-BillingInvoice'; Run = 'Export-BillingInvoice -InvoiceId (Get-BillingInvoice)[0].InvoiceId -Path (Join-Path $work ''invoice.html'') -Verbose' }
        @{ Name = 'Complete-BillingInvoice'; Run = 'Complete-BillingInvoice -InvoiceId (Get-BillingInvoice)[0].InvoiceId -Confirm:$false -Verbose' }
        @{ Name = 'Set-BillingProfile'; Run = 'Set-BillingProfile -LegalName "Verbose GmbH" -Country DE -InvoicePrefix VB- -Email billing@verbose.example -SmtpServer 127.0.0.1 -SmtpPort $smtpSink.Port -SmtpUseTls:$false -Verbose'; Rows = 'VB-000001' }
        @{ Name = 'Get-BillingProfile'; Run = 'Get-BillingProfile -Verbose'; Rows = 'Verbose GmbH' }
        @{ Name = 'Send-BillingInvoice'; Run = 'Send-BillingInvoice -InvoiceId (Get-BillingInvoice -Status Open)[0].InvoiceId -To ap@verbose.example -Confirm:$false -Verbose'; Rows = '^Invoice \S+ sent to ap@verbose.example through 127.0.0.1:[0-9]+; Message-ID ' }
        @{ Name = 'Add-BillingCredit'; Run = 'Add-BillingCredit -CustomerId cus_verbose -Amount 5 -Currency USD -Verbose'; Rows = '^Credit grant [0-9]+ for cus_verbose: 5.00 USD, priority 50' }
        @{ Name = 'Get-BillingBalance'; Run = 'Get-BillingBalance -Verbose'; Rows = ' 1 object\(s\) written' }
        @{ Name = 'Remove-BillingCredit'; Run = 'Remove-BillingCredit -GrantId (Get-BillingBalance).Grants[0].GrantId -Reason verbose -Confirm:$false -Verbose'; Rows = '^Credit grant [0-9]+ of cus_verbose removed; status Removed' }
        @{ Name = 'Set-BillingInvoice'; Run = 'Set-BillingInvoice -InvoiceId (Get-BillingInvoice -Status Open)[0].InvoiceId -Paid -Confirm:$false -Verbose'; Rows = '^Payment recorded on invoice \S+ of cus_verbose: paid [0-9.]+, due 0.00 USD; status Paid' }
        @{ Name = 'New-BillingCreditNote'; Run = 'New-BillingCreditNote -InvoiceId (Get-BillingInvoice -Status Paid)[0].InvoiceId -Amount 1 -Reason verbose -Confirm:$false -Verbose'; Rows = '^Credit note \S+CN-000001 of invoice \S+: 1.00 USD \(0.00 off what it owed, 1.00 to the customer''s credit\)' }
        @{ Name = 'Get-BillingCreditNote'; Run = 'Get-BillingCreditNote -Verbose'; Rows = ' 1 object\(s\) written' }
        @{ Name = 'Export-BillingCreditNote'; Run = 'Export-BillingCreditNote -CreditNoteId (Get-BillingCreditNote)[0].CreditNoteNumber -Path (Join-Path $work ''credit-note.pdf'') -Format Pdf -Verbose'; Rows = '^Credit note \S+ of cus_verbose \(1 line\(s\)\) written to ' }
        @{ Name = 'Get-BillingLedger'; Run = 'Get-BillingLedger -Verbose'; Rows = ' [1-9][0-9]* object\(s\) written' }
        @{ Name = 'Set-BillingTaxRate'; Run = 'Set-BillingTaxRate VAT 19 -Country DE -Verbose'; Rows = 'VAT 19' }
        @{ Name = 'Get-BillingTaxRate'; Run = 'Get-BillingTaxRate -Verbose'; Rows = '1 tax rate' }
        @{ Name = 'Start-UsageBatch'; Run = 'Start-UsageBatch -Verbose' }
        @{ Name = 'Get-UsageBatch'; Run = 'Get-UsageBatch -Verbose' }
        @{ Name = 'Submit-UsageBatch'; Run = 'Submit-UsageBatch -Verbose' }
        @{ Name = 'Stop-UsageBatch'; Run = 'Stop-UsageBatch -Verbose' }
        @{ Name = 'Clear-UsageBatch'; Run = 'Clear-UsageBatch -Confirm:$false -Verbose' }
        @{ Name = 'Enable-UsageTenantIsolation'; Run = 'Enable-UsageTenantIsolation -Confirm:$false -Verbose'; Postgres = $true }
        @{ Name = 'Grant-UsageCustomerAccess'; Run = 'Grant-UsageCustomerAccess -Role $role -CustomerId cus_verbose -Verbose'; Postgres = $true }
        @{ Name = 'Get-UsageCustomerAccess'; Run = 'Get-UsageCustomerAccess -Verbose'; Postgres = $true }
        @{ Name = 'Revoke-UsageCustomerAccess'; Run = 'Revoke-UsageCustomerAccess -Role $role -CustomerId cus_verbose -Confirm:$false -Verbose'; Postgres = $true }
        @{ Name = 'Disable-UsageTenantIsolation'; Run = 'Disable-UsageTenantIsolation -Confirm:$false -Verbose'; Postgres = $true }
    )
    $sqliteRows = @($table | Where-Object { -not $_.Postgres })
    $postgresRows = @($table | Where-Object { $_.Postgres } | ForEach-Object { $_ + @{ Available = $postgres } })
    $tableNames = @($table | ForEach-Object Name)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $savedCustomer = $env:NSELF_CUSTOMER_ID
    # Send-BillingInvoice's row sends to a real SMTP server on this machine.
    $smtpSink = Start-SmtpSink -Directory (Join-Path $work 'mail')
    $utc = [DateTimeOffset]::UtcNow
    $monthStart = [DateTimeOffset]::new($utc.Year, $utc.Month, 1, 0, 0, 0, [TimeSpan]::Zero)
    $lastMonth = $monthStart.AddMonths(-1).ToString('yyyy-MM-dd')
    $lastMonthEnd = $monthStart.AddDays(-1).ToString('yyyy-MM-dd')

    # Seeds the store the session uses now: plans, the customer with a subscription since three
    # months ago, usage last month, an old event for Move-UsageRecord; returns an import file.
    function Initialize-VerboseStore {
        $env:NSELF_CUSTOMER_ID = 'cus_verbose'
        Set-BillingPlan team -PriceMonthly 10
        Set-BillingPlan starter -PriceMonthly 5
        New-BillingCustomer cus_verbose -Name 'Verbose Ltd' | Out-Null
        New-BillingCustomer cus_verbose_gone -Name 'Gone' | Out-Null
        New-BillingSubscription cus_verbose team -Start $monthStart.AddMonths(-3).ToString('yyyy-MM-dd') | Out-Null
        foreach ($day in 1..3) { Add-UsageApiRequest /seed -Timestamp $monthStart.AddMonths(-1).AddDays($day) -EventId "seed-$day" }
        Add-UsageApiRequest /old -Timestamp $utc.AddDays(-200) -EventId 'old-1'
        Add-UsageApiRequest /recent -EventId 'recent-1'
        $file = Join-Path $work "import-$([guid]::NewGuid().ToString('n').Substring(0, 8)).csv"
        Set-Content -LiteralPath $file -Encoding utf8NoBOM -Value @(
            'EventId,Service,Quantity,CustomerId'
            'imported-1,api,1,cus_verbose'
            'imported-2,api,2,cus_verbose'
        )
        $file
    }

    # Runs one row: its output and verbose lines; any error fails the row.
    function Invoke-VerboseRow([string] $Run) {
        $ErrorActionPreference = 'Stop'
        $VerbosePreference = 'SilentlyContinue' # -Verbose in the row is what turns the lines on
        $output = @(& ([scriptblock]::Create($Run)) 4>&1)
        @($output | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }

    function Assert-VerboseRow([string[]] $Lines, [string] $Location, [string] $Rows) {
        $shown = $Lines -join "`n"
        @($Lines | Where-Object { $_ -like "Store: *$Location*" }) | Should -Not -BeNullOrEmpty -Because "a verbose line names the store ($Location); got:`n$shown"
        @($Lines | Where-Object { $_ -match ' done in [0-9][0-9,.\s\u00a0\u202f]* ms' }) | Should -Not -BeNullOrEmpty -Because "a verbose line says the time taken; got:`n$shown"
        if ($Rows) { @($Lines | Where-Object { $_ -match $Rows }) | Should -Not -BeNullOrEmpty -Because "a verbose line matches '$Rows'; got:`n$shown" }
    }
}

AfterAll {
    if ($smtpSink) { Stop-SmtpSink $smtpSink }
    $env:NSELF_CUSTOMER_ID = $savedCustomer
    Remove-InProcessFixture $work $saved
}

Describe 'The -Verbose table' {
    # The table reaches the run phase as test data: BeforeDiscovery variables do not.
    It 'has a row for every exported command' -ForEach @(@{ Names = $tableNames }) {
        Import-Module (Get-ModuleManifestPath) -Force -Global
        $exported = @(Get-Command -Module NSelf.Usage | ForEach-Object Name | Sort-Object)
        $exported | Should -Not -BeNullOrEmpty
        @($exported | Where-Object { $_ -notin $Names }) | Should -BeNullOrEmpty -Because 'every exported command needs a row in the -Verbose table'
        @($Names | Where-Object { $_ -notin $exported }) | Should -BeNullOrEmpty -Because 'a row names an exported command'
    }

    It 'runs each command with -Verbose' -ForEach @(@{ Rows = $table }) {
        $Rows | Should -Not -BeNullOrEmpty
        foreach ($row in $Rows) { $row.Run | Should -Match "^(.*\| )?$([regex]::Escape($row.Name)) .*-Verbose\b" }
    }
}

Describe '-Verbose on a SQLite store' {
    BeforeAll {
        $store = Join-Path $work 'verbose.db'
        $env:NSELF_USAGE_STORE = $store
        $importFile = Initialize-VerboseStore
    }

    AfterAll {
        Stop-UsageBatch -ErrorAction SilentlyContinue | Out-Null
        Remove-Item Env:NSELF_USAGE_STORE -ErrorAction SilentlyContinue
    }

    It '<Name> names the store and the time taken' -ForEach $sqliteRows {
        $lines = Invoke-VerboseRow $Run
        Assert-VerboseRow $lines $store $Rows
    }
}

Describe '-Verbose on a PostgreSQL store' {
    BeforeAll {
        $database = $null
        $role = $null
        if (Test-PostgresAvailable) {
            $database = Use-SessionStore PostgreSQL 'unused'
            $location = [regex]::Match($database, 'Database=([^;]*)').Groups[1].Value
            $password = [regex]::Match($database, 'Password=([^;]*)').Groups[1].Value
            $role = 'usage_verbose_' + [guid]::NewGuid().ToString('n').Substring(0, 10)
            Invoke-Psql $env:NSELF_TEST_POSTGRES "CREATE ROLE $role NOLOGIN" | Out-Null
            $importFile = Initialize-VerboseStore
        }
    }

    AfterAll {
        if ($database) {
            Remove-SessionStore $database
            Invoke-Psql $env:NSELF_TEST_POSTGRES "DROP ROLE IF EXISTS $role" | Out-Null
        }
    }

    It '<Name> names the store and the time taken, and no password' -ForEach $postgresRows {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server'; return }
        $lines = Invoke-VerboseRow $Run
        Assert-VerboseRow $lines "/$location" $Rows
        if ($password) { ($lines -join "`n") | Should -Not -BeLike "*$password*" }
    }
}
