#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, demonstrates, benchmarks and packages NSelf.Usage.
.DESCRIPTION
    One entry point. After Build, Import-Module ./NSelf.Usage.psd1 from the repository root
    loads the freshly built module (bin/ holds the cmdlets, bin/deps/ the engine and its
    private dependencies, en-US/ the generated help).
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Demo
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 Test
#>
[CmdletBinding()]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package', 'Help')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Test: run only these parts (default: all).
    [ValidateSet('Engine', 'Cmdlets', 'Pester')]
    [string[]] $Only
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Manifest = Import-PowerShellDataFile (Join-Path $Root 'NSelf.Usage.psd1')
$Version = $Manifest.ModuleVersion

function Invoke-Native {
    param([string] $File, [string[]] $Arguments)
    & $File @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

function Invoke-Build {
    $bin = Join-Path $Root 'bin'
    if (Test-Path $bin) { Remove-Item $bin -Recurse -Force }
    Write-Host "Building NSelf.Usage $Version ($Configuration)" -ForegroundColor Cyan
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage/NSelf.Usage.csproj'), '-c', $Configuration, '-o', $bin, '--nologo', '-v', 'quiet')
    Invoke-Native dotnet @('publish', (Join-Path $Root 'src/NSelf.Usage.Engine/NSelf.Usage.Engine.csproj'), '-c', $Configuration, '-o', (Join-Path $bin 'deps'), '--nologo', '-v', 'quiet')
    Invoke-Help
}

# Help is generated from docs/*.md (one page per command) into MAML, and the about_ topic into text.
function Invoke-Help {
    $helpScript = Join-Path $Root 'eng/New-ModuleHelp.ps1'
    if (Test-Path $helpScript) {
        & $helpScript -DocsPath (Join-Path $Root 'docs') -OutputPath (Join-Path $Root 'en-US') -ModuleName 'NSelf.Usage'
    }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Help' { Invoke-Help }
}
