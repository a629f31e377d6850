# Issue 5 "Done means", run as a user would in fresh pwsh processes: exports in the quick
# reference's positional forms, re-import to identical totals, archives that survive kill -9,
# and the HTML report rendered in a real headless Chromium.
BeforeDiscovery {
    $backends = @(@{ Backend = 'SQLite' }; @{ Backend = 'PostgreSQL' })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
    $databases = [System.Collections.Generic.List[string]]::new()
    $artifacts = Join-Path (Get-RepoRoot) 'TestResults'
    New-Item -ItemType Directory -Path $artifacts -Force | Out-Null
}

AfterAll {
    foreach ($database in $databases) { Remove-TestPostgresDatabase $database }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Export, import and archive on <Backend>' -ForEach $backends {
    BeforeAll {
        function New-Store([string] $Name) { New-BackendStore -Backend $Backend -Directory $work -Name $Name -Databases $databases }
    }

    BeforeEach {
        if ($Backend -eq 'PostgreSQL' -and -not (Test-PostgresAvailable)) {
            Set-ItResult -Skipped -Because 'no PostgreSQL test server'
        }
    }

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
`$json = Export-Usage json '' 2026-01-01 2026-01-31 api
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

Describe 'Export-UsageReport in headless Chromium' {
    BeforeAll {
        $chromium = (Get-Command chromium, chromium-browser, google-chrome -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        function Invoke-Chromium([string[]] $Arguments) {
            $log = Join-Path $work ("chromium-" + [guid]::NewGuid().ToString('n') + '.log')
            $profile = Join-Path $work ("chromium-profile-" + [guid]::NewGuid().ToString('n'))
            $output = & $chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "--user-data-dir=$profile" --enable-logging=stderr --v=0 @Arguments 2> $log
            [pscustomobject]@{ Output = ($output -join "`n"); Log = (Get-Content -LiteralPath $log -Raw -ErrorAction SilentlyContinue) ?? '' }
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
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $folder 'report.db'); NSELF_CUSTOMER_ID = 'cus_report' } -Script @"
Import-Module '$manifest'
`$ErrorActionPreference = 'Stop'
New-BillingSubscription -Plan starter | Out-Null
# October 2026 in New York: api every hour with a busy afternoon, storage daily, some bandwidth.
`$start = [datetimeoffset]'2026-10-01T04:00:00Z'
0..(31 * 24 - 1) | ForEach-Object {
    `$at = `$start.AddHours(`$_)
    [pscustomobject]@{ Service = 'api'; Quantity = (10 + (`$_ % 24) * 3 + ((`$_ % 97) -eq 0 ? 500 : 0)); Timestamp = `$at }
} | Add-UsageRecord
0..30 | ForEach-Object { Add-UsageRecord -Service storage -Quantity (24 * (2 + [decimal]`$_ / 10)) -Timestamp `$start.AddDays(`$_).AddHours(6) }
0..30 | Where-Object { `$_ % 3 -eq 0 } | ForEach-Object { Add-UsageRecord -Service bandwidth -Quantity 1.5 -Timestamp `$start.AddDays(`$_).AddHours(9) }
`$file = Export-UsageReport -Path '$report' -Start 2026-10-01 -End 2026-10-31 -TimeZone America/New_York
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
        # 31 days in October, three services used, the starter plan's limited quotas, ten busiest hours.
        $expected = @('daily-api:31/31', 'daily-storage:31/31', 'daily-bandwidth:31/31', 'cost:3/3', "quota:$quotas/$quotas", 'peaks:10/10')
        $rendered | Sort-Object | Should -Be ($expected | Sort-Object)

        $desktop = Join-Path $artifacts 'usage-report-desktop.png'
        $phone = Join-Path $artifacts 'usage-report-phone.png'
        Remove-Item $desktop, $phone -ErrorAction SilentlyContinue
        Invoke-Chromium @("--screenshot=$desktop", '--window-size=1280,2200', "file://$report") | Out-Null
        Invoke-Chromium @("--screenshot=$phone", '--window-size=390,2600', "file://$report") | Out-Null
        (Get-Item $desktop).Length | Should -BeGreaterThan 20KB
        (Get-Item $phone).Length | Should -BeGreaterThan 10KB
    }
}
