# Issue 15, item 1: usage nself's own tools store under a service name the module never
# registered (its bulk insert validates nothing) is reported by every read, unpriced, with one
# warning per service and session naming Register-UsageService; a draft invoice shows it on a
# 0.00 line, finalizing refuses it (UnpricedUsage) until the service is registered.
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

Describe 'Usage of an unregistered service on <Backend>' -ForEach $backends {
    BeforeAll {
        # 3 sms for cus_a at 2026-10-10 10:00 UTC, written as nself's tools write it.
        function Add-ForeignSms([string] $store) {
            if ($Backend -eq 'PostgreSQL') {
                # nself's bulk insert, exactly.
                Invoke-StoreSql $store "insert into billing_usage_records(customer_id, service_name, quantity, recorded_at) values ('cus_a','sms',3,'2026-10-10 10:00:00+00')" | Out-Null
            }
            else {
                # The same through the sqlite3 shell (times in microseconds, quantities scaled by 10^6),
                # with the rollup rows the insert gives (OR IGNORE: where a trigger made them already).
                $at = [DateTimeOffset]::Parse('2026-10-10T10:00:00Z', [cultureinfo]::InvariantCulture).ToUnixTimeMilliseconds() * 1000
                Invoke-StoreSql $store @"
INSERT INTO billing_usage_records (event_id, customer_id, service_name, quantity, unit, metadata, recorded_at, ingested_at) VALUES ('op-1', 'cus_a', 'sms', 3000000, '', '{}', $at, $at);
INSERT OR IGNORE INTO usage_rollups SELECT customer_id, recorded_at - recorded_at % 900000000, service_name, 1, quantity, quantity, quantity FROM billing_usage_records WHERE event_id = 'op-1';
INSERT OR IGNORE INTO usage_rollups_daily SELECT customer_id, recorded_at - recorded_at % 86400000000, service_name, 1, quantity, quantity, quantity FROM billing_usage_records WHERE event_id = 'op-1';
"@ | Out-Null
            }
        }
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'reports it unpriced with one warning per session, drafts it at 0.00, and finalizes only once it is registered' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'sms' -Databases $databases
        $environment = @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_a' }
        Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; Add-UsageRecord -Record 'api:10' -Timestamp '2026-10-10T10:00:00Z'" | Out-Null
        Add-ForeignSms $store

        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
function Show { process { if (`$_ -is [System.Management.Automation.WarningRecord]) { 'warning: ' + `$_.Message } else { `$_ } } }
Get-Usage -Start 2026-10-01 -End 2026-11-01 3>&1 | Show | ForEach-Object { if (`$_ -is [string]) { `$_ } else { "usage: `$(`$_.Service) `$(`$_.Quantity) [`$(`$_.Unit)] cost `$(`$_.Cost)" } }
Get-UsageAggregate -Start 2026-10-01 -End 2026-11-01 -Interval Monthly -Service api 3>&1 | Show | ForEach-Object { if (`$_ -is [string]) { `$_ } else { "aggregate: `$(`$_.Service) `$(`$_.Total)" } }
Get-UsageAggregate -Start 2026-10-01 -End 2026-11-01 -Interval Monthly 3>&1 | Show | Where-Object Service -eq sms | ForEach-Object { "aggregate: `$(`$_.Service) `$(`$_.Total) [`$(`$_.Unit)] cost `$(`$_.Cost)" }
`$draft = New-BillingInvoice -Start 2026-10-01 -End 2026-11-01 3>&1 | Show
`$draft.Lines | Where-Object Service -eq sms | ForEach-Object { "draft: `$(`$_.Quantity) unit price [`$(`$_.UnitPrice)] amount `$(`$_.Amount) | `$(`$_.Description)" }
try { Complete-BillingInvoice `$draft.InvoiceId -Confirm:`$false | Out-Null; 'finalized?!' }
catch { "refused: `$(`$_.FullyQualifiedErrorId) `$(`$_.CategoryInfo.Category) `$(`$_.TargetObject -eq `$draft.InvoiceId)"; `$_.Exception.Message }
"status: `$((Get-BillingInvoice -InvoiceId `$draft.InvoiceId).Status)"
Register-UsageService -Name sms -Unit messages -Price 0.01
`$final = Complete-BillingInvoice `$draft.InvoiceId -Confirm:`$false 3>&1 | Show
`$final.Lines | Where-Object Service -eq sms | ForEach-Object { "final: `$(`$final.Status) `$(`$_.Quantity) `$(`$_.Unit) at `$(`$_.UnitPrice) = `$(`$_.Amount)" }
"@
        $warning = "warning: Service 'sms' has stored usage but is not registered, so it has no unit and no price (cost 0, unpriced). Price it with: Register-UsageService -Name sms -Unit <unit>"
        # The warning comes once the command has read (after its rows), and only from the first read.
        $lines[0..2] | Should -Be @('usage: api 10 [requests] cost 0.001', 'usage: sms 3 [] cost 0', $warning)
        @($lines | Where-Object { $_ -like 'warning:*' }).Count | Should -Be 1 -Because 'one warning per service and session'
        $lines[3..4] | Should -Be @('aggregate: api 10', 'aggregate: sms 3 [] cost 0')
        $lines[5] | Should -Be "draft: 3 unit price [] amount 0.00 | sms: 3 (unpriced: service 'sms' is not registered; Register-UsageService -Name sms -Unit <unit> prices it)"
        $lines[6] | Should -Be 'refused: UnpricedUsage,NSelf.Usage.Commands.CompleteBillingInvoiceCommand InvalidOperation True'
        $lines[7] | Should -BeLike "*unregistered service(s) 'sms'*Register-UsageService -Name sms -Unit <unit>*"
        $lines[8] | Should -Be 'status: Draft'
        $lines[9] | Should -Be 'final: Open 3 messages at 0.01 = 0.03'
        $lines.Count | Should -Be 10
    }

    It 'reads it by name with -Service, with one warning listing the known services; a malformed name is still refused' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'smsfilter' -Databases $databases
        $environment = @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_a' }
        Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; Add-UsageRecord -Record 'api:10' -Timestamp '2026-10-10T10:00:00Z'" | Out-Null
        Add-ForeignSms $store
        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
function Show { process { if (`$_ -is [System.Management.Automation.WarningRecord]) { 'warning: ' + `$_.Message } elseif (`$_ -is [System.Management.Automation.ErrorRecord]) { 'error: ' + `$_.FullyQualifiedErrorId } else { "usage: `$(`$_.Service) `$(`$_.Quantity)" } } }
Get-Usage -Service sms -Start 2026-10-01 -End 2026-11-01 3>&1 | Show
Get-Usage -Service SMS -Start 2026-10-01 -End 2026-11-01 3>&1 | Show
Get-Usage -Service "sms'; drop table billing_usage_records; --" -Start 2026-10-01 -End 2026-11-01 2>&1 | Show
Get-Usage -Service smss -Start 2026-10-01 -End 2026-11-01 3>&1 | Show
"@
        $lines[0] | Should -BeLike "warning: Service 'sms' is not registered: reading the usage stored under that name, if any, with no unit and no price. Known services: api, *. Price it with: Register-UsageService -Name sms -Unit <unit>"
        $lines[1..3] | Should -Be @('usage: sms 3', 'usage: sms 3', 'error: InvalidService,NSelf.Usage.Commands.GetUsageCommand')
        $lines[4] | Should -BeLike "warning: Service 'smss' is not registered*Known services: api, *"
        $lines[5] | Should -Be 'usage: smss 0' -Because 'a named service with no usage reads as 0, as a registered one does'
        $lines.Count | Should -Be 6
    }
}
