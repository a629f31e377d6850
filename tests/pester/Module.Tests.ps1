# Loading: the packaged module loads in a fresh pwsh, keeps its dependencies private, and keeps
# its state per runspace.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $manifest = Get-ModuleManifestPath
    $work = New-TestDirectory
    $packages = $env:NUGET_PACKAGES ? $env:NUGET_PACKAGES : (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages')
}

AfterAll {
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}

# The culture matrix (build.ps1 Test -Culture) is only worth its time if every suite and every pwsh
# it starts really runs in the named culture: checked here, so a platform where LC_ALL stops
# reaching .NET (invariant globalization, no ICU) fails the run instead of testing en-US four times.
Describe 'The session culture of the test run' {
    It 'is the culture build.ps1 named, here and in every pwsh the tests start' {
        $expected = Get-TestCulture
        [Globalization.CultureInfo]::CurrentCulture.Name | Should -Be $expected
        [Globalization.CultureInfo]::CurrentUICulture.Name | Should -Be $expected
        $lines = Invoke-Pwsh -Script @'
[Globalization.CultureInfo]::CurrentCulture.Name
[Globalization.CultureInfo]::CurrentUICulture.Name
[Globalization.CultureInfo]::CurrentCulture.NumberFormat.NumberDecimalSeparator
'@
        $lines | Should -Be @($expected, $expected, [Globalization.CultureInfo]::GetCultureInfo($expected).NumberFormat.NumberDecimalSeparator)
    }
}

Describe 'Importing NSelf.Usage' {
    It 'exports exactly the commands of the manifest, in a fresh pwsh' {
        $lines = Invoke-Pwsh -Script @"
Import-Module '$manifest' -ErrorAction Stop
(Get-Command -Module NSelf.Usage).Name | Sort-Object
"@
        $expected = (Import-PowerShellDataFile $manifest).CmdletsToExport | Sort-Object
        $lines | Should -Be $expected
    }

    It 'makes its types nameable in PowerShell' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'types.db') } -Script @"
Import-Module '$manifest' -ErrorAction Stop
Add-UsageApiRequest /types -CustomerId cus_types
`$record = Get-UsageRecord -CustomerId cus_types
`$record -is [NSelf.Usage.UsageRecord]
[NSelf.Usage.UsageSummary].FullName
"@
        $lines | Should -Be @('True', 'NSelf.Usage.UsageSummary')
    }

    It 'loads the engine and SQLite in a private load context, with the native SQLite library' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'alc.db') } -Script @"
