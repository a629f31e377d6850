# Issue 17 item 9: Get-UsageStatistic takes -Start/-End like every other reader, and keeps -Days
# in another parameter set; both at once is refused by parameter binding, as Get-Usage refuses
# -Period with -Start. In this session, against a temp SQLite store.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_USAGE_STORE = Join-Path $work 'statistic.db'
    $env:NSELF_CUSTOMER_ID = 'cus_a'
    foreach ($q in 1, 2, 3) { Add-UsageRecord -Service api -Quantity $q -Timestamp "2026-01-1${q}T10:00:00Z" }
    Add-UsageRecord -Service api -Quantity 10 -Timestamp '2026-02-10T10:00:00Z'
    # An hour ago: inside -Days 1, outside every range above.
    Add-UsageRecord -Service api -Quantity 100 -Timestamp (Get-Date).ToUniversalTime().AddHours(-1)
}

AfterAll {
    Remove-InProcessFixture -Work $work -Saved $saved
}

Describe 'Get-UsageStatistic -Start/-End' {
    It '<Given> reads <Events> event(s) totalling <Total>' -ForEach @(
        @{ Given = '-Start 2026-01-01 -End 2026-01-31'; Events = 3; Total = 6 }
        @{ Given = '-Start 2026-01-12 -End 2026-01-12'; Events = 1; Total = 2 }
        @{ Given = '-Start 2026-02-01 -End 2026-03-01'; Events = 1; Total = 10 }
        @{ Given = '-End 2026-02-28'; Events = 4; Total = 16 }
        @{ Given = '-Start 2026-02-01'; Events = 2; Total = 110 }
        @{ Given = '-Start 2026-01-11T09:00:00 -End 2026-01-11T11:00:00 -TimeZone Europe/Berlin'; Events = 0; Total = 0 }
        @{ Given = '-Start 2026-01-11T10:00:00 -End 2026-01-11T12:00:00 -TimeZone Europe/Berlin'; Events = 1; Total = 1 }
        @{ Given = '-Days 1'; Events = 1; Total = 100 }
        @{ Given = ''; Events = 1; Total = 100 }
    ) {
        $rows = @(Invoke-Expression "Get-UsageStatistic -Service api $Given -ErrorAction Stop")
        [int](($rows | Measure-Object Events -Sum).Sum) | Should -Be $Events
        [decimal](($rows | Measure-Object Total -Sum).Sum) | Should -Be $Total
    }

    It 'refuses -Days with -Start or -End at parameter binding' {
        { Get-UsageStatistic -Days 7 -Start 2026-01-01 -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,NSelf.Usage.Commands.GetUsageStatisticCommand'
        { Get-UsageStatistic -Days 7 -End 2026-01-01 -ErrorAction Stop } | Should -Throw -ErrorId 'AmbiguousParameterSet,NSelf.Usage.Commands.GetUsageStatisticCommand'
    }

    It 'refuses an end before the start (InvalidDateRange) and a $null start (InvalidTimestamp)' {
        { Get-UsageStatistic -Start 2026-02-01 -End 2026-01-01 -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDateRange,NSelf.Usage.Commands.GetUsageStatisticCommand'
        { Get-UsageStatistic -Start $null -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidTimestamp,NSelf.Usage.Commands.GetUsageStatisticCommand'
    }
}
