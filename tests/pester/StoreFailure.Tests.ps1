# A store that fails in the middle of a pipeline (issue 14, fix 10): outside batch mode the first
# store failure ends the command with one terminating error that says how many of the piped
# events were stored before it, instead of one error per piped object; a bad row before it still
# gets its own non-terminating error. The store really fails: a PostgreSQL server of the test's own
# stopped as a crash would, and a SQLite store whose disk fills up (a small tmpfs, which needs root
# on Linux, as CI has).
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
    $postgresScript = Join-Path (Get-RepoRoot) 'eng/TestPostgres.ps1'

    # Pipes $Total events (rows 10 and 20 have a bad quantity) into Add-UsageRecord; before row
    # 6,001 it waits two seconds (chunks in flight finish) and runs $Break. Returns the child's
    # report lines.
    function Invoke-FailingPipeline([hashtable] $Environment, [string] $Break, [int] $Total = 40000) {
        Invoke-Pwsh -Environment $Environment -Script @"
Import-Module '$manifest'
`$failure = `$null
try {
    1..$Total | ForEach-Object {
        if (`$_ -eq 6001) { Start-Sleep -Seconds 2; $Break }
        if (`$_ -in 10, 20) { [pscustomobject]@{ Service = 'api'; Quantity = 'NaN'; EventId = "e`$_" } }
        else { [pscustomobject]@{ Service = 'api'; Quantity = 1; EventId = "e`$_" } }
    } | Add-UsageRecord -ErrorVariable +failed -ErrorAction SilentlyContinue
}
catch { `$failure = `$_ }
"TERMINATING=`$(`$failure.FullyQualifiedErrorId)"
"MESSAGE=`$(`$failure.Exception.Message -replace '\s+', ' ')"
# -ErrorVariable holds a terminating error as the exception that carries its record.
`$failed = @(`$failed | ForEach-Object { if (`$_ -is [System.Management.Automation.IContainsErrorRecord]) { `$_.ErrorRecord } else { `$_ } })
"ROWERRORS=`$(@(`$failed | Where-Object { `$_.FullyQualifiedErrorId -like 'InvalidQuantity,*' }).Count)"
"OTHERERRORS=`$(@(`$failed | Where-Object { `$_.FullyQualifiedErrorId -notlike 'InvalidQuantity,*' } | ForEach-Object FullyQualifiedErrorId) -join ' ')"
"@
    }

    function Get-Line([string[]] $Lines, [string] $Name) {
        $line = @($Lines | Where-Object { $_ -like "$Name=*" })
        $line | Should -HaveCount 1 -Because "the child reports $Name (output: $($Lines -join ' | '))"
        $line[0].Substring($Name.Length + 1)
    }

    # The count the terminating error's message gives, checked against the store.
    # Chunks are written every 5,000 events or after a second, so the count is not known up front:
    # some events before the break, none after it when the store fails at once ($MaxStored).
    function Assert-OneStoreFailure([string[]] $Lines, [string] $ErrorId, [int] $Stored, [int] $MaxStored) {
        Get-Line $Lines 'TERMINATING' | Should -BeLike "$ErrorId,NSelf.Usage.Commands.AddUsageRecordCommand"
        Get-Line $Lines 'ROWERRORS' | Should -Be '2' -Because 'each bad row before the failure keeps its own non-terminating error'
        # -ErrorVariable holds the terminating error too: once, not once per piped event.
        Get-Line $Lines 'OTHERERRORS' | Should -BeLike "$ErrorId,NSelf.Usage.Commands.AddUsageRecordCommand" -Because 'the failure is reported once, not once per piped event'
        $message = Get-Line $Lines 'MESSAGE'
        $said = if ($message -match '([\d,]+) of the piped events were stored before it; the rest were not') { [int]($Matches[1] -replace ',', '') }
        $said | Should -Not -BeNullOrEmpty -Because "the message counts what was stored: $message"
        $said | Should -Be $Stored -Because "the message says what the store holds: $message"
        $Stored | Should -BeGreaterThan 0 -Because 'events were written before the store failed'
        $Stored | Should -BeLessOrEqual $MaxStored
    }
}

AfterAll {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'A PostgreSQL server that stops in the middle of a pipeline' {
    BeforeAll {
        $clusterDirectory = Join-Path $work 'cluster'
        $available = $false
        if (Test-PostgresAvailable) {
            # Durable: the server is crashed, and must keep every commit it acknowledged.
            $admin = & $postgresScript -Start -Durable -WorkDirectory $clusterDirectory 6>$null
            $available = [bool] $admin
        }
    }

    AfterAll {
        if ($available) { & $postgresScript -Stop -WorkDirectory $clusterDirectory }
    }

    It 'ends Add-UsageRecord with one StoreUnavailable error saying how many events were stored' {
        if (-not $available) { Set-ItResult -Skipped -Because 'no PostgreSQL server binaries'; return }
        $environment = @{ NSELF_USAGE_STORE = $admin; NSELF_CUSTOMER_ID = 'cus_outage'; BILLING_CACHE_DIR = (Join-Path $work 'pg-cache') }
        Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; Initialize-UsageStore -Confirm:`$false | Out-Null" | Out-Null
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $lines = Invoke-FailingPipeline $environment "& '$postgresScript' -Pause -WorkDirectory '$clusterDirectory'"
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 120 -Because 'the command stops at the failure instead of trying every later chunk'
        & $postgresScript -Resume -WorkDirectory $clusterDirectory
        $stored = [int](Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; @(Get-UsageRecord 2000-01-01).Count" | Select-Object -Last 1)
        Assert-OneStoreFailure $lines 'StoreUnavailable' $stored 5998
    }
}

Describe 'A SQLite store whose disk fills up in the middle of a pipeline' {
    BeforeAll {
        $small = Join-Path $work 'small-disk'
        $cannotRun = Mount-SmallDisk -Path $small -Size 48m
        $canMount = -not $cannotRun
    }

    AfterAll {
        if ($canMount) { & umount $small }
    }

    It 'ends Add-UsageRecord with one StoreWriteFailed error saying how many events were stored' {
        if ($cannotRun) { Skip-UnlessCI $cannotRun; return }
        $filler = Join-Path $small 'filler'
        $environment = @{ NSELF_USAGE_STORE = (Join-Path $small 'usage.db'); NSELF_CUSTOMER_ID = 'cus_full'; BILLING_CACHE_DIR = (Join-Path $work 'sqlite-cache') }
        Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; Initialize-UsageStore -Confirm:`$false | Out-Null" | Out-Null
        # dd writes until the disk is full, then fails: that is the point.
        $lines = Invoke-FailingPipeline $environment "& dd if=/dev/zero of='$filler' bs=64k 2>`$null" 100000
        Remove-Item -LiteralPath $filler
        $stored = [int](Invoke-Pwsh -Environment $environment -Script "Import-Module '$manifest'; @(Get-UsageRecord 2000-01-01).Count" | Select-Object -Last 1)
        # A full disk may still take a chunk or two into space SQLite already has (its WAL).
        Assert-OneStoreFailure $lines 'StoreWriteFailed' $stored 99997
    }
}
