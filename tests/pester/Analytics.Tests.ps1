# Issue 5 "Done means", run as a user would in fresh pwsh processes: exports in the quick
# reference's positional forms, re-import to identical totals, archives that survive kill -9,
# and the HTML report rendered in a real headless Chromium.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
    $artifacts = Join-Path (Get-RepoRoot) 'TestResults'
    New-Item -ItemType Directory -Path $artifacts -Force | Out-Null
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'Export, import and archive on <Backend>' -ForEach $backends {
    BeforeAll {
        function New-Store([string] $Name) { New-BackendStore -Backend $Backend -Directory $work -Name $Name -Databases $databases }
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'exports in the quick reference positional forms, re-imports to identical totals, and archives, restores and archives again without duplicates' {
        $folder = Join-Path $work "$Backend-roundtrip"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment @{ NSELF_USAGE_STORE = (New-Store 'source'); NSELF_CUSTOMER_ID = 'cus_exp'; BILLING_EXPORT_DIR = $folder } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
# January 2026: api calls with endpoints, storage, and a value a spreadsheet would run.
`$jan = [datetimeoffset]'2026-01-01T00:00:00Z'
1..600 | ForEach-Object { [pscustomobject]@{ Service = 'api'; Quantity = 1; Timestamp = `$jan.AddMinutes(`$_ * 70); Metadata = @{ endpoint = "/v1/items/`$(`$_ % 7)" } } } | Add-UsageRecord
1..31 | ForEach-Object { Add-UsageRecord -Service storage -Quantity ([decimal]`$_ / 8) -Timestamp `$jan.AddDays(`$_ - 1).AddHours(12) }
Add-UsageRecord -Service api -Quantity 0.000001 -EventId '=HYPERLINK("http://x")' -Timestamp '2026-01-15T10:00:00Z'
Add-UsageRecord -Service api -Quantity 5 -Timestamp '2026-02-01T00:00:00Z'   # outside January

`$csv = Export-Usage csv ./usage.csv 2026-01-01 2026-01-31
# The bash form usage_export json "" start end api: its empty path (the default folder) is -Path left out;
# a bound but empty -Path is InvalidPath (PathHandling.Tests).
`$json = Export-Usage json -Start 2026-01-01 -End 2026-01-31 -Service api
"CSV=`$(`$csv.Name)|`$((Import-Csv `$csv.FullName).Count)"
"JSONDIR=`$(`$json.DirectoryName -eq '$folder')|`$(`$json.Name -match '^usage_\d{8}_\d{6}\.json$')|`$((Get-Content `$json.FullName -Raw | ConvertFrom-Json).Count)"
`$rows = Import-Csv `$csv.FullName
"HEADER=`$((Get-Content `$csv.FullName -TotalCount 1))"
"ISO=`$(@(`$rows | Where-Object { `$_.Timestamp -notmatch '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$' }).Count)"
"TINY=`$((`$rows | Where-Object Quantity -eq '0.000001').Count)"
"INJECTION=`$(@(`$rows | Where-Object { `$_.EventId -like '*HYPERLINK*' }).EventId)"
try { Export-Usage csv ./usage.csv 2026-01-01 2026-01-31 -NoClobber } catch { "NOCLOBBER=`$(`$_.FullyQualifiedErrorId)" }
(Get-Item ./usage.csv).IsReadOnly = `$true
try { Export-Usage csv ./usage.csv 2026-01-01 2026-01-31 } catch { "READONLY=`$(`$_.FullyQualifiedErrorId)" }
"FORCE=`$((Export-Usage csv ./usage.csv 2026-01-01 2026-01-31 -Force).Length -gt 0)"
"FOLDER=`$((Export-Usage Json $folder 2026-01-01 2026-01-31).Name -match '^usage_\d{8}_\d{6}\.json$')"
"WHATIF=`$(@(Export-Usage csv ./whatif.csv -WhatIf).Count)|`$(Test-Path ./whatif.csv)"
`$before = Get-Usage 2026-01-01 2026-01-31
"BEFORE=`$((`$before | ForEach-Object { "`$(`$_.Service):`$(`$_.Quantity):`$(`$_.Events)" }) -join ',')"
"@
        $lines | Should -Contain 'CSV=usage.csv|632'
        $lines | Should -Contain "JSONDIR=True|True|601"
        $lines | Should -Contain 'HEADER=EventId,CustomerId,Service,Quantity,Unit,Timestamp,RecordedAt,Metadata'
        $lines | Should -Contain 'ISO=0'
        $lines | Should -Contain 'TINY=1'
        # A spreadsheet would run =HYPERLINK(...); the cell starts with a quote instead.
        $lines | Should -Contain 'INJECTION=''=HYPERLINK("http://x")'
        $lines | Should -Contain 'NOCLOBBER=FileExists,NSelf.Usage.Commands.ExportUsageCommand'
        $lines | Should -Contain 'READONLY=FileExists,NSelf.Usage.Commands.ExportUsageCommand'
        $lines | Should -Contain 'FORCE=True'
        $lines | Should -Contain 'FOLDER=True'
        $lines | Should -Contain 'WHATIF=0|False'
        $before = ($lines | Where-Object { $_ -like 'BEFORE=*' })
        $before | Should -Be 'BEFORE=api:600.000001:601,storage:62:31'

        # Into an empty store: identical totals; importing again adds nothing.
        $csvPath = Join-Path $folder 'usage.csv'
        $imported = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-Store 'target'); NSELF_CUSTOMER_ID = 'cus_exp' } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
`$first = Import-UsageRecord '$csvPath'
`$second = Import-UsageRecord '$csvPath'
"FIRST=`$(`$first.Rows)|`$(`$first.Inserted)|`$(`$first.Duplicates)"
"SECOND=`$(`$second.Inserted)|`$(`$second.Duplicates)"
"EVENTID=`$((Get-UsageRecord 2026-01-15 2026-01-15 | Where-Object Quantity -eq 0.000001).EventId)"
"AFTER=`$((Get-Usage 2026-01-01 2026-01-31 | ForEach-Object { "`$(`$_.Service):`$(`$_.Quantity):`$(`$_.Events)" }) -join ',')"

# Archive everything before February: the month still answers from the rollups.
`$archive = Move-UsageRecord -OlderThanDays ((Get-Date) - [datetime]'2026-02-01').Days -Path ./january.csv.gz -Confirm:`$false
"ARCHIVED=`$(`$archive.Rows)|`$(`$archive.Deleted)|`$((Get-UsageRecord 2026-01-01 2026-01-31 -AllCustomers | Measure-Object).Count)"
"ROLLUPS=`$((Get-Usage 2026-01-01 2026-01-31 | ForEach-Object { "`$(`$_.Service):`$(`$_.Quantity):`$(`$_.Events)" }) -join ',')"
# Restored from the archive: rows back, totals not doubled; archived again, still one copy.
`$restored = Import-UsageRecord ./january.csv.gz
"RESTORED=`$(`$restored.Inserted)|`$((Get-UsageRecord 2026-01-01 2026-01-31 -AllCustomers | Measure-Object).Count)"
"TOTALS=`$((Get-Usage 2026-01-01 2026-01-31 | ForEach-Object { "`$(`$_.Service):`$(`$_.Quantity):`$(`$_.Events)" }) -join ',')"
`$again = Move-UsageRecord -OlderThanDays ((Get-Date) - [datetime]'2026-02-01').Days -Path ./january-2.csv -Confirm:`$false
"AGAIN=`$(`$again.Rows)|`$((Get-Usage 2026-01-01 2026-01-31 | Measure-Object -Property Events -Sum).Sum)"
"@ -WorkingDirectory $folder
        $imported | Should -Contain 'FIRST=632|632|0'
        $imported | Should -Contain 'SECOND=0|632'
        $imported | Should -Contain 'EVENTID==HYPERLINK("http://x")'
        $imported | Should -Contain ($before -replace '^BEFORE=', 'AFTER=')
        $imported | Should -Contain 'ARCHIVED=632|632|0'
        $imported | Should -Contain ($before -replace '^BEFORE=', 'ROLLUPS=')
        $imported | Should -Contain 'RESTORED=632|632'
        $imported | Should -Contain ($before -replace '^BEFORE=', 'TOTALS=')
        $imported | Should -Contain 'AGAIN=632|632'
    }
}

Describe 'Move-UsageRecord killed with SIGKILL' {
    It 'leaves every event in the store or in a complete archive, whatever moment it dies' {
        $folder = Join-Path $work 'kill'
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $store = Join-Path $folder 'kill.db'
        $environment = @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = 'cus_kill' }
        Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$start = [datetimeoffset]'2025-06-01T00:00:00Z'
0..119999 | ForEach-Object { [pscustomobject]@{ Service = 'api'; Quantity = 1; Timestamp = `$start.AddSeconds(`$_ * 60); EventId = "evt-`$_" } } | Add-UsageRecord
"@ | Out-Null
        $all = 0..119999 | ForEach-Object { "evt-$_" }

        # Die while the archive is written, just after it is in place, and during the delete.
        $moments = @(@{ Wait = 'partial'; After = 0 }, @{ Wait = 'final'; After = 0 }, @{ Wait = 'final'; After = 150 }, @{ Wait = 'final'; After = 600 })
        $round = 0
        foreach ($moment in $moments) {
            $round++
            $archive = Join-Path $folder "archive-$round.csv"
            $script = Join-Path $folder "move-$round.ps1"
            Set-Content -LiteralPath $script -Value "Import-Module '$manifest'; Move-UsageRecord -OlderThanDays 30 -Path '$archive' -Confirm:`$false | Out-Null"
            $process = Start-PwshProcess -File $script -Environment $environment -OutputPrefix (Join-Path $folder "move-$round")
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            $seen = $false
            while (-not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) {
                $seen = if ($moment.Wait -eq 'partial') { Get-ChildItem -LiteralPath $folder -Filter ".archive-$round.csv.*.partial" -Force } else { Test-Path -LiteralPath $archive }
                if ($seen) { break }
                Start-Sleep -Milliseconds 5
            }
            # The move must have been under way when it was killed, or this round proves nothing.
            [bool]$seen | Should -BeTrue -Because "round ${round}: the move reached '$($moment.Wait)' ($(Get-Content -Raw -LiteralPath (Join-Path $folder "move-$round.err") -ErrorAction SilentlyContinue))"
            if ($moment.After) { Start-Sleep -Milliseconds $moment.After }
            if (-not $process.HasExited) { & kill -9 $process.Id }
            $process.WaitForExit()

            # Every event is in the store, or in an archive that reads back whole.
            $stored = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
Get-UsageRecord -AllCustomers | ForEach-Object EventId
"@
            $archived = foreach ($file in Get-ChildItem -LiteralPath $folder -Filter 'archive-*.csv') {
                $rows = Import-Csv -LiteralPath $file.FullName
                $rows[-1].EventId | Should -Not -BeNullOrEmpty -Because "$($file.Name) must be complete"
                $rows.EventId
            }
            $kept = [Collections.Generic.HashSet[string]]::new([string[]] @($stored))
            $kept.UnionWith([string[]] @($archived))
            $missing = @($all | Where-Object { -not $kept.Contains($_) })
            $missing.Count | Should -Be 0 -Because "round $round ($($moment.Wait) +$($moment.After) ms) lost no event"
        }

        # A last run completes: the store is empty of old events and the archives hold each once when restored.
        $final = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$result = Move-UsageRecord -OlderThanDays 30 -Path '$folder/archive-final.csv' -Confirm:`$false
"LEFT=`$((Get-UsageRecord -AllCustomers | Measure-Object).Count)"
`$files = Get-ChildItem '$folder' -Filter 'archive-*.csv'
`$imported = `$files | Import-UsageRecord
"RESTORED=`$((`$imported | Measure-Object -Property Inserted -Sum).Sum)|`$((Get-UsageRecord -AllCustomers | Measure-Object).Count)"
"TOTAL=`$((Get-Usage 2025-01-01 (Get-Date) | Measure-Object -Property Events -Sum).Sum)"
"@
        $final | Should -Contain 'LEFT=0'
        $final | Should -Contain 'RESTORED=120000|120000'
        $final | Should -Contain 'TOTAL=120000'
    }
}

Describe 'Export-UsageReport of last month on <Backend>' -ForEach $backends {
    BeforeAll {
        # What a reader sees of a piece of the page: its text without tags or entities.
        function Get-Text([string] $Html) { [System.Net.WebUtility]::HtmlDecode(($Html -replace '<[^>]+>', '')).Trim() }
        function Get-Card([string] $Html, [string] $Caption) {
            if ($Html -notmatch "<div class=`"muted`">$([regex]::Escape($Caption))</div><div class=`"value`">(.*?)</div>(<div class=`"detail`">(.*?)</div>)?") { throw "no '$Caption' card" }
            [pscustomobject]@{ Value = Get-Text $Matches[1]; Detail = Get-Text $Matches[3] }
        }
        function Get-Bar([string] $Html, [string] $Chart) {
            $start = $Html.IndexOf("data-chart=`"$Chart`"")
            if ($start -lt 0) { throw "no chart '$Chart'" }
            $block = $Html.Substring($start, $Html.IndexOf('</section>', $start) - $start)
            $next = $block.IndexOf('data-chart=', 12)
            if ($next -gt 0) { $block = $block.Substring(0, $next) }
            [regex]::Matches($block, '<div class="bar-label">(.*?)</div>.*?<div class="bar-text">(.*?)</div>') |
                ForEach-Object { [pscustomobject]@{ Label = Get-Text $_.Groups[1].Value; Text = Get-Text $_.Groups[2].Value } }
        }
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'shows last month''s quota use, base fees with usage, distinct services and customers, and busiest hours per service' {
        $folder = Join-Path $work "$Backend-past-report"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment @{ NSELF_USAGE_STORE = (New-BackendStore -Backend $Backend -Directory $work -Name 'past-report' -Databases $databases); NSELF_CUSTOMER_ID = 'cus_past' } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
`$now = [datetimeoffset]::UtcNow
`$thisMonth = [datetimeoffset]::new(`$now.Year, `$now.Month, 1, 0, 0, 0, [timespan]::Zero)
`$lastMonth = `$thisMonth.AddMonths(-1)
New-BillingSubscription -Plan starter -Start `$lastMonth -TimeZone UTC | Out-Null
New-BillingSubscription -CustomerId cus_other -Plan pro -Start `$lastMonth -TimeZone UTC | Out-Null
# Last month: 20,000 requests over starter's 100,000 (2.00 USD); this month a few more.
1..10 | ForEach-Object { Add-UsageRecord -Service api -Quantity 12000 -Timestamp `$lastMonth.AddDays(3).AddMinutes(`$_) }
Add-UsageRecord -Service api -Quantity 1000 -Timestamp `$thisMonth
Add-UsageRecord -CustomerId cus_other -Service api -Quantity 10 -Timestamp `$lastMonth.AddDays(4).AddHours(2)
Add-UsageRecord -CustomerId cus_other -Service storage -Quantity 5000 -Timestamp `$lastMonth.AddDays(5).AddHours(7)
`$from = `$lastMonth.ToString('yyyy-MM-dd'); `$to = `$thisMonth.AddDays(-1).ToString('yyyy-MM-dd')
Export-UsageReport -Path ./one.html -Start `$from -End `$to -TimeZone UTC | Out-Null
Export-UsageReport -Path ./all.html -Start `$from -End `$to -TimeZone UTC -AllCustomers | Out-Null
"FROM=`$from"
"TO=`$to"
"@
        $from = ($lines | Where-Object { $_ -like 'FROM=*' }) -replace 'FROM='
        $to = ($lines | Where-Object { $_ -like 'TO=*' }) -replace 'TO='
        $one = Get-Content -LiteralPath (Join-Path $folder 'one.html') -Raw
        $all = Get-Content -LiteralPath (Join-Path $folder 'all.html') -Raw

        # Quotas of last month's billing period, not this month's.
        $one | Should -Match ([regex]::Escape("Billing period $from to $to"))
        (Get-Bar $one 'quota' | Where-Object Label -eq 'api').Text | Should -BeLike '120000 / 100000 requests (120%*'
        (Get-Card $one 'Highest quota use').Value | Should -Be '120% api'
        # The base fee is in the cost, and the card says so.
        (Get-Card $one 'Cost').Value | Should -Be '31.00 USD'
        (Get-Card $one 'Cost').Detail | Should -Be '29.00 USD base fee + 2.00 USD usage'
        (Get-Bar $one 'cost').Label | Should -Be @('Starter base fee', 'api')

        # Every customer: two services (not three customer-service pairs), two customers, labelled bars.
        (Get-Card $all 'Services used').Value | Should -Be '2'
        (Get-Card $all 'Customers').Value | Should -Be '2'
        (Get-Card $all 'Cost').Detail | Should -Be '128.00 USD base fees + 2.00 USD usage'
        (Get-Bar $all 'cost').Label | Should -Be @('cus_other · Pro base fee', 'cus_other · api', 'cus_other · storage', 'cus_past · Starter base fee', 'cus_past · api')
        # Busiest hours ranked within each service, each in its own unit.
        (Get-Bar $all 'peaks-api').Text | Should -Be @('120000 requests (10 events)', '10 requests (1 event)')
        (Get-Bar $all 'peaks-storage').Text | Should -Be @('5000 GB-hours (1 event)')
        $all | Should -Not -Match 'data-chart="peaks"'
    }
}

Describe 'Export-UsageReport in headless Chromium' {
    BeforeAll {
        $chromium = (Get-Command chromium, chromium-browser, google-chrome -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        function Invoke-Chromium([string[]] $Arguments) {
            $log = Join-Path $work ("chromium-" + [guid]::NewGuid().ToString('n') + '.log')
            $profile = Join-Path $work ("chromium-profile-" + [guid]::NewGuid().ToString('n'))
            $output = & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$profile" --enable-logging=stderr --v=0 @Arguments 2> $log
            [pscustomobject]@{ Output = ($output -join "`n"); Log = (Get-Content -LiteralPath $log -Raw -ErrorAction SilentlyContinue) ?? '' }
        }
        # The page in a frame of the given width: "<width> <overflow px> <clipped texts>" as its own script measured them.
        function Get-FramedLayout([string] $Page, [int] $Width) {
            $frame = Join-Path $work ("frame-" + [guid]::NewGuid().ToString('n') + '.html')
            Set-Content -LiteralPath $frame -Encoding utf8NoBOM -Value @"
<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="file://$Page" style="width:${Width}px;height:3000px;border:0"></iframe>
<script>document.getElementById('f').onload = function () { var b = this.contentDocument.body; document.body.setAttribute('data-frame', this.contentWindow.innerWidth + ' ' + b.getAttribute('data-overflow') + ' ' + b.getAttribute('data-clipped')); };</script></body></html>
"@
            $run = Invoke-Chromium @('--allow-file-access-from-files', '--window-size=1400,3200', '--virtual-time-budget=5000', '--dump-dom', "file://$frame")
            if ($run.Output -notmatch 'data-frame="([^"]*)"') { throw "the frame did not load $Page`n$($run.Log)" }
            $Matches[1]
        }
        # Script errors and console.error calls as Chromium logs them.
        function Get-ConsoleError([string] $Log) {
            @($Log -split "`n" | Where-Object { $_ -match 'CONSOLE' -and $_ -match 'Uncaught|Error|error' })
        }
    }

    BeforeEach {
        if (-not $chromium) {
            if ($env:CI -eq 'true') { throw 'chromium is not installed, and CI must render the report.' }
            Set-ItResult -Skipped -Because 'no chromium'
        }
    }

    It 'notices a page with a script error (so the check below can fail)' {
        $broken = Join-Path $work 'broken.html'
        Set-Content -LiteralPath $broken -Value '<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>'
        $run = Invoke-Chromium @('--dump-dom', "file://$broken")
        (Get-ConsoleError $run.Log).Count | Should -BeGreaterThan 0
    }

    It 'draws every chart with the right number of points, logs no errors, and leaves a screenshot' {
        $folder = Join-Path $work 'report'
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $report = Join-Path $folder 'report.html'
        $everyone = Join-Path $folder 'everyone.html'
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $folder 'report.db'); NSELF_CUSTOMER_ID = 'cus_report' } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
# From before October, so October has a billing period, a base fee and quotas.
New-BillingSubscription -Plan starter -Start 2026-09-15 -TimeZone UTC | Out-Null
# October 2026 in New York: api every hour with a busy afternoon, storage daily, some bandwidth.
`$start = [datetimeoffset]'2026-10-01T04:00:00Z'
0..(31 * 24 - 1) | ForEach-Object {
    `$at = `$start.AddHours(`$_)
    [pscustomobject]@{ Service = 'api'; Quantity = (10 + (`$_ % 24) * 3 + ((`$_ % 97) -eq 0 ? 500 : 0)); Timestamp = `$at }
} | Add-UsageRecord
0..30 | ForEach-Object { Add-UsageRecord -Service storage -Quantity (24 * (2 + [decimal]`$_ / 10)) -Timestamp `$start.AddDays(`$_).AddHours(6) }
0..30 | Where-Object { `$_ % 3 -eq 0 } | ForEach-Object { Add-UsageRecord -Service bandwidth -Quantity 1.5 -Timestamp `$start.AddDays(`$_).AddHours(9) }
# Two more customers with long ids and the same services, for the report of every customer.
foreach (`$customer in 'cus_northwind_traders_europe_gmbh', 'cus_contoso') {
    New-BillingSubscription -CustomerId `$customer -Plan pro -Start 2026-10-10 -TimeZone UTC | Out-Null
    0..20 | ForEach-Object { Add-UsageRecord -CustomerId `$customer -Service api -Quantity (100 * `$_) -Timestamp `$start.AddDays(`$_).AddHours(3) }
    0..5 | ForEach-Object { Add-UsageRecord -CustomerId `$customer -Service compute -Quantity 2.5 -Timestamp `$start.AddDays(`$_ * 5).AddHours(7) }
}
`$file = Export-UsageReport -Path '$report' -Start 2026-10-01 -End 2026-10-31 -TimeZone America/New_York
Export-UsageReport -Path '$everyone' -Start 2026-10-01 -End 2026-10-31 -TimeZone America/New_York -AllCustomers | Out-Null
"FILE=`$(`$file.Name)"
"QUOTAS=`$(@(Get-UsageQuota | Where-Object { `$_.Limit -gt 0 }).Count)"
"@
        $lines | Should -Contain 'FILE=report.html'
        $quotas = [int](($lines | Where-Object { $_ -like 'QUOTAS=*' }) -replace 'QUOTAS=')
        $quotas | Should -BeGreaterThan 0

        # Self-contained: nothing is fetched from anywhere.
        $html = Get-Content -LiteralPath $report -Raw
        $html | Should -Not -Match '(src|href)\s*=\s*"(https?:)?//'

        $dom = Invoke-Chromium @('--dump-dom', "file://$report")
        Get-ConsoleError $dom.Log | Should -BeNullOrEmpty
        $dom.Output -match 'data-rendered="([^"]*)"' | Should -BeTrue -Because 'the page script ran'
        $rendered = $Matches[1] -split ' '
        # 31 days in October, three services used and the base fee, the starter plan's limited
        # quotas, each service's five busiest hours.
        $expected = @('daily-api:31/31', 'daily-storage:31/31', 'daily-bandwidth:31/31', 'cost:4/4', "quota:$quotas/$quotas", 'peaks-api:5/5', 'peaks-storage:5/5', 'peaks-bandwidth:5/5')
        $rendered | Sort-Object | Should -Be ($expected | Sort-Object)

        # Readable on a desktop and on a phone: nothing wider than the window, no text cut off,
        # as the page measures itself in a frame of that width (headless Chromium lays out
        # --dump-dom at 500 px at least, so the width is the frame's).
        foreach ($page in $report, $everyone) {
            foreach ($width in 1280, 390) {
                (Get-FramedLayout $page $width) | Should -Be "$width 0 0" -Because "$(Split-Path $page -Leaf) at $width px has no overflow and no clipped text"
            }
            $name = [IO.Path]::GetFileNameWithoutExtension($page)
            $desktop = Join-Path $artifacts "usage-$name-desktop.png"
            $phone = Join-Path $artifacts "usage-$name-phone.png"
            Remove-Item $desktop, $phone -ErrorAction SilentlyContinue
            Invoke-Chromium @("--screenshot=$desktop", '--window-size=1280,2400', "file://$page") | Out-Null
            Invoke-Chromium @("--screenshot=$phone", '--window-size=390,5200', "file://$page") | Out-Null
            (Get-Item $desktop).Length | Should -BeGreaterThan 20KB
            (Get-Item $phone).Length | Should -BeGreaterThan 10KB
        }
    }

    It 'notices a page wider than a phone (so the check above can fail)' {
        $folder = Join-Path $work 'report'
        $report = Join-Path $folder 'report.html'
        if (-not (Test-Path $report)) { Set-ItResult -Skipped -Because 'the report test did not run' }
        $wide = Join-Path $folder 'wide.html'
        (Get-Content -LiteralPath $report -Raw) -replace '<main>', '<main><div style="width: 700px">wide</div><h2 style="white-space: nowrap">A heading far too long to fit on a phone without being cut off at the edge</h2>' |
            Set-Content -LiteralPath $wide -Encoding utf8NoBOM
        $layout = (Get-FramedLayout $wide 390) -split ' '
        [int]$layout[1] | Should -BeGreaterThan 0
        [int]$layout[2] | Should -BeGreaterThan 0
    }
}