Import-Module '$manifest' -ErrorAction Stop
Add-UsageApiRequest /alc -CustomerId cus_alc
`$context = [System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'NSelf.Usage.Engine'
(`$context.Assemblies.GetName().Name | Sort-Object) -join ','
[System.Runtime.Loader.AssemblyLoadContext]::Default.Assemblies.GetName().Name -contains 'Microsoft.Data.Sqlite'
"@
        $lines[0] | Should -Match 'Microsoft\.Data\.Sqlite'
        $lines[0] | Should -Match 'NSelf\.Usage\.Engine'
        $lines[0] | Should -Match 'SQLitePCLRaw\.core'
        $lines[1] | Should -Be 'False'
    }

    It 'works when another module already loaded older Npgsql and SQLite assemblies' {
        $npgsql = Join-Path $packages 'npgsql/8.0.3/lib/net8.0/Npgsql.dll'
        $logging = Join-Path $packages 'microsoft.extensions.logging.abstractions/8.0.0/lib/net8.0/Microsoft.Extensions.Logging.Abstractions.dll'
        $sqlite = Join-Path $packages 'microsoft.data.sqlite.core/8.0.30/lib/net8.0/Microsoft.Data.Sqlite.dll'
        $pcl = Join-Path $packages 'sqlitepclraw.core/2.1.11/lib/netstandard2.0/SQLitePCLRaw.core.dll'
        foreach ($file in $npgsql, $logging, $sqlite, $pcl) { $file | Should -Exist }
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'conflict.db') } -Script @"
Add-Type -Path '$logging', '$npgsql', '$pcl', '$sqlite'
# Use them, as the other module would, so they are really loaded in the default context.
`$null = [Npgsql.NpgsqlConnectionStringBuilder]::new('Host=elsewhere;Database=other')
`$null = [Microsoft.Data.Sqlite.SqliteConnectionStringBuilder]::new('Data Source=other.db')
Import-Module '$manifest' -ErrorAction Stop
Add-UsageApiRequest /conflict GET 200 -CustomerId cus_conflict
Add-UsageApiRequest /conflict GET 200 -CustomerId cus_conflict
(Get-Usage -CustomerId cus_conflict).Events
[Npgsql.NpgsqlConnection].Assembly.GetName().Version.Major
`$ours = ([System.Runtime.Loader.AssemblyLoadContext]::All | Where-Object Name -EQ 'NSelf.Usage.Engine').Assemblies | Where-Object { `$_.GetName().Name -eq 'Microsoft.Data.Sqlite' }
`$ours.GetName().Version.Major
"@
        $lines | Should -Be @('2', '8', '10')
    }

    It 'keeps state per runspace, so ForEach-Object -Parallel works' {
        $store = Join-Path $work 'parallel.db'
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = $store; NSELF_CUSTOMER_ID = $null } -Script @"
1..4 | ForEach-Object -ThrottleLimit 4 -Parallel {
    Import-Module '$manifest' -ErrorAction Stop
    Set-UsageConfiguration -CustomerId "cus_par`$_"
    foreach (`$i in 1..25) { Add-UsageApiRequest "/parallel/`$i" }
}
Import-Module '$manifest'
Get-Usage -AllCustomers | Sort-Object CustomerId | ForEach-Object { "`$(`$_.CustomerId)=`$(`$_.Events)" }
"@
        $lines | Should -Be @('cus_par1=25', 'cus_par2=25', 'cus_par3=25', 'cus_par4=25')
    }

    It 'can be removed and imported again in the same session' {
        $lines = Invoke-Pwsh -Environment @{ NSELF_USAGE_STORE = (Join-Path $work 'reimport.db') } -Script @"
Import-Module '$manifest'; Add-UsageApiRequest /a -CustomerId cus_re
Remove-Module NSelf.Usage
Import-Module '$manifest'; Add-UsageApiRequest /b -CustomerId cus_re
(Get-Usage -CustomerId cus_re).Events
"@
        $lines | Should -Be '2'
    }
}

Describe 'PowerShell citizenship' {
    BeforeAll {
        Import-Module $manifest -Force
        $env:NSELF_USAGE_STORE = Join-Path $work 'citizen.db'
        Add-UsageApiRequest /seed -CustomerId cus_citizen_a
        Add-UsageApiRequest /seed -CustomerId cus_citizen_b
    }
    AfterAll { Remove-Item Env:NSELF_USAGE_STORE }

    It 'loads its views with the first object a command writes, not at import' {
        # Decision 227: a script that only tracks never builds PowerShell's format table.
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$manifest'; Add-UsageApiRequest /views -CustomerId cus_citizen_a; " +
            "[bool](Get-FormatData -TypeName NSelf.Usage.UsageSummary); " +
            "`$null = Get-Usage -CustomerId cus_citizen_a; [bool](Get-FormatData -TypeName NSelf.Usage.UsageSummary); " +
            "(Get-UsageRecord -CustomerId cus_citizen_a -First 1).MetadataObject.endpoint"
        $output = & $pwsh.Path @($pwsh.Arguments) -Command $script 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$output"
        $output | Should -Be @('False', 'True', '/seed')
    }

    It 'has a default view for every type it emits' {
        $null = Get-Usage -CustomerId cus_citizen_a
        $types = Get-Command -Module NSelf.Usage | ForEach-Object OutputType | ForEach-Object Name | Where-Object { $_ -like 'NSelf.Usage.*' } | Sort-Object -Unique
        $types | Should -Not -BeNullOrEmpty
        foreach ($type in $types) { Get-FormatData -TypeName $type | Should -Not -BeNullOrEmpty -Because "$type needs a view" }
    }

    It 'supports -WhatIf on every command that writes' {
        $writers = Get-Command -Module NSelf.Usage | Where-Object { $_.Verb -in 'Add', 'Set', 'New', 'Remove', 'Register', 'Initialize', 'Enable', 'Disable', 'Grant', 'Revoke' }
        foreach ($command in $writers) { $command.Parameters.Keys | Should -Contain 'WhatIf' -Because "$($command.Name) writes" }
    }

    It 'completes services and customers from the store' {
        $line = 'Add-UsageRecord -Service ba'
        $services = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $services | Should -Be 'bandwidth'
        $line = 'Get-Usage -CustomerId cus_citizen_'
        $customers = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $customers | Should -Be @('cus_citizen_a', 'cus_citizen_b')
    }
}
