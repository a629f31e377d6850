# Issue 14, files as people really write them and work that is interrupted, run as a user would in
# fresh pwsh processes on both stores: blank CSV cells, refusals that name their row, the
# Get-UsageRecord | Export-Csv round trip, Move-UsageRecord stopped with Ctrl+C or killed, and an
# import of id-less rows stopped half way and run again.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $backends = Get-TestBackend
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest, $work, $databases = New-SuiteFixture
    # Script text every child uses to switch stores by the form of the store string.
    $useStore = 'function Use-Store([string] $Store) { if ($Store -like ''Host=*'') { Connect-UsageStore -ConnectionString $Store } else { Connect-UsageStore -Path $Store } }'
}

AfterAll {
    Remove-SuiteFixture $work $databases
}

Describe 'Files and interruptions on <Backend>' -ForEach $backends {
    BeforeAll {
        function New-Store([string] $Name) { New-BackendStore -Backend $Backend -Directory $work -Name $Name -Databases $databases }
    }

    BeforeEach { Skip-WithoutPostgres $Backend }

    It 'reads blank CSV cells as values not given, in Add-UsageRecord and Import-UsageRecord, and names the row of each refusal' {
        $folder = Join-Path $work "$Backend-blank"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment @{ NSELF_USAGE_STORE = (New-Store 'blank'); NSELF_CUSTOMER_ID = 'cus_default' } -Script @"
Import-Module '$manifest'
@'
CustomerId,Service,Quantity,Timestamp,EventId,Metadata
,api,1,,,
cus_b,api,2, ,  ,  
cus_b,api,3,2026-11-01T10:00:00.123456Z,evt-3,"{""k"":1}"
cus_b,api,,,,
'@ | Set-Content -LiteralPath ./events.csv
Import-Csv ./events.csv | Add-UsageRecord -ErrorAction SilentlyContinue -ErrorVariable refused
"PIPED=`$(`$refused.Count)|`$(`$refused[0].Exception.ErrorId)|`$(`$refused[0].Exception.Message -like 'Row 4 of the pipeline: *')"
"DEFAULT=`$((Get-UsageRecord -CustomerId cus_default | ForEach-Object { '{0}:{1}' -f `$_.Quantity, `$_.Metadata }) -join ',')"
"B=`$((Get-UsageRecord -CustomerId cus_b | ForEach-Object { '{0}:{1}:{2}' -f `$_.Quantity, `$_.EventId, `$_.Timestamp.ToString('yyyy-MM-ddTHH:mm:ss.ffffff') }) -join ',')"
`$ids = @(Get-UsageRecord -AllCustomers | Where-Object EventId -ne 'evt-3' | ForEach-Object EventId)
"NEWIDS=`$(`$ids.Count)|`$(@(`$ids | Where-Object { `$_ -match '^[0-9a-f-]{36}$' }).Count)"
`$result = Import-UsageRecord ./events.csv -ErrorAction SilentlyContinue -ErrorVariable fileRefused
"FILE=`$(`$result.Rows)|`$(`$result.Inserted)|`$(`$result.Duplicates)|`$(`$result.Rejected)|`$(`$fileRefused[0].Exception.ErrorId)|`$(`$fileRefused[0].Exception.Message -like 'events.csv line 5: *')"
`$again = Import-UsageRecord ./events.csv -ErrorAction SilentlyContinue
"AGAIN=`$(`$again.Inserted)|`$(`$again.Duplicates)"
"@
        $lines | Should -Contain 'PIPED=1|InvalidQuantity|True'
        $lines | Should -Contain 'DEFAULT=1:{}'
        ($lines | Where-Object { $_ -like 'B=*' }) | Should -Match '^B=3:evt-3:2026-11-01T10:00:00\.123456,2:[0-9a-f-]{36}:'
        $lines | Should -Contain 'NEWIDS=2|2'
        # The file's id-less rows get ids derived from the row: stored once, then duplicates.
        $lines | Should -Contain 'FILE=4|2|1|1|InvalidQuantity|True'
        $lines | Should -Contain 'AGAIN=0|3'
    }

    It 'refuses the rows of Get-UsageRecord | Export-Csv under <_> with a message naming Export-Usage, which round-trips exactly' -ForEach @('en-US', 'de-DE') {
        $culture = $_
        $folder = Join-Path $work "$Backend-csv-$culture"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $source = New-Store "csv-source-$culture"
        $target = New-Store "csv-target-$culture"
        $lines = Invoke-Pwsh -WorkingDirectory $folder -Environment @{ NSELF_USAGE_STORE = $source; NSELF_CUSTOMER_ID = 'cus_rt' } -Script @"
Import-Module '$manifest'
$useStore
[cultureinfo]::CurrentCulture = '$culture'
Add-UsageRecord -Service storage -Quantity 2.5 -Timestamp '2026-11-01T10:00:00.123456Z' -EventId rt-1 -Metadata @{ bucket = 'b1' }
Add-UsageRecord -Service api -Quantity 1 -Timestamp '2026-11-02T08:30:00.000001Z' -EventId rt-2 -CustomerId cus_other
Add-UsageRecord -Service compute -Quantity 0.000001 -Timestamp '2026-11-03T00:00:00Z' -EventId rt-3
Get-UsageRecord -AllCustomers | Export-Csv -LiteralPath ./records.csv
`$file = Export-Usage -AllCustomers -Path ./usage.csv
`$expected = Get-UsageRecord -AllCustomers | ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}' -f `$_.EventId, `$_.CustomerId, `$_.Service, `$_.Quantity.ToString([cultureinfo]::InvariantCulture), `$_.Timestamp.UtcTicks, `$_.Metadata }
Use-Store '$target'
Import-Csv -LiteralPath ./records.csv | Add-UsageRecord -ErrorAction SilentlyContinue -ErrorVariable refused
"REFUSED=`$(`$refused.Count)|`$(@(`$refused | Where-Object { `$_.Exception.Message -like '*Export-Usage*' -and `$_.Exception.ErrorId -in 'InvalidTimestamp', 'InvalidQuantity' }).Count)"
"WRITTEN=`$(@(Get-UsageRecord -AllCustomers).Count)"
Import-UsageRecord -Path `$file.FullName | Out-Null
`$actual = Get-UsageRecord -AllCustomers | ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}' -f `$_.EventId, `$_.CustomerId, `$_.Service, `$_.Quantity.ToString([cultureinfo]::InvariantCulture), `$_.Timestamp.UtcTicks, `$_.Metadata }
"SAME=`$(@(`$expected).Count)|`$((`$expected -join ';') -eq (`$actual -join ';'))"
"@
        $lines | Should -Contain 'REFUSED=3|3'
        $lines | Should -Contain 'WRITTEN=0'
        $lines | Should -Contain 'SAME=3|True'
    }

    It 'leaves no archive of unmoved events when Move-UsageRecord is stopped with Ctrl+C or killed, and the store unchanged' {
        $folder = Join-Path $work "$Backend-move"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $environment = @{ NSELF_USAGE_STORE = (New-Store 'move'); NSELF_CUSTOMER_ID = 'cus_move' }
        Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$start = [datetimeoffset]'2025-06-01T00:00:00Z'
0..99999 | ForEach-Object { [pscustomobject]@{ Service = 'api'; Quantity = 1; Timestamp = `$start.AddSeconds(`$_ * 60); EventId = "evt-`$_" } } | Add-UsageRecord
"@ | Out-Null

        # Ctrl+C while the archive is verified: PowerShell.Stop() on the running command, as the console does.
        $stopped = Join-Path $folder 'stopped.csv'
        $lines = Invoke-Pwsh -Environment $environment -Script @"
`$ps = [powershell]::Create()
[void]`$ps.AddScript("Import-Module '$manifest'; Move-UsageRecord -OlderThanDays 30 -Path '$stopped' -Confirm:```$false")
`$handle = `$ps.BeginInvoke()
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
`$reached = ''
while (-not `$handle.IsCompleted -and [DateTime]::UtcNow -lt `$deadline) {
    `$n = `$ps.Streams.Progress.Count
    if (`$n -gt 0 -and `$ps.Streams.Progress[`$n - 1].StatusDescription -like 'Verifying*') { `$reached = 'Verifying'; break }
    Start-Sleep -Milliseconds 1
}
`$ps.Stop()
"REACHED=`$reached|`$(`$ps.InvocationStateInfo.State)"
Import-Module '$manifest'
"AFTERSTOP=`$(Test-Path -LiteralPath '$stopped')|`$(@(Get-ChildItem -LiteralPath '$folder' -Force).Count)|`$(@(Get-UsageRecord).Count)"
"@
        $lines | Should -Contain 'REACHED=Verifying|Stopped'
        $lines | Should -Contain 'AFTERSTOP=False|0|100000'

        # Killed outright while writing: only a hidden temporary file is left, and the next move deletes it.
        $killed = Join-Path $folder 'killed.csv'
        $script = Join-Path $work "$Backend-move-kill.ps1"
        Set-Content -LiteralPath $script -Value "Import-Module '$manifest'; Move-UsageRecord -OlderThanDays 30 -Path '$killed' -Confirm:`$false | Out-Null"
        $process = Start-PwshProcess -File $script -Environment $environment -OutputPrefix (Join-Path $work "$Backend-move-kill")
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        $seen = $null
        while (-not $process.HasExited -and [DateTime]::UtcNow -lt $deadline) {
            $seen = Get-ChildItem -LiteralPath $folder -Filter '.killed.csv.*.partial' -Force
            if ($seen) { break }
            Start-Sleep -Milliseconds 5
        }
        [bool]$seen | Should -BeTrue -Because 'the move was writing when it was killed'
        if (-not $process.HasExited) { & kill -9 $process.Id }
        $process.WaitForExit()
        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
"AFTERKILL=`$(Test-Path -LiteralPath '$killed')|`$(@(Get-UsageRecord).Count)"
`$moved = Move-UsageRecord -OlderThanDays 30 -Path '$folder/final.csv' -Confirm:`$false
"FINAL=`$(`$moved.Deleted)|`$((Get-ChildItem -LiteralPath '$folder' -Force).Name -join ',')|`$(@(Get-UsageRecord).Count)"
"@
        $lines | Should -Contain 'AFTERKILL=False|100000'
        $lines | Should -Contain 'FINAL=100000|final.csv|0'
    }

    It 'leaves no file, not even a partial one, when Export-Usage is stopped with Ctrl+C while writing' {
        # Issue 16: every command that writes a file goes through one output-file path (temporary
        # file, then moved into place); a stop half way must leave the folder as it was.
        $folder = Join-Path $work "$Backend-export-stop"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $environment = @{ NSELF_USAGE_STORE = (New-Store 'export-stop'); NSELF_CUSTOMER_ID = 'cus_exp' }
        $target = Join-Path $folder 'usage.csv'
        $lines = Invoke-Pwsh -Environment $environment -Script @"
Import-Module '$manifest'
`$start = [datetimeoffset]'2026-06-01T00:00:00Z'
0..59999 | ForEach-Object { [pscustomobject]@{ Service = 'api'; Quantity = 1; Timestamp = `$start.AddSeconds(`$_); EventId = "evt-`$_" } } | Add-UsageRecord
`$ps = [powershell]::Create()
[void]`$ps.AddScript("Import-Module '$manifest'; Export-Usage -Path '$target'")
`$handle = `$ps.BeginInvoke()
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
`$reached = ''
while (-not `$handle.IsCompleted -and [DateTime]::UtcNow -lt `$deadline) {
    `$n = `$ps.Streams.Progress.Count
    if (`$n -gt 0 -and `$ps.Streams.Progress[`$n - 1].StatusDescription -like '* of *') { `$reached = 'Writing'; break }
    Start-Sleep -Milliseconds 1
}
`$ps.Stop()
"REACHED=`$reached|`$(`$ps.InvocationStateInfo.State)"
"AFTERSTOP=`$(Test-Path -LiteralPath '$target')|`$(@(Get-ChildItem -LiteralPath '$folder' -Force).Count)"
"@
        $lines | Should -Contain 'REACHED=Writing|Stopped'
        $lines | Should -Contain 'AFTERSTOP=False|0'
    }

    It 'imports a file of rows without event ids exactly once when the import is stopped half way and run again' {
        $folder = Join-Path $work "$Backend-import"
        New-Item -ItemType Directory -Path $folder -Force | Out-Null
        $file = Join-Path $folder 'partner.csv'
        $rows = [System.Collections.Generic.List[string]]::new()
        $rows.Add('Service,Quantity,Timestamp')
        foreach ($i in 0..11999) { $rows.Add("api,$(1 + $i % 3),2026-11-$('{0:00}' -f (1 + $i % 20)) 10:00") }
        Set-Content -LiteralPath $file -Value $rows
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (New-Store 'import'); NSELF_CUSTOMER_ID = 'cus_imp' } -Script @"
`$ps = [powershell]::Create()
[void]`$ps.AddScript("Import-Module '$manifest'; Import-UsageRecord -Path '$file'")
`$handle = `$ps.BeginInvoke()
`$deadline = [DateTime]::UtcNow.AddSeconds(120)
while (-not `$handle.IsCompleted -and `$ps.Streams.Progress.Count -eq 0 -and [DateTime]::UtcNow -lt `$deadline) { Start-Sleep -Milliseconds 1 }
`$ps.Stop()
Import-Module '$manifest'
`$first = @(Get-UsageRecord).Count
"STOPPED=`$(`$ps.InvocationStateInfo.State)|`$(`$first -gt 0 -and `$first -lt 12000)"
`$result = Import-UsageRecord -Path '$file'
"RERUN=`$(`$result.Inserted + `$result.Duplicates)|`$(`$result.Duplicates -eq `$first)|`$(@(Get-UsageRecord).Count)|`$([int](Get-Usage 2026-11-01 2026-11-30).Quantity)"
"@
        $lines | Should -Contain 'STOPPED=Stopped|True'
        $lines | Should -Contain 'RERUN=12000|True|12000|24000'
    }
}
