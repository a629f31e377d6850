# Files the PowerShell way (issue 17 item 5): -Path and -LiteralPath on every command that takes
# a file, wildcards where a command reads files, paths against PowerShell's current location (a
# PSDrive, Push-Location) and never the process's current directory, -Encoding on the text exports
# (checked byte by byte), one -Force/-NoClobber rule for every writer, and an empty -Path refused.
# Files.Tests.ps1 is the process-kill suite; this one runs the module in this session on SQLite.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $work, $saved = New-InProcessFixture
    $savedCustomer = $env:NSELF_CUSTOMER_ID
    $savedDirectory = [Environment]::CurrentDirectory
    $env:NSELF_USAGE_STORE = Join-Path $work 'paths.db'
    $env:NSELF_CUSTOMER_ID = 'cus_paths'
    Add-UsageApiRequest /seed -EventId 'seed-1' -Timestamp '2026-01-10T10:00:00Z'
    Add-UsageRecord -Service api -Quantity 1 -EventId 'seed-2' -Timestamp '2026-01-11T10:00:00Z' -Metadata @{ note = 'Grüße, €' }

    # The process's current directory is kept elsewhere: a path resolved against it, not against
    # PowerShell's location, lands in this folder, and the tests look for it there.
    $elsewhere = Join-Path $work 'process-cwd'
    New-Item -ItemType Directory -Path $elsewhere | Out-Null
    [Environment]::CurrentDirectory = $elsewhere

    # A new empty folder under the work folder.
    function New-Folder([string] $Name) {
        $path = Join-Path $work "$Name-$([guid]::NewGuid().ToString('n').Substring(0, 6))"
        New-Item -ItemType Directory -Path $path | Out-Null
        $path
    }

    # An import file of Count rows whose event ids start with Prefix.
    function New-ImportFile([string] $LiteralPath, [string] $Prefix, [int] $Count = 1) {
        $rows = foreach ($i in 1..$Count) { "$Prefix-$i,api,1,cus_paths,2026-01-12T10:00:00Z" }
        [IO.File]::WriteAllLines($LiteralPath, [string[]](@('EventId,Service,Quantity,CustomerId,Timestamp') + $rows), [Text.UTF8Encoding]::new($false))
    }

    function Get-Bytes([string] $LiteralPath, [int] $Count) { [byte[]]@([IO.File]::ReadAllBytes($LiteralPath) | Select-Object -First $Count) }
}

AfterAll {
    [Environment]::CurrentDirectory = $savedDirectory
    $env:NSELF_CUSTOMER_ID = $savedCustomer
    Remove-Item Env:NSELF_USAGE_STORE -ErrorAction SilentlyContinue
    Remove-InProcessFixture $work $saved
}

