# Issue 20, forecasts as a user meets them: Get-UsageForecast for a customer whose use grows (the
# trend carried to the period's end, priced, the day the quota is crossed), customers piped in,
# every customer at once, Export-UsageReport showing the projection (looked at in Chromium at 1280
# and 390 px), and bad input. On SQLite and PostgreSQL.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend -WithAvailability
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $env:NSELF_CUSTOMER_ID = $null
    # Three weeks before today (UTC), at midnight: the subscription's period started then.
    $start = [datetimeoffset](Get-Date).ToUniversalTime().Date.AddDays(-21)

    # A customer on the starter plan (api: 100,000 requests included) whose daily requests grow by
    # $Step from $First, for the 21 whole days before today.
    function New-GrowingCustomer([string] $Customer, [int] $First, [int] $Step) {
        New-BillingSubscription -CustomerId $Customer -Plan starter -Start $start | Out-Null
        0..20 | ForEach-Object { [pscustomobject]@{ CustomerId = $Customer; Service = 'api'; Quantity = $First + $Step * $_; Timestamp = $start.AddDays($_).AddHours(12) } } | Add-UsageRecord
    }
}

AfterAll {
    Remove-InProcessFixture $work $saved
}

Describe 'Forecasts, on <Backend>' -ForEach $backends {
    BeforeAll {
        $database = $null
        if ($Available) {
            $database = Use-SessionStore $Backend (Join-Path $work "forecast-$Backend.db")
            New-GrowingCustomer cus_grow 2000 100
            New-GrowingCustomer cus_flat 1000 0
        }
    }

    BeforeEach {
        if (-not $Available) { Set-ItResult -Skipped -Because 'no PostgreSQL test server (set NSELF_TEST_POSTGRES, see eng/TestPostgres.ps1)' }
    }

    AfterAll {
        Remove-SessionStore $database
    }

    It 'carries a growing customer''s trend to the period''s end, prices it and names the day the quota is crossed' {
        $forecast = Get-UsageForecast -CustomerId cus_grow -Service api
        $forecast.UsedSoFar, $forecast.Limit, $forecast.Method, $forecast.HistoryDays | Should -Be 63000, 100000, 'trend', 21
        # Day 21 (today) is 4,100 and each day 100 more, to the period's end: the exact line's sum.
        $end = $forecast.PeriodEnd
        $days = [math]::Round(($end - $start).TotalDays)
        $expected = 63000 + (21..($days - 1) | ForEach-Object { 2000 + 100 * $_ } | Measure-Object -Sum).Sum
        $todayShare = 1 - ([datetimeoffset]::UtcNow - $start.AddDays(21)).TotalDays
        $expected -= (2000 + 100 * 21) * (1 - $todayShare)
        [double]$forecast.Projected | Should -BeGreaterThan ($expected * 0.99)
        [double]$forecast.Projected | Should -BeLessThan ($expected * 1.01)
        $forecast.ProjectedLow | Should -BeLessOrEqual $forecast.Projected
        $forecast.ProjectedHigh | Should -BeGreaterOrEqual $forecast.Projected
        # Crossing 100,000: the first day the running total reaches it, today adding only its rest
        # (late in the UTC day that is little, and the crossing moves a day later).
        $total = 63000 + (2000 + 100 * 21) * $todayShare; $day = 22
        while ($total -lt 100000 -and $day -lt $days) { $total += 2000 + 100 * $day; $day++ }
        if ($total -ge 100000) { $forecast.ExceedsOn | Should -Be ([DateOnly]::FromDateTime($start.AddDays($day - 1).UtcDateTime)) }
        else { $forecast.ExceedsOn | Should -BeNullOrEmpty }
        $forecast.Currency | Should -Be 'USD'
        $forecast.ProjectedCost | Should -BeGreaterOrEqual 0
    }

    It 'takes customers from the pipeline and every customer at once' {
        $piped = @(Get-BillingCustomer -CustomerId cus_grow, cus_flat | Get-UsageForecast -Service api)
        ($piped.CustomerId -join ',') | Should -Be 'cus_grow,cus_flat'
        $flat = $piped | Where-Object CustomerId -eq cus_flat
        $flat.Method | Should -Be 'mean'
        $flat.UsedSoFar | Should -Be 21000
        $flat.ExceedsOn | Should -BeNullOrEmpty
        $all = @(Get-UsageForecast -AllCustomers -Service api)
        ($all.CustomerId | Sort-Object) -join ',' | Should -Be 'cus_flat,cus_grow'
        # The default view keeps the projection, its cost and the crossing day at 80 columns.
        $text = $all | Out-String -Width 80
        $text | Should -Match 'ProjectedCost'
        $text | Should -Match 'ExceedsOn'
    }

    It 'shows the projection in Export-UsageReport' {
        $file = Export-UsageReport -CustomerId cus_grow -Path (Join-Path $work "report-$Backend.html")
        $html = Get-Content -LiteralPath $file.Path -Raw
        $html | Should -Match 'Where this period will end'
        $html | Should -Match '<section class="forecast" data-rows="\d+">'
        $html | Should -Match '<td data-label="Service">api</td><td class="n" data-label="Used so far">63000 requests</td>'
        $chromium = (Get-Command chromium, chromium-browser, google-chrome -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        if (-not $chromium) {
            if ($env:CI -eq 'true') { throw 'Chromium is not installed, and CI must look at the report.' }
            return
        }
        $artefacts = Join-Path (Get-RepoRoot) 'TestResults/forecasts'
        New-Item -ItemType Directory -Path $artefacts -Force | Out-Null
        foreach ($width in 1280, 390) {
            $shot = Join-Path $artefacts "report-forecast-$Backend-$(Get-TestCulture)-$width.png"
            & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$(Join-Path $work "fc-chromium-$width")" "--window-size=$width,3000" "--screenshot=$shot" "file://$($file.Path)" 2>$null | Out-Null
            Test-Path -LiteralPath $shot | Should -BeTrue
        }
    }

    It 'refuses <Name> with one error, <ErrorId>' -ForEach @(
        @{ Name = 'an empty service'; ErrorId = 'InvalidService'; Command = { Get-UsageForecast -CustomerId cus_grow -Service '' } }
        @{ Name = 'an unknown service'; ErrorId = 'InvalidService'; Command = { Get-UsageForecast -CustomerId cus_grow -Service nosuch } }
        @{ Name = 'an empty customer'; ErrorId = 'InvalidCustomerId'; Command = { Get-UsageForecast -CustomerId '' } }
        @{ Name = 'a customer and every customer'; ErrorId = 'InvalidArgument'; Command = { Get-UsageForecast -CustomerId cus_grow -AllCustomers } }
    ) {
        Get-Failure $Command | Should -Be $ErrorId
    }
}
