# Tenant isolation keyed on the database role (issue 22), end to end: the built module in fresh
# pwsh processes, and psql as a tenant holding an application role's credentials, which is how
# the isolation was broken before (SET app.is_admin = 'true'). Needs the PostgreSQL test server:
# skipped locally without one, a failure under CI=true (Test-PostgresAvailable throws there).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
    $available = Test-PostgresAvailable
    if ($available) {
        $database = New-TestPostgresDatabase
        $parts = @{}
        foreach ($pair in $database -split ';' | Where-Object { $_ }) { $key, $value = $pair -split '=', 2; $parts[$key] = $value }
        # Roles are cluster-wide: unique names, dropped in AfterAll.
        $suffix = [guid]::NewGuid().ToString('n').Substring(0, 8)
        $tenant = "t22_tenant_$suffix"      # mapped to cus_a
        $nobody = "t22_nobody_$suffix"      # mapped to nothing
        $admin = "t22_admin_$suffix"        # a member of usage_admin
        $password = 'tenant-secret'
        # The customer tables (TenantIsolation.CustomerTables), for the psql counts.
        $tables = 'billing_customers', 'billing_subscriptions', 'billing_usage_records', 'billing_invoices', 'usage_rollups',
        'usage_customer_quotas', 'usage_alerts', 'billing_invoice_lines', 'usage_archived_events', 'usage_rollups_daily',
        'billing_plan_changes', 'billing_line_events', 'billing_invoice_deliveries', 'billing_ledger', 'billing_credit_notes', 'billing_credit_note_lines',
        'usage_alert_deliveries'

        # The owner (the test server's superuser) creates the store and both customers' data.
        Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $database } -Script @"
Import-Module '$manifest' -ErrorAction Stop
`$ErrorActionPreference = 'Stop'
foreach (`$c in 'cus_a', 'cus_b') {
    New-BillingCustomer `$c -Name `$c | Out-Null
    New-BillingSubscription `$c pro | Out-Null
    Set-UsageQuota -CustomerId `$c api 1000
    foreach (`$h in 1..3) { Add-UsageApiRequest /seed -CustomerId `$c -Timestamp ([datetimeoffset]::UtcNow.AddHours(-`$h)) }
    New-BillingInvoice -CustomerId `$c -Start ([datetimeoffset]::UtcNow.AddHours(-5)) -End ([datetimeoffset]::UtcNow) | Out-Null
}
"@ | Out-Null
        # A least-privileged application role as Connect-UsageStore.md recommends: table grants, not ownership.
        $grants = 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {0}; GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {0};'
        Invoke-Psql $database (@(
                "CREATE ROLE $tenant LOGIN PASSWORD '$password'; CREATE ROLE $nobody LOGIN PASSWORD '$password'; CREATE ROLE $admin LOGIN PASSWORD '$password';"
                ($grants -f $tenant); ($grants -f $nobody); ($grants -f $admin)
            ) -join ' ') | Out-Null

        # A connection string for a role (psql through Invoke-Psql, or the module's -ConnectionString).
        function Get-RoleConnection([string] $Role) {
            ($database -replace 'Username=[^;]*', "Username=$Role") -replace 'Password=[^;]*', "Password=$password"
        }

        # Rows of one customer a role reads with psql from every customer table, after the SQL given first.
        function Get-VisibleRow([string] $Role, [string] $Customer, [string] $Before = '') {
            $sum = ($tables | ForEach-Object { "(SELECT count(*) FROM $_ WHERE customer_id = '$Customer')" }) -join ' + '
            [int](Invoke-Psql (Get-RoleConnection $Role) "$Before SELECT $sum;")
        }

        # Runs the module in a fresh pwsh, connected as a role (optionally scoped); returns its output lines.
        function Invoke-AsRole([string] $Role, [string] $Script, [string] $Scope) {
            $connect = "Connect-UsageStore -ConnectionString '$(Get-RoleConnection $Role)'" + ($Scope ? " -CustomerScope $Scope" : '')
            Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'unused.db') } -Script @"
Import-Module '$manifest' -ErrorAction Stop
try { $connect -ErrorAction Stop 3>&1 | ForEach-Object { "warning: `$_" } } catch { "error: `$(`$_.FullyQualifiedErrorId)"; return }
$Script
"@
        }

        function Invoke-AsOwner([string] $Script) {
            Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $database } -Script "Import-Module '$manifest' -ErrorAction Stop`n$Script"
        }

        # The restrictive policies: one per customer table, and one on usage_archives (13 when enabled).
        function Test-IsolationPolicy { [int](Invoke-Psql $database "SELECT count(*) FROM pg_policy WHERE polname LIKE '%\_tenant\_isolation'") }
    }
}