Describe 'Import-UsageRecord -Path with wildcards' {
    It 'imports every matching file, in name order, each once' {
        $folder = New-Folder wild
        New-ImportFile (Join-Path $folder 'usage-2.csv') 'wild2' 2
        New-ImportFile (Join-Path $folder 'usage-1.csv') 'wild1' 1
        New-ImportFile (Join-Path $folder 'other.csv') 'other' 1
        $results = @(Import-UsageRecord -Path (Join-Path $folder 'usage-*.csv'))
        $results.Path | Should -Be @((Join-Path $folder 'usage-1.csv'), (Join-Path $folder 'usage-2.csv'))
        $results.Inserted | Should -Be @(1, 2)
        $again = @(Import-UsageRecord -Path (Join-Path $folder 'usage-*.csv'))
        $again.Inserted | Should -Be @(0, 0)
        $again.Duplicates | Should -Be @(1, 2)
        @(Get-UsageRecord -AllCustomers | Where-Object EventId -Like 'other-*') | Should -BeNullOrEmpty
    }

    It 'reports a pattern that matches nothing as PathNotFound and imports the other paths' {
        $folder = New-Folder nomatch
        New-ImportFile (Join-Path $folder 'found.csv') 'found' 1
        $ErrorActionPreference = 'Continue'
        $output = @(Import-UsageRecord -Path (Join-Path $folder 'missing-*.csv'), (Join-Path $folder 'found.csv') 2>&1)
        $errors = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        $errors | Should -HaveCount 1
        $errors[0].FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
        "$($errors[0].CategoryInfo.Category)" | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be (Join-Path $folder 'missing-*.csv')
        @($output | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Inserted | Should -Be 1
    }

    It 'takes -LiteralPath as written, so a name with brackets works; -Path reads the brackets as a wildcard' {
        $folder = New-Folder literal
        $bracketed = Join-Path $folder 'a[1].csv'
        New-ImportFile $bracketed 'bracket' 1
        (Import-UsageRecord -LiteralPath $bracketed).Inserted | Should -Be 1
        $err = Get-SingleError { Import-UsageRecord -Path $bracketed }
        $err.FullyQualifiedErrorId | Should -BeLike 'PathNotFound,*'
    }

    It 'imports what Get-ChildItem pipes in, by exact name' {
        $folder = New-Folder piped
        New-ImportFile (Join-Path $folder 'b[2].csv') 'pipedb' 1
        New-ImportFile (Join-Path $folder 'c.csv') 'pipedc' 2
        $results = @(Get-ChildItem -LiteralPath $folder -Filter *.csv | Import-UsageRecord)
        ($results.Path | Sort-Object) | Should -Be @((Join-Path $folder 'b[2].csv'), (Join-Path $folder 'c.csv'))
        ($results.Inserted | Measure-Object -Sum).Sum | Should -Be 3
    }

    It 'refuses an empty -Path with InvalidPath' {
        $err = Get-SingleError { Import-UsageRecord -Path '' }
        # An empty string in a mandatory string[] is PowerShell's own binding error, before the command runs.
        $err.FullyQualifiedErrorId | Should -Match '^(InvalidPath|ParameterArgumentValidationErrorEmptyStringNotAllowed),'
    }
}

Describe 'Paths against PowerShell''s location' {
    It 'writes and reads relative paths in the current location, not the process''s directory' {
        $folder = New-Folder location
        Push-Location $folder
        try {
            $export = Export-Usage -Path ./relative.csv
            $report = Export-UsageReport -Path ./relative.html -Start 2026-01-01 -End 2026-01-31
            $import = Import-UsageRecord -Path ./relative.csv
            Connect-UsageStore -Path ./relative.db
            Disconnect-UsageStore
        }
        finally { Pop-Location }
        $export.FullName | Should -Be (Join-Path $folder 'relative.csv')
        $report.FullName | Should -Be (Join-Path $folder 'relative.html')
        $import.Path | Should -Be (Join-Path $folder 'relative.csv')
        Join-Path $folder 'relative.db' | Should -Exist
        @(Get-ChildItem -LiteralPath $elsewhere) | Should -BeNullOrEmpty
    }

    It 'writes to and reads from a PSDrive path' {
        $folder = New-Folder drive
        New-PSDrive -Name UsageFiles -PSProvider FileSystem -Root $folder | Out-Null
        try {
            $export = Export-Usage -Path 'UsageFiles:\drive.csv'
            $import = @(Import-UsageRecord -Path 'UsageFiles:\d*.csv')
            $literal = Export-Usage -LiteralPath 'UsageFiles:\literal.json'
        }
        finally { Remove-PSDrive -Name UsageFiles }
        $export.FullName | Should -Be (Join-Path $folder 'drive.csv')
        $import.Path | Should -Be @((Join-Path $folder 'drive.csv'))
        $literal.FullName | Should -Be (Join-Path $folder 'literal.json')
    }

    It 'refuses a path of another provider with InvalidPath' {
        $err = Get-SingleError { Export-Usage -Path 'Variable:\usage.csv' }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidPath,*'
    }

    It 'writes -LiteralPath with brackets as named, and resolves a -Path pattern to the one file it matches' {
        $folder = New-Folder writer
        $bracketed = Join-Path $folder 'x[1].csv'
        (Export-Usage -LiteralPath $bracketed).FullName | Should -Be $bracketed
        $one = Join-Path $folder 'only-one.csv'
        Set-Content -LiteralPath $one -Value 'old'
        (Export-Usage -Path (Join-Path $folder 'only-*.csv')).FullName | Should -Be $one
        (Get-Content -LiteralPath $one -TotalCount 1) | Should -BeLike 'EventId,*'
    }

    It 'refuses a writer''s -Path pattern that matches several files with InvalidPath, writing nothing' {
        $folder = New-Folder several
        Set-Content -LiteralPath (Join-Path $folder 'r1.csv'), (Join-Path $folder 'r2.csv') -Value 'old'
        $err = Get-SingleError { Export-Usage -Path (Join-Path $folder 'r*.csv') }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidPath,*'
        Get-Content -LiteralPath (Join-Path $folder 'r1.csv') | Should -Be 'old'
    }

    It 'connects to a SQLite file named with -LiteralPath' {
        $folder = New-Folder connect
        $file = Join-Path $folder 'store[1].db'
        Connect-UsageStore -LiteralPath $file
        try { (Get-UsageStore).Location | Should -Be $file }
        finally { Disconnect-UsageStore }
    }
}

Describe 'An empty -Path or -LiteralPath of a writer' {
    It '<Writer> -<Parameter> <Shown> is InvalidPath and writes nothing' -ForEach @(
        foreach ($command in 'Export-Usage', 'Export-UsageReport', 'Move-UsageRecord') {
            foreach ($parameter in 'Path', 'LiteralPath') {
                @{ Writer = $command; Parameter = $parameter; Value = ''; Shown = "''" }
                @{ Writer = $command; Parameter = $parameter; Value = $null; Shown = '$null' }
            }
        }
    ) {
        $before = @(Get-ChildItem -LiteralPath $env:BILLING_EXPORT_DIR -ErrorAction SilentlyContinue).Count
        $events = @(Get-UsageRecord -AllCustomers).Count
        $arguments = @{ $Parameter = $Value }
        if ($Writer -eq 'Move-UsageRecord') { $arguments['Confirm'] = $false; $arguments['OlderThanDays'] = 0 }
        $err = Get-SingleError { & $Writer @arguments }
        $err.FullyQualifiedErrorId | Should -BeLike "InvalidPath,*"
        "$($err.CategoryInfo.Category)" | Should -Be 'InvalidArgument'
        @(Get-ChildItem -LiteralPath $env:BILLING_EXPORT_DIR -ErrorAction SilentlyContinue).Count | Should -Be $before
        @(Get-UsageRecord -AllCustomers).Count | Should -Be $events
    }

    It 'Export-BillingInvoice -Path '''' is InvalidPath before the invoice is looked up' {
        $err = Get-SingleError { Export-BillingInvoice -InvoiceId inv_none -Path '' }
        $err.FullyQualifiedErrorId | Should -BeLike 'InvalidPath,*'
    }
}

Describe '-Encoding of the text exports' {
    It 'Export-Usage writes <Encoding> with the bytes <Expected>' -ForEach @(
        @{ Encoding = $null; Expected = '45-76' }                      # default utf8NoBOM: 'Ev' of EventId
        @{ Encoding = 'utf8'; Expected = '45-76' }
        @{ Encoding = 'utf8NoBOM'; Expected = '45-76' }
        @{ Encoding = 'utf8BOM'; Expected = 'EF-BB-BF-45' }
        @{ Encoding = 'unicode'; Expected = 'FF-FE-45-00' }
        @{ Encoding = 'bigendianunicode'; Expected = 'FE-FF-00-45' }
        @{ Encoding = 'utf32'; Expected = 'FF-FE-00-00-45-00-00-00' }
        @{ Encoding = 1252; Expected = '45-76' }
        @{ Encoding = [Text.UnicodeEncoding]::new($false, $true); Expected = 'FF-FE-45-00' }
    ) {
        $file = Join-Path (New-Folder encoding) 'usage.csv'
        $arguments = @{ LiteralPath = $file }
        if ($null -ne $Encoding) { $arguments['Encoding'] = $Encoding }
        Export-Usage @arguments | Out-Null
        $count = ($Expected -split '-').Count
        [BitConverter]::ToString((Get-Bytes $file $count)) | Should -Be $Expected
    }

    It 'writes the text itself in the encoding: UTF-16 reads back as the same rows, and Windows-1252 holds € in one byte' {
        $folder = New-Folder text
        $utf8 = Export-Usage -LiteralPath (Join-Path $folder 'utf8.csv')
        $utf16 = Export-Usage -LiteralPath (Join-Path $folder 'utf16.csv') -Encoding unicode
        $ansi = Export-Usage -LiteralPath (Join-Path $folder 'ansi.csv') -Encoding 1252
        [IO.File]::ReadAllText($utf16.FullName, [Text.Encoding]::Unicode).TrimStart([char]0xFEFF) | Should -BeExactly ([IO.File]::ReadAllText($utf8.FullName))
        [IO.File]::ReadAllBytes($ansi.FullName) | Should -Contain ([byte]0x80) # € in Windows-1252
        [IO.File]::ReadAllText($ansi.FullName, [Text.Encoding]::GetEncoding(1252)) | Should -BeExactly ([IO.File]::ReadAllText($utf8.FullName))
    }

    It 'encodes the text inside the compression with -Compress' {
        $file = (Export-Usage -LiteralPath (Join-Path (New-Folder gzip) 'usage.csv') -Encoding unicode -Compress).FullName
        $stream = [IO.Compression.GZipStream]::new([IO.File]::OpenRead($file), [IO.Compression.CompressionMode]::Decompress)
        try { $bytes = [byte[]]::new(4); $null = $stream.Read($bytes, 0, 4) } finally { $stream.Dispose() }
        [BitConverter]::ToString($bytes) | Should -Be 'FF-FE-45-00'
    }

    It 'Export-UsageReport writes <Encoding> and declares it in the page' -ForEach @(
        @{ Encoding = 'unicode'; Expected = 'FF-FE'; Charset = 'utf-16' }
        @{ Encoding = 'utf8BOM'; Expected = 'EF-BB'; Charset = 'utf-8' }
    ) {
        $file = (Export-UsageReport -LiteralPath (Join-Path (New-Folder report) 'r.html') -Start 2026-01-01 -End 2026-01-31 -Encoding $Encoding).FullName
        [BitConverter]::ToString((Get-Bytes $file 2)) | Should -Be $Expected
        Get-Content -LiteralPath $file -Raw | Should -Match "<meta charset=""$Charset"">"
    }

    It 'refuses an encoding it does not know, before anything is written' {
        $folder = New-Folder badencoding
        $err = Get-SingleError { Export-Usage -LiteralPath (Join-Path $folder 'x.csv') -Encoding 'klingon' }
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentTransformationError,*'
        @(Get-ChildItem -LiteralPath $folder) | Should -BeNullOrEmpty
    }

    It 'completes -Encoding with pwsh''s names' {
        $completions = (TabExpansion2 -inputScript 'Export-Usage -Encoding utf8' -cursorColumn 'Export-Usage -Encoding utf8'.Length).CompletionMatches.CompletionText
        $completions | Should -Contain 'utf8BOM'
        $completions | Should -Contain 'utf8NoBOM'
    }
}

Describe 'One -Force/-NoClobber rule for every writer' {
    It '<Writer> replaces a file, refuses it with -NoClobber, and replaces a read-only one only with -Force' -ForEach @(
        @{ Writer = 'Export-Usage'; Name = 'u.csv'; Extra = @{} }
        @{ Writer = 'Export-UsageReport'; Name = 'r.html'; Extra = @{ Start = '2026-01-01'; End = '2026-01-31' } }
    ) {
        $file = Join-Path (New-Folder clobber) $Name
        Set-Content -LiteralPath $file -Value 'old'
        & $Writer -LiteralPath $file @Extra | Out-Null
        Get-Content -LiteralPath $file -TotalCount 1 | Should -Not -Be 'old'

        Set-Content -LiteralPath $file -Value 'old'
        $err = Get-SingleError { & $Writer -LiteralPath $file -NoClobber @Extra }
        $err.FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $file | Should -Be 'old'

        Set-ItemProperty -LiteralPath $file -Name IsReadOnly -Value $true
        $err = Get-SingleError { & $Writer -LiteralPath $file @Extra }
        $err.FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $file | Should -Be 'old'
        & $Writer -LiteralPath $file -Force @Extra | Out-Null
        Get-Content -LiteralPath $file -TotalCount 1 | Should -Not -Be 'old'
    }

    It 'Move-UsageRecord never replaces a file it is named' {
        $file = Join-Path (New-Folder archive) 'archive.csv'
        Set-Content -LiteralPath $file -Value 'old'
        $err = Get-SingleError { Move-UsageRecord 0 -LiteralPath $file -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -BeLike 'FileExists,*'
        Get-Content -LiteralPath $file | Should -Be 'old'
    }
}
