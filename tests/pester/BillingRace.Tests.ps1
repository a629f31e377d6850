# Issue 23, as users meet it: three pwsh processes store last month's usage for two customers as
# fast as they can while a fourth invoices that month in adjoining parts, finalizing each as it
# goes; then the writers stop and one more invoice per customer bills what is left. Every event
# must be on exactly one invoice line, and Test-BillingInvoice must find nothing. On SQLite and
# PostgreSQL. (The engine's contract suite races the same way with a writer whose clock is 10
# minutes behind, and proves by ingest times that the race happened.)
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

Describe 'Racing writers and a finalizer on <Backend>' -ForEach $backends {
    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'bills every event exactly once, and Test-BillingInvoice finds nothing' {
        $store = New-BackendStore -Backend $Backend -Directory $work -Name 'race' -Databases $databases
        $environment = @{ NSELF_USAGE_STORE = $store }
        Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; Initialize-UsageStore | Out-Null" | Out-Null
        $stop = Join-Path $work "stop-$Backend"
        $month = @'
$end = [datetimeoffset]::new([datetime]::UtcNow.Year, [datetime]::UtcNow.Month, 1, 0, 0, 0, [timespan]::Zero)
$start = $end.AddMonths(-1)
'@
        $writers = foreach ($name in 'w0', 'w1', 'w2') {
            $file = Join-Path $work "writer-$Backend-$name.ps1"
            Set-Content -LiteralPath $file -Encoding utf8NoBOM -Value @"
Import-Module '$manifest'
$month
`$random = [Random]::new($([int][char]$name[1]))
`$seconds = [int](`$end - `$start).TotalSeconds
`$i = 0
while (-not (Test-Path -LiteralPath '$stop') -and `$i -lt 3000) {
    Add-UsageRecord -CustomerId "cus_pr_`$(`$i % 2)" -Service api -Quantity 1 -Timestamp `$start.AddSeconds(`$random.Next(`$seconds)) -EventId "$name-`$i" -ErrorAction Stop
    `$i++
}
"written `$i"
"@
            Start-PwshProcess -File $file -Environment $environment -OutputPrefix (Join-Path $work "writer-$Backend-$name")
        }

        $finalized = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
$month
# Start once the writers are writing, and leave them time between parts.
while (@(Get-UsageRecord -CustomerId cus_pr_1 -Start `$start -End `$end -First 60).Count -lt 60) { Start-Sleep -Milliseconds 100 }
foreach (`$k in 0..7) {
    Start-Sleep -Milliseconds 300
    foreach (`$customer in 'cus_pr_0', 'cus_pr_1') {
        `$from = `$start + (`$end - `$start) * `$k / 8
        `$to = `$start + (`$end - `$start) * (`$k + 1) / 8
        New-BillingInvoice -CustomerId `$customer -Start `$from -End `$to -ErrorAction Stop | Complete-BillingInvoice -Confirm:`$false -ErrorAction Stop | Out-Null
    }
}
'finalized'
"@
        $finalized | Should -Be 'finalized'
        New-Item -ItemType File -Path $stop | Out-Null
        $writers | Wait-Process -Timeout 300
        foreach ($name in 'w0', 'w1', 'w2') {
            Get-Content -LiteralPath (Join-Path $work "writer-$Backend-$name.err") -Raw | Should -BeNullOrEmpty
            Get-Content -LiteralPath (Join-Path $work "writer-$Backend-$name.out") | Should -Match '^written \d+$'
        }

        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
$month
foreach (`$customer in 'cus_pr_0', 'cus_pr_1') {
    New-BillingInvoice -CustomerId `$customer -Start `$end -End `$end.AddHours(1) -ErrorAction Stop | Complete-BillingInvoice -Confirm:`$false -ErrorAction Stop | Out-Null
}
'discrepancies ' + @(Test-BillingInvoice -AllCustomers).Count
foreach (`$customer in 'cus_pr_0', 'cus_pr_1') {
    `$stored = @(Get-UsageRecord -CustomerId `$customer -Start `$start -End `$end).Count
    `$lines = @(Get-BillingInvoice -CustomerId `$customer | ForEach-Object Lines | Where-Object Kind -ne BaseFee)
    `$billed = (`$lines | Measure-Object -Property Events -Sum).Sum
    `$late = (`$lines | Where-Object Kind -eq Adjustment | Measure-Object -Property Events -Sum).Sum
    "`$customer stored=`$stored billed=`$billed late=`$late"
}
"@
        $lines[0] | Should -Be 'discrepancies 0'
        foreach ($line in $lines[1..2]) {
            $line | Should -Match '^cus_pr_\d stored=(\d+) billed=(\d+) late=(\d+)$'
            [void]($line -match 'stored=(\d+) billed=(\d+) late=(\d+)')
            [long]$Matches[1] | Should -BeGreaterThan 100
            [long]$Matches[2] | Should -Be ([long]$Matches[1])
            # Usage of parts already finalized was billed late: the writers raced the finalizer.
            [long]$Matches[3] | Should -BeGreaterThan 0
        }
    }
}