AfterAll {
    if ($available) {
        # Each role's privileges first (DROP ROLE refuses a role with any), then the database, then the roles.
        foreach ($role in $tenant, $nobody, $admin) {
            Invoke-Psql $database "DO `$`$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$role') THEN EXECUTE 'DROP OWNED BY $role'; END IF; END `$`$;" | Out-Null
        }
        Remove-TestPostgresDatabase $database
        Invoke-Psql $env:NSELF_TEST_POSTGRES "DROP ROLE IF EXISTS $tenant; DROP ROLE IF EXISTS $nobody; DROP ROLE IF EXISTS $admin;" | Out-Null
    }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Tenant isolation on PostgreSQL' {
    BeforeEach {
        if (-not $available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    It 'is off at first: a tenant widens its view with SET app.is_admin, and -CustomerScope warns that it is not enforced' {
        Get-VisibleRow $tenant cus_b "SET app.is_admin = 'true';" | Should -BeGreaterThan 0
        $lines = Invoke-AsRole $tenant -Scope cus_a -Script '(Get-UsageStore).CustomerScope'
        $lines[-1] | Should -Be 'cus_a'
        @($lines | Where-Object { $_ -like 'warning: *' }) | Should -HaveCount 1
        ($lines -join "`n") | Should -Match '-CustomerScope cus_a is not enforced by the database'
        ($lines -join "`n") | Should -Match 'Enable-UsageTenantIsolation'
    }

    It 'maps roles to customers piped from Get-BillingCustomer' {
        $lines = Invoke-AsOwner @"
Get-BillingCustomer cus_a | Grant-UsageCustomerAccess -Role $tenant | ForEach-Object { "`$(`$_.Role) `$(`$_.CustomerId) `$(`$_.GrantedAt.Offset)" }
Grant-UsageCustomerAccess -Role $tenant -CustomerId cus_a | ForEach-Object { 'again: ' + `$_.CustomerId }
(Get-UsageCustomerAccess -Role $tenant).CustomerId
@(Get-UsageCustomerAccess -Role $nobody).Count
"@
        $lines | Should -Be @("$tenant cus_a 00:00:00", 'again: cus_a', 'cus_a', '0')
        Invoke-Psql $database "SELECT role_name || ' ' || customer_id FROM usage_customer_access" | Should -Be "$tenant cus_a"
    }

    It 'Enable -WhatIf lists the roles that would lose access and changes nothing' {
        $lines = Invoke-AsOwner 'Enable-UsageTenantIsolation -WhatIf'
        $text = $lines -join "`n"
        $text | Should -Match 'What if: .*\(now not enabled\): 3 role\(s\) lose access'
        $text | Should -Match "What if: .*role $nobody loses every customer's rows \(mapped to no customer\)"
        $text | Should -Match "What if: .*role $tenant loses all but 1 customer's rows \(keeps cus_a\)"
        $text | Should -Match "What if: .*role $admin loses every customer's rows"
        # nself's materialized view has no row-level security: who can still read it, and the REVOKE.
        $text | Should -Match "What if: .*role $tenant can still SELECT every customer's daily totals from nself's materialized view billing_usage_daily_summary .*REVOKE SELECT ON billing_usage_daily_summary FROM $tenant;"
        Test-IsolationPolicy | Should -Be 0
        Get-VisibleRow $tenant cus_b "SET app.is_admin = 'true';" | Should -BeGreaterThan 0
    }

    It 'Enable -Confirm:$false enables it, warning for each role that lost access' {
        $lines = Invoke-AsOwner @'
Enable-UsageTenantIsolation -Confirm:$false -PassThru 3>&1 | ForEach-Object { if ($_ -is [System.Management.Automation.WarningRecord]) { "warning: $_" } else { "enabled: $($_.Enabled) $($_.CustomerTables) $($_.CurrentRoleIsAdmin) $($_.AdminRoleExists)" } }
'@
        $lines | Should -Contain 'enabled: True 17 True True'
        ($lines | Where-Object { $_ -like "warning: *role $nobody loses every customer's rows*" }) | Should -HaveCount 1
        ($lines | Where-Object { $_ -like "warning: *role $tenant loses all but 1 customer's rows (keeps cus_a)*" }) | Should -HaveCount 1
        Test-IsolationPolicy | Should -Be 18
        Invoke-Psql $env:NSELF_TEST_POSTGRES "GRANT usage_admin TO $admin;" | Out-Null
    }

    It 'Enable again changes nothing and warns about nobody; -WhatIf says that it is on' {
        (Invoke-AsOwner 'Enable-UsageTenantIsolation -WhatIf') -join "`n" | Should -Match 'What if: .*\(now enabled already\)'
        $lines = Invoke-AsOwner 'Enable-UsageTenantIsolation -Confirm:$false -PassThru 3>&1 | ForEach-Object { "$_" }'
        $lines | Should -Be @('NSelf.Usage.UsageTenantIsolation')
        Test-IsolationPolicy | Should -Be 18
    }

    It 'holds against psql as the tenant: no row of cus_b from any customer table, whatever the session sets' {
        Get-VisibleRow $tenant cus_b | Should -Be 0
        Get-VisibleRow $tenant cus_b "SET app.is_admin = 'true';" | Should -Be 0
        Get-VisibleRow $tenant cus_b "SET app.current_customer_id = 'cus_b'; SET app.is_admin = 'true';" | Should -Be 0
        Get-VisibleRow $tenant cus_a "SET app.is_admin = 'true';" | Should -BeGreaterThan 0
        # A scope narrows: scoped to cus_b, the tenant sees not even cus_a.
        Get-VisibleRow $tenant cus_a "SET app.current_customer_id = 'cus_b';" | Should -Be 0
    }

    It 'holds against psql as the tenant: cus_b''s rows cannot be inserted, updated or deleted, and the tenant cannot map itself' {
        $before = Invoke-Psql $database "SELECT count(*) || ' ' || sum(quantity) FROM billing_usage_records WHERE customer_id = 'cus_b'"
        $connection = Get-RoleConnection $tenant
        { Invoke-Psql $connection "SET app.is_admin = 'true'; SET app.current_customer_id = 'cus_b'; INSERT INTO billing_usage_records (customer_id, service_name, quantity) VALUES ('cus_b', 'api', 5);" } |
            Should -Throw '*row-level security*'
        Invoke-Psql $connection "SET app.is_admin = 'true'; WITH changed AS (UPDATE billing_usage_records SET quantity = 99 WHERE customer_id = 'cus_b' RETURNING 1) SELECT count(*) FROM changed;" | Should -Be '0'
        Invoke-Psql $connection "SET app.is_admin = 'true'; WITH gone AS (DELETE FROM billing_usage_records WHERE customer_id = 'cus_b' RETURNING 1) SELECT count(*) FROM gone;" | Should -Be '0'
        # Moving its own row over to cus_b is refused too.
        { Invoke-Psql $connection "SET app.is_admin = 'true'; UPDATE billing_usage_records SET customer_id = 'cus_b' WHERE customer_id = 'cus_a';" } |
            Should -Throw '*row-level security*'
        { Invoke-Psql $connection "SET app.is_admin = 'true'; INSERT INTO usage_customer_access (role_name, customer_id) VALUES ('$tenant', 'cus_b');" } |
            Should -Throw '*row-level security*'
        Invoke-Psql $database "SELECT count(*) || ' ' || sum(quantity) FROM billing_usage_records WHERE customer_id = 'cus_b'" | Should -Be $before
    }

    It 'holds through the module with and without -CustomerScope: the tenant sees only cus_a and cannot record usage for cus_b' {
        $script = @'
(Get-Usage -AllCustomers).CustomerId | Sort-Object -Unique | Join-String -Separator ',' -OutputPrefix 'usage: '
(Get-BillingCustomer).CustomerId | Join-String -Separator ',' -OutputPrefix 'customers: '
Add-UsageApiRequest /theirs -CustomerId cus_b -ErrorVariable denied -ErrorAction SilentlyContinue
Add-UsageRecord -Service api -Quantity 1 -CustomerId cus_b -ErrorVariable +denied -ErrorAction SilentlyContinue
$denied | ForEach-Object { 'denied: ' + $_.FullyQualifiedErrorId }
Add-UsageApiRequest /mine -CustomerId cus_a -PassThru | ForEach-Object { 'recorded: ' + $_.CustomerId }
'@
        $before = Invoke-Psql $database "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_b'"
        foreach ($scope in $null, 'cus_a') {
            $lines = Invoke-AsRole $tenant -Scope $scope -Script $script
            $lines | Should -Be @(
                'usage: cus_a'
                'customers: cus_a'
                'denied: AccessDenied,NSelf.Usage.Commands.AddUsageApiRequestCommand'
                'denied: AccessDenied,NSelf.Usage.Commands.AddUsageRecordCommand'
                'recorded: cus_a'
            ) -Because "scope: $scope (no warning: the database enforces it)"
        }
        Invoke-Psql $database "SELECT count(*) FROM billing_usage_records WHERE customer_id = 'cus_b'" | Should -Be $before
    }

    It 'refuses Connect-UsageStore -CustomerScope cus_b as the tenant with AccessDenied, keeping the session''s store' {
        $lines = Invoke-AsRole $tenant -Scope cus_a -Script @"
try { Connect-UsageStore -ConnectionString '$(Get-RoleConnection $tenant)' -CustomerScope cus_b -ErrorAction Stop; 'connected' }
catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category; `$_.TargetObject }
(Get-UsageStore).CustomerScope
"@
        $lines | Should -Be @('AccessDenied,NSelf.Usage.Commands.ConnectUsageStoreCommand', 'PermissionDenied', 'cus_b', 'cus_a')
    }

    It 'shows a role mapped to nothing nothing; an admin role and the owner see everyone' {
        Get-VisibleRow $nobody cus_a "SET app.is_admin = 'true';" | Should -Be 0
        Get-VisibleRow $nobody cus_b "SET app.is_admin = 'true';" | Should -Be 0
        Invoke-AsRole $nobody -Script '@(Get-Usage -AllCustomers).Count; @(Get-BillingCustomer).Count' | Should -Be @('0', '0')
        Invoke-AsRole $nobody -Scope cus_a -Script '' | Should -Be 'error: AccessDenied,NSelf.Usage.Commands.ConnectUsageStoreCommand' -Because 'a role mapped to nothing may act for no customer'
        Get-VisibleRow $admin cus_b | Should -BeGreaterThan 0
        Invoke-AsRole $admin -Script '(Get-Usage -AllCustomers).CustomerId | Sort-Object -Unique' | Should -Be @('cus_a', 'cus_b')
        Invoke-AsOwner '(Get-Usage -AllCustomers).CustomerId | Sort-Object -Unique' | Should -Be @('cus_a', 'cus_b')
    }

    It 'keeps mapping changes for admins: the tenant gets AccessDenied from Grant and Get-UsageCustomerAccess' {
        $lines = Invoke-AsRole $tenant -Script @"
Grant-UsageCustomerAccess -Role $tenant -CustomerId cus_b -ErrorAction SilentlyContinue -ErrorVariable e1
Get-UsageCustomerAccess -ErrorAction SilentlyContinue -ErrorVariable e2
(`$e1 + `$e2) | ForEach-Object FullyQualifiedErrorId
"@
        $lines | Should -Be @('AccessDenied,NSelf.Usage.Commands.GrantUsageCustomerAccessCommand', 'AccessDenied,NSelf.Usage.Commands.GetUsageCustomerAccessCommand')
    }

    It 'Revoke takes the customer away from the next statement on, and a missing mapping is CustomerAccessNotFound' {
        $lines = Invoke-AsOwner @"
Get-UsageCustomerAccess -CustomerId cus_a | Revoke-UsageCustomerAccess -Confirm:`$false -PassThru | ForEach-Object { 'revoked: ' + `$_.Role }
Revoke-UsageCustomerAccess -Role $tenant -CustomerId cus_a -ErrorVariable missing -ErrorAction SilentlyContinue
`$missing | ForEach-Object { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category }
"@
        $lines | Should -Be @("revoked: $tenant", 'CustomerAccessNotFound,NSelf.Usage.Commands.RevokeUsageCustomerAccessCommand', 'ObjectNotFound')
        Get-VisibleRow $tenant cus_a "SET app.is_admin = 'true';" | Should -Be 0
        Invoke-AsOwner "Grant-UsageCustomerAccess -Role $tenant -CustomerId cus_a | Out-Null"
        Get-VisibleRow $tenant cus_a | Should -BeGreaterThan 0
    }

    It 'Disable restores the access before Enable, keeping the mappings, and -CustomerScope warns again' {
        $owner = [int](Invoke-Psql $database ("SELECT " + (($tables | ForEach-Object { "(SELECT count(*) FROM $_ WHERE customer_id = 'cus_b')" }) -join ' + ')))
        Invoke-AsOwner 'Disable-UsageTenantIsolation -Confirm:$false -PassThru | ForEach-Object Enabled' | Should -Be 'False'
        Test-IsolationPolicy | Should -Be 0
        Get-VisibleRow $tenant cus_b "SET app.is_admin = 'true';" | Should -Be $owner
        Get-VisibleRow $nobody cus_b "SET app.is_admin = 'true';" | Should -Be $owner
        Invoke-Psql $database "SELECT role_name || ' ' || customer_id FROM usage_customer_access" | Should -Be "$tenant cus_a"
        $lines = Invoke-AsRole $tenant -Scope cus_b -Script '(Get-UsageStore).CustomerScope'
        ($lines -join "`n") | Should -Match '-CustomerScope cus_b is not enforced by the database'
        $lines[-1] | Should -Be 'cus_b'
    }
}

Describe 'Tenant isolation on SQLite' {
    It '<_> is InvalidArgument: a SQLite file has no row-level security' -ForEach @(
        'Enable-UsageTenantIsolation -Confirm:$false'
        'Disable-UsageTenantIsolation -Confirm:$false'
        'Grant-UsageCustomerAccess -Role billing_app -CustomerId cus_a'
        'Revoke-UsageCustomerAccess -Role billing_app -CustomerId cus_a -Confirm:$false'
        'Get-UsageCustomerAccess'
    ) {
        $store = Join-Path $work "sqlite-$([guid]::NewGuid().ToString('n').Substring(0, 8)).db"
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store } -Script @"
Import-Module '$manifest' -ErrorAction Stop
New-BillingCustomer cus_a | Out-Null
try { $_ -ErrorAction Stop; 'no error' } catch { `$_.FullyQualifiedErrorId.Split(',')[0]; `$_.CategoryInfo.Category; `$_.Exception.Message }
"@
        $lines | Should -Be @('InvalidArgument', 'InvalidArgument', 'Tenant isolation is PostgreSQL row-level security; a SQLite file has none (whoever can open the file can read all of it).')
    }
}
