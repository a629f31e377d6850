# Help quality: every exported command has complete help generated from docs/, and every
# documented example runs without an error against a seeded store and shows what its page's
# output block says it shows.
BeforeDiscovery {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $commands = (Import-PowerShellDataFile (Get-ModuleManifestPath)).CmdletsToExport
    $examples = @(Get-DocumentedExample)
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-ModuleManifestPath) -Force
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters
}

Describe 'Help of <_>' -ForEach $commands {
    BeforeAll {
        $help = Get-Help $_ -Full
        $command = Get-Command $_
    }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -BeLike "*$($command.Name)*[<]*"  # not the auto-generated syntax stub
        ($help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has at least one example with code' {
        @($help.Examples.Example).Count | Should -BeGreaterThan 0
        $help.Examples.Example[0].Code | Should -Not -BeNullOrEmpty
    }

    It 'describes every parameter' {
        foreach ($name in $command.Parameters.Keys | Where-Object { $_ -notin $common }) {
            $parameterHelp = $help.Parameters.Parameter | Where-Object Name -EQ $name
            $parameterHelp | Should -Not -BeNullOrEmpty -Because "-$name must be documented"
            ($parameterHelp.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$name needs a description"
        }
    }

    It 'declares its output types' {
        if ($command.Verb -notin 'Disconnect') {
            $command.OutputType | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Documented example' {
    It '<_.Command>: <_.Title> runs without errors and shows what its page states' -ForEach $examples {
        if ($_.Code -match 'BILLING_DB_' -and -not (Test-PostgresAvailable)) {
            Set-ItResult -Skipped -Because 'the example needs the PostgreSQL test server'
            return
        }
        $run = Invoke-DocumentedExample -Example $_
        $run.Errors | ForEach-Object { "$_ ($($_.FullyQualifiedErrorId))" } | Should -BeNullOrEmpty
        # What the page says the example shows (its output block: amounts, quantities, key fields)
        # is what it shows.
        if ($_.Expected) {
            Get-MissingOutputLine -Expected $_.Expected -Actual $run.Output | Should -BeNullOrEmpty -Because "the page documents these lines; the example showed:`n$($run.Output)"
        }
    }
}
