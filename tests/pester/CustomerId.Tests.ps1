# A -CustomerId given empty or $null (usually an unset variable: -CustomerId $typo) is refused
# with InvalidCustomerId by every command that takes one, and nothing is written; the default
# customer (Set-UsageConfiguration, $env:NSELF_CUSTOMER_ID, ./.env) applies only when the
# parameter is not given at all (issue 14, fix 3). The commands are found with Get-Command, so a
# new command with -CustomerId is covered without editing this file. Runs against SQLite, and
# against PostgreSQL when the test server is there.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
    Import-Module (Get-ModuleManifestPath) -Force
    # Set-UsageConfiguration is not here: its -CustomerId '' is the documented way to clear the
    # session's default (tested below); it acts for no customer.
    $commands = @(Get-Command -Module NSelf.Usage | Where-Object { $_.Parameters.ContainsKey('CustomerId') -and $_.Name -ne 'Set-UsageConfiguration' } |
            Sort-Object Name | ForEach-Object {
                $parameter = $_.Parameters['CustomerId']
                @{ Name = $_.Name; Piped = [bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ValueFromPipelineByPropertyName }) }
            })
    $cases = foreach ($c in $commands) {
        foreach ($given in @(@{ Given = "''"; Value = '' }, @{ Given = '$null'; Value = $null })) { $c + $given }
    }
    # Add-UsageRecord's piped rows are Import-Csv rows, where a blank cell means "not given"
    # (issue 14 fix 4 decides them); every other command refuses a piped empty or $null CustomerId.
    $pipedCases = @($cases | Where-Object { $_.Piped -and $_.Name -ne 'Add-UsageRecord' })
    Remove-Module NSelf.Usage
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    # Commands run here, so a file a command wrongly writes to the current folder is seen.
    $outputs = Join-Path $work 'outputs'
    New-Item -ItemType Directory -Path $outputs, $env:BILLING_EXPORT_DIR | Out-Null

    # The other arguments each command needs to get as far as its customer. A command not listed
    # runs with -CustomerId alone; if it needs more, its test fails until it is added here.
    $arguments = @{
        'Add-BillingCredit'       = @{ Amount = 5; Currency = 'USD' }
        'Add-UsageApiRequest'     = @{ Endpoint = '/x' }
        'Add-UsageBandwidth'      = @{ Bytes = 1 }
        'Add-UsageCompute'        = @{ Seconds = 1 }
        'Add-UsageFunction'       = @{ Name = 'fn' }
        'Add-UsageRecord'         = @{ Service = 'api'; Quantity = 1 }
        'Add-UsageStorage'        = @{ Bytes = 1 }
        'Grant-UsageCustomerAccess'  = @{ Role = 'billing_app' }
        'Import-UsageRecord'      = @{ Path = (Join-Path $work 'no-customer.csv') }
        'Move-UsageRecord'        = @{ Confirm = $false }
        'New-BillingSubscription' = @{ Plan = 'team' }
        'Register-UsageAlertAction' = @{ Name = 'customer-hook'; Webhook = 'http://127.0.0.1:9/hook'; Secret = (ConvertTo-SecureString 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' -AsPlainText -Force) }
        'Remove-BillingCustomer'  = @{ Confirm = $false }
        'Revoke-UsageCustomerAccess' = @{ Role = 'billing_app'; Confirm = $false }
        'Set-BillingCustomer'     = @{ Name = 'Renamed' }
        'Set-BillingSubscription' = @{ Plan = 'starter' }
        'Set-UsageQuota'          = @{ Service = 'api'; Limit = 5 }
        'Test-UsageStore'         = @{ Verify = $true; Repair = $true; Confirm = $false }
        'Test-UsageQuota'         = @{}
    }

    # Everything a command acting for the wrong customer could change: events, customers,
    # subscriptions, quotas, invoices, alerts, alert actions and deliveries, and files written.
    function Get-StoreState {
        $lines = [System.Collections.Generic.List[string]]::new()
        Get-UsageRecord -AllCustomers | Sort-Object CustomerId, EventId | ForEach-Object { $lines.Add("event $($_.CustomerId) $($_.EventId) $($_.Service) $($_.Quantity)") }
        Get-BillingCustomer -IncludeRemoved | Sort-Object CustomerId | ForEach-Object { $lines.Add("customer $($_.CustomerId) $($_.Name) $($_.DeletedAt)") }
        Get-BillingSubscription -AllCustomers -IncludeEnded | Sort-Object SubscriptionId | ForEach-Object { $lines.Add("subscription $($_.SubscriptionId) $($_.CustomerId) $($_.Plan) $($_.Status) $($_.CancelAtPeriodEnd)") }
        Get-UsageQuota -CustomerId cus_default | Sort-Object Service | ForEach-Object { $lines.Add("quota $($_.Service) $($_.Limit) $($_.CustomerId)") }
        Get-BillingInvoice -AllCustomers | Sort-Object InvoiceId | ForEach-Object { $lines.Add("invoice $($_.InvoiceId) $($_.CustomerId) $($_.Status) $($_.Total)") }
        Get-UsageAlert -AllCustomers | ForEach-Object { $lines.Add("alert $($_.CustomerId) $($_.Service) $($_.Level)") }
        Get-UsageAlertAction | ForEach-Object { $lines.Add("alert action $($_.Name) $($_.Target) $($_.CustomerId)") }
        Get-UsageAlertDelivery -AllCustomers | ForEach-Object { $lines.Add("alert delivery $($_.DeliveryId) $($_.CustomerId) $($_.Status) $($_.Attempts)") }
        Get-BillingLedger -AllCustomers | ForEach-Object { $lines.Add("ledger $($_.CustomerId) $($_.Kind) $($_.Amount)") }
        Get-ChildItem -LiteralPath $outputs, $env:BILLING_EXPORT_DIR -Recurse -File | ForEach-Object { $lines.Add("file $($_.FullName)") }
        $lines -join "`n"
    }

    # Runs a command; returns every error record it wrote or threw.
    function Get-Errors([scriptblock] $Run) {
        Push-Location $outputs
        try { Get-ErrorRecord $Run }
        finally { Pop-Location }
    }

    function Assert-InvalidCustomerId([object[]] $Errors) {
        @($Errors | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) | Should -HaveCount 1
        $Errors[0].FullyQualifiedErrorId | Should -BeLike "InvalidCustomerId,NSelf.Usage.Commands.*"
        "$($Errors[0].CategoryInfo.Category)" | Should -Be 'InvalidArgument'
    }
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'An empty or $null -CustomerId on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work 'customer-id.db')
            # The default customer has everything a command could act on, so falling back to it
            # would succeed (and change something) instead of failing.
            $env:NSELF_CUSTOMER_ID = 'cus_default'
            Set-UsageConfiguration -CustomerId '' -TimeZone ''
            Set-BillingPlan team -PriceMonthly 10
            Set-BillingPlan starter -PriceMonthly 5
            Set-UsageQuota -Plan team api 1
            New-BillingCustomer cus_default -Name 'Default' | Out-Null
            New-BillingSubscription cus_default team | Out-Null
            Add-UsageApiRequest /baseline -EventId baseline-1
            Add-UsageApiRequest /baseline -EventId baseline-2
            # An import file whose rows name no customer: they would go to the default customer.
            Set-Content -LiteralPath (Join-Path $work 'no-customer.csv') -Value @(
                'EventId,Service,Quantity,Timestamp'
                "imported-1,api,1,$((Get-Date).ToUniversalTime().AddMinutes(-5).ToString('yyyy-MM-ddTHH:mm:ssZ'))"
            )
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It '<Name> -CustomerId <Given> is InvalidCustomerId and writes nothing' -ForEach $cases {
        $extra = if ($arguments.ContainsKey($Name)) { $arguments[$Name] } else { @{} }
        $before = Get-StoreState
        $errors = Get-Errors { & $Name -CustomerId $Value @extra }
        Assert-InvalidCustomerId $errors
        Get-StoreState | Should -BeExactly $before
    }

    It '<Name> with a piped CustomerId of <Given> is InvalidCustomerId and writes nothing' -ForEach $pipedCases {
        $extra = if ($arguments.ContainsKey($Name)) { $arguments[$Name] } else { @{} }
        $before = Get-StoreState
        $piped = [pscustomobject]@{ CustomerId = $Value }
        $errors = Get-Errors { $piped | & $Name @extra }
        Assert-InvalidCustomerId $errors
        Get-StoreState | Should -BeExactly $before
    }

    It 'the default customer still applies when -CustomerId is not given' {
        Add-UsageApiRequest /default -EventId default-1
        @(Get-UsageRecord -CustomerId cus_default | Where-Object EventId -eq 'default-1') | Should -HaveCount 1
        (Get-BillingSummary).CustomerId | Should -Be 'cus_default'
    }

    It 'a piped object without a CustomerId, after one with $null, gets the default customer' {
        # PowerShell keeps the previous object's value in MyInvocation.BoundParameters; the
        # command must still see that this object gave no customer.
        $records = @([pscustomobject]@{ CustomerId = $null; Endpoint = '/null-customer' }, [pscustomobject]@{ Endpoint = '/no-customer' } |
                Add-UsageApiRequest -PassThru -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($failures | ForEach-Object FullyQualifiedErrorId) | Should -BeLike 'InvalidCustomerId,*'
        @($failures) | Should -HaveCount 1
        $records.CustomerId | Should -Be @('cus_default')
        $records.Metadata | Should -Match 'no-customer'
    }

    It 'a piped alert action without a CustomerId or Service, after one with $null, is for every customer and service' {
        # Register-UsageAlertAction's filters default to "every", not to the session's customer;
        # the object after a refused one must not inherit its $null (issue 20).
        $secret = ConvertTo-SecureString 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' -AsPlainText -Force
        $piped = @(
            [pscustomobject]@{ Name = 'piped-null'; Webhook = 'http://127.0.0.1:9/a'; CustomerId = $null; Service = $null }
            [pscustomobject]@{ Name = 'piped-none'; Webhook = 'http://127.0.0.1:9/b' }
            [pscustomobject]@{ Name = 'piped-some'; Webhook = 'http://127.0.0.1:9/c'; CustomerId = 'cus_default'; Service = 'api' }
            [pscustomobject]@{ Name = 'piped-none-again'; Webhook = 'http://127.0.0.1:9/d' }
        )
        $actions = @($piped | Register-UsageAlertAction -Secret $secret -ErrorVariable failures -ErrorAction SilentlyContinue)
        @($failures | ForEach-Object FullyQualifiedErrorId) | Should -BeLike 'InvalidArgument,*'   # the $null -Service is refused first
        @($failures) | Should -HaveCount 1
        @($actions | ForEach-Object { "$($_.Name) $($_.CustomerId) $($_.Service)".Trim() }) | Should -Be @('piped-none', 'piped-some cus_default api', 'piped-none-again')
        $actions | Remove-UsageAlertAction -Confirm:$false
    }

    It "Set-UsageConfiguration -CustomerId '' still clears the session's default, as documented" {
        Set-UsageConfiguration -CustomerId cus_session
        (Get-UsageConfiguration).CustomerId | Should -Be 'cus_session'
        Set-UsageConfiguration -CustomerId ''
        (Get-UsageConfiguration).CustomerId | Should -Be 'cus_default'
    }
}
