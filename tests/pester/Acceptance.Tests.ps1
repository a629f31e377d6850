# The foundation's "Done means" checks, run as a new user would: in fresh pwsh processes against
# the built module, on a real SQLite file and on a real PostgreSQL database, unchanged.
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

Describe 'Foundation acceptance on <Backend>' -ForEach $backends {
    BeforeAll {
        # A store of its own for each check: a SQLite file, or a new PostgreSQL database.
        function New-AcceptanceStore([string] $Name) { New-BackendStore -Backend $Backend -Directory $work -Name $Name -Databases $databases }
    }

    BeforeEach { Skip-WithoutPostgres $Backend -Because 'no PostgreSQL test server (run build.ps1 Test with the postgresql package installed)' }

    It 'Add-UsageApiRequest then Get-Usage shows 1 request for api, in a fresh pwsh' {
        $lines = Invoke-Pwsh -WorkingDirectory $work -Environment @{ NSELF_USAGE_STORE = (New-AcceptanceStore 'first'); NSELF_CUSTOMER_ID = $null } -Script @"
Import-Module '$manifest'; `$env:NSELF_CUSTOMER_ID='cus_demo'; Add-UsageApiRequest /api/users GET 200; Get-Usage
"@
        # The default view puts the figures first and the names last (issue 17).
        $row = $lines | Where-Object { $_ -match '\sapi\s+cus_demo\s*$' }
        $row | Should -Match '^\s*1\s+requests\s+1\s'
    }

    It 'sums a million events of 0.000001 to exactly 1' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-AcceptanceStore 'million') } -Script @"
Import-Module '$manifest'
`$records = [string[]]::new(1000000); [Array]::Fill(`$records, 'api:0.000001')
Add-UsageRecord -Record `$records -CustomerId cus_million
`$usage = Get-Usage -CustomerId cus_million -Service api
`$usage.Events
`$usage.Quantity.ToString([cultureinfo]::InvariantCulture)
`$usage.Quantity -eq 1
"@
        $lines | Should -Be @('1000000', '1', 'True')
    }

    It 'counts the same -EventId once' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-AcceptanceStore 'once') } -Script @"
Import-Module '$manifest'
Add-UsageApiRequest /api/orders POST 201 -EventId evt-42 -CustomerId cus_once
Add-UsageApiRequest /api/orders POST 201 -EventId evt-42 -CustomerId cus_once
Add-UsageRecord api 1 -EventId evt-42 -CustomerId cus_once
(Get-Usage -CustomerId cus_once).Events
@(Get-UsageRecord -CustomerId cus_once).Count
"@
        $lines | Should -Be @('1', '1')
    }

    It 'includes events at 2026-01-31 23:59:59.9 in Get-Usage 2026-01-01 2026-01-31' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-AcceptanceStore 'endofday'); NSELF_CUSTOMER_ID = 'cus_jan' } -Script @"
Import-Module '$manifest'
Add-UsageApiRequest /last -Timestamp '2026-01-31 23:59:59.9'
Add-UsageApiRequest /first -Timestamp '2026-01-01 00:00:00'
Add-UsageApiRequest /next-month -Timestamp '2026-02-01 00:00:00'
(Get-Usage 2026-01-01 2026-01-31).Events
"@
        $lines | Should -Be '2'
    }

    It 'puts daily buckets in America/New_York right on the DST change days' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-AcceptanceStore 'dst'); NSELF_CUSTOMER_ID = 'cus_dst' } -Script @"
Import-Module '$manifest'
# Around the spring change (2026-03-08) and the autumn change (2026-11-01), in UTC.
'2026-03-08T04:30:00Z', '2026-03-08T05:00:00Z', '2026-03-09T03:59:00Z', '2026-03-09T04:00:00Z',
'2026-11-01T04:00:00Z', '2026-11-02T04:59:00Z', '2026-11-02T05:00:00Z' | ForEach-Object { Add-UsageApiRequest /dst -Timestamp `$_ }
Get-UsageAggregate Daily 2026-03-07 2026-03-09 -TimeZone America/New_York | ForEach-Object { '{0:yyyy-MM-dd HH:mm zzz} {1} {2}h' -f `$_.Period, `$_.Events, (`$_.PeriodEnd - `$_.Period).TotalHours }
Get-Usage 2026-11-01 2026-11-02 -Detailed -TimeZone America/New_York | ForEach-Object { '{0:yyyy-MM-dd} {1}' -f `$_.Date, `$_.Events }
"@
        $lines | Should -Be @(
            '2026-03-07 00:00 -05:00 1 24h'
            '2026-03-08 00:00 -05:00 2 23h'
            '2026-03-09 00:00 -04:00 1 24h'
            '2026-11-01 2'
            '2026-11-02 1'
        )
    }
}
